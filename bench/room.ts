/**
 * Room fan-out: every member of one group connected, messages sent at a fixed rate spread over
 * several members (the per-user send limit is 10/s), each delivered to every member.
 */
import { Tally } from "./client.ts";
import {
  closeAll,
  connectOrThrow,
  cpuMeter,
  type LoadResult,
  loadResult,
  makeClients,
  missing,
  paced,
  waitUntil,
} from "./load.ts";
import type { ServerProc } from "./procs.ts";
import type { SeededUser } from "./seed.ts";
import { nowMs, sleep } from "./stats.ts";

export interface RoomResult extends LoadResult {
  members: number;
}

export async function runRoom(
  server: ServerProc,
  opts: {
    conv: string;
    users: SeededUser[] | number;
    rate: number;
    seconds: number;
    senders: number;
  },
): Promise<RoomResult> {
  const tally = new Tally();
  const clients = makeClients(server, tally, opts.users);
  await connectOrThrow(clients);
  await sleep(1000);
  const from = new Map(clients.map((c) => [c, c.last.get(opts.conv) ?? 0]));
  const total = Math.round(opts.rate * opts.seconds);
  const senders = clients.slice(0, Math.min(opts.senders, clients.length));
  tally.measureFrom = nowMs();
  const received0 = tally.received;
  const meter = cpuMeter(server);
  await paced(total, opts.rate, (i) => senders[i % senders.length].send(opts.conv));
  await waitUntil(() => senders.every((s) => s.unacked === 0), 10_000);
  const acked = senders.reduce((n, s) => n + (s.acked.get(opts.conv) ?? 0), 0);
  await waitUntil(
    () => clients.every((c) => missing(c, opts.conv, from.get(c)!, acked) === 0),
    10_000,
  );
  const cpu = meter();
  const delivered = tally.received - received0;
  const lost = clients.reduce((n, c) => n + missing(c, opts.conv, from.get(c)!, acked), 0);
  await closeAll(clients);
  return {
    members: clients.length,
    ...loadResult({ sent: total, acked, delivered, lost }, tally, cpu),
  };
}
