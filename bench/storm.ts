/**
 * Reconnect storm: members of one group drop, messages are sent meanwhile, and all reconnect at
 * once resuming from the last seq they saw. Every client must end with every message exactly once.
 */
import { connectAll, Tally } from "./client.ts";
import { closeAll, connectOrThrow, makeClients, paced, waitUntil } from "./load.ts";
import type { ServerProc } from "./procs.ts";
import type { SeededUser } from "./seed.ts";
import { cpuSeconds, Latencies, nowMs, sleep } from "./stats.ts";

export interface StormResult {
  clients: number;
  sent: number;
  acked: number;
  /** Clients that did not have every message when the wait ended. */
  incomplete: number;
  lost: number;
  doubled: number;
  failedConnectAttempts: number;
  neverReconnected: number;
  /** From the start of the reconnect storm until the last client had every message (null: never). */
  allCompleteMs: number | null;
  /** Per client: storm start → that client has every message. */
  perClient: ReturnType<Latencies["summary"]>;
  /** Per client: storm start → its hello answered ("resumed"; the replay comes before it). */
  resumed: ReturnType<Latencies["summary"]>;
  serverCpuS: number;
  loadgenCpuS: number;
  /** Message frames the dropped clients received after reconnecting. */
  frames: number;
}

export async function runStorm(
  server: ServerProc,
  opts: {
    conv: string;
    droppers: SeededUser[];
    senders: SeededUser[];
    messages: number;
    waitMs: number;
  },
): Promise<StormResult> {
  const tally = new Tally();
  const all = makeClients(server, tally, [...opts.senders, ...opts.droppers]);
  const senders = all.slice(0, opts.senders.length);
  const droppers = all.slice(opts.senders.length);
  await connectOrThrow(all);
  await sleep(1000);
  await closeAll(droppers);
  const cpu0 = server.cpu(), lg0 = cpuSeconds("self"), received0 = tally.received;
  const base = droppers.map((c) => c.seen.get(opts.conv)?.size ?? 0);
  const doneAt = new Array<number | null>(droppers.length).fill(null);
  let stormAt = 0;
  const storm: { connect?: ReturnType<typeof connectAll> } = {};
  // Messages go out over about a second; halfway through, every dropped client reconnects at once.
  const sending = paced(opts.messages, opts.messages, (i) => {
    senders[i % senders.length].send(opts.conv);
    if (i === Math.floor(opts.messages / 2)) {
      stormAt = nowMs();
      storm.connect = connectAll(droppers, droppers.length, 5);
    }
  });
  await sending;
  await waitUntil(() => senders.every((s) => s.unacked === 0), 10_000);
  const acked = senders.reduce((n, s) => n + (s.acked.get(opts.conv) ?? 0), 0);
  const have = (i: number) => (droppers[i].seen.get(opts.conv)?.size ?? 0) - base[i];
  const allDone = await waitUntil(() => {
    const t = nowMs();
    let done = true;
    for (let i = 0; i < droppers.length; i++) {
      if (doneAt[i] === null && have(i) >= acked) doneAt[i] = t - stormAt;
      if (doneAt[i] === null) done = false;
    }
    return done;
  }, opts.waitMs);
  const conn = await storm.connect!;
  const serverCpuS = server.cpu() - cpu0;
  const loadgenCpuS = cpuSeconds("self") - lg0;
  const frames = tally.received - received0;
  const perClient = new Latencies();
  for (const d of doneAt) if (d !== null) perClient.add(d);
  const resumed = new Latencies();
  for (const c of droppers) if (c.readyAt >= stormAt) resumed.add(c.readyAt - stormAt);
  const lost = droppers.reduce((n, _c, i) => n + Math.max(0, acked - have(i)), 0);
  await closeAll(all);
  return {
    clients: droppers.length,
    sent: opts.messages,
    acked,
    incomplete: doneAt.filter((d) => d === null).length,
    lost,
    doubled: tally.doubled,
    failedConnectAttempts: conn.failedAttempts,
    neverReconnected: conn.failed,
    allCompleteMs: allDone === null ? null : Math.max(...doneAt.map((d) => d ?? 0)),
    perClient: perClient.summary(),
    resumed: resumed.summary(),
    serverCpuS,
    loadgenCpuS,
    frames,
  };
}
