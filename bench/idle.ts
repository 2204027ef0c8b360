/** Idle connections: how much server memory one logged-in, said-hello, idle socket costs. */
import { Tally } from "./client.ts";
import { closeAll, connectOrThrow, makeClients } from "./load.ts";
import type { ServerProc } from "./procs.ts";
import type { SeededUser } from "./seed.ts";
import { nowMs, rssBytes, sleep } from "./stats.ts";

export interface IdleResult {
  connections: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  /** (RSS with every connection open − RSS before) / connections. */
  perConnKiB: number;
  connectSeconds: number;
  loadgenPerConnKiB: number;
  serverCpuS: number;
}

/** RSS once the process has been quiet for 3 s. */
async function settledRss(read: () => number): Promise<number> {
  await sleep(3000);
  return read();
}

export async function runIdle(
  server: ServerProc,
  users: SeededUser[] | number,
): Promise<IdleResult> {
  const tally = new Tally();
  const clients = makeClients(server, tally, users);
  const before = await settledRss(server.rss);
  const lg0 = rssBytes("self");
  const cpu0 = server.cpu();
  const t0 = nowMs();
  await connectOrThrow(clients, 200);
  const connectSeconds = (nowMs() - t0) / 1000;
  const after = await settledRss(server.rss);
  const lg1 = rssBytes("self");
  const open = clients.filter((c) => !c.closed).length;
  const serverCpuS = server.cpu() - cpu0;
  await closeAll(clients);
  return {
    connections: open,
    rssBeforeMiB: before / 2 ** 20,
    rssAfterMiB: after / 2 ** 20,
    perConnKiB: (after - before) / open / 1024,
    connectSeconds,
    loadgenPerConnKiB: (lg1 - lg0) / open / 1024,
    serverCpuS,
  };
}
