/** DM pairs: users in one-to-one conversations, each sending at a fixed rate to their peer. */
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

export interface DmResult extends LoadResult {
  users: number;
}

/** users[2i] and users[2i+1] share dms[i]; each user sends `perUserPerSec` for `seconds`. */
export async function runDm(
  server: ServerProc,
  opts: { users: SeededUser[]; dms: string[]; perUserPerSec: number; seconds: number },
): Promise<DmResult> {
  const tally = new Tally();
  const clients = makeClients(server, tally, opts.users);
  await connectOrThrow(clients);
  await sleep(1000);
  const convOf = (i: number) => opts.dms[Math.floor(i / 2)];
  const from = clients.map((c, i) => c.last.get(convOf(i)) ?? 0);
  const n = clients.length;
  const total = Math.round(n * opts.perUserPerSec * opts.seconds);
  tally.measureFrom = nowMs();
  const received0 = tally.received;
  const meter = cpuMeter(server);
  // Client i sends at offsets i/n of each period, so the aggregate rate is even.
  await paced(total, n * opts.perUserPerSec, (k) => clients[k % n].send(convOf(k % n)));
  await waitUntil(() => clients.every((c) => c.unacked === 0), 10_000);
  const ackedIn = (i: number) =>
    (clients[i].acked.get(convOf(i)) ?? 0) + (clients[i ^ 1]?.acked.get(convOf(i)) ?? 0);
  const lostOf = () =>
    clients.reduce((s, c, i) => s + missing(c, convOf(i), from[i], ackedIn(i)), 0);
  await waitUntil(() => lostOf() === 0, 10_000);
  const cpu = meter();
  const delivered = tally.received - received0;
  const lost = lostOf();
  const acked = clients.reduce((s, c) => s + [...c.acked.values()].reduce((a, b) => a + b, 0), 0);
  await closeAll(clients);
  return { users: n, ...loadResult({ sent: total, acked, delivered, lost }, tally, cpu) };
}

/** One step of the DM capacity search: the total send rate and how the server held it. */
export interface DmStep {
  /** Messages a second, all users together. */
  rate: number;
  p99: number;
  lost: number;
  doubled: number;
  errors: number;
  held: boolean;
  /** CPU cores the server and the load generator used over the step (absent in older results). */
  serverCores?: number;
  loadgenCores?: number;
}

export interface DmCapacity {
  users: number;
  steps: DmStep[];
  /** The highest total rate held (p99 ≤ 50 ms, nothing lost, doubled or refused); 0 if none. */
  capacity: number;
  /** Every step was held: the capacity is at least the top step, the search found no limit. */
  atTop: boolean;
}

/** DM capacity: the DM load at rising total rates, `seconds` each, until one is not held. */
export async function runDmCapacity(
  server: ServerProc,
  opts: { users: SeededUser[]; dms: string[]; rates: number[]; seconds: number },
): Promise<DmCapacity> {
  const steps: DmStep[] = [];
  let capacity = 0;
  for (const rate of opts.rates) {
    const r = await runDm(server, {
      users: opts.users,
      dms: opts.dms,
      perUserPerSec: rate / opts.users.length,
      seconds: opts.seconds,
    });
    const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
    const held = r.latency.p99 <= 50 && r.lost === 0 && r.doubled === 0 && errors === 0 &&
      r.acked === r.sent;
    steps.push({
      rate,
      p99: r.latency.p99,
      lost: r.lost,
      doubled: r.doubled,
      errors,
      held,
      serverCores: r.serverCpuS / r.wallS,
      loadgenCores: r.loadgenCpuS / r.wallS,
    });
    if (!held) break;
    capacity = rate;
  }
  return {
    users: opts.users.length,
    steps,
    capacity,
    atTop: steps.length === opts.rates.length && steps.every((s) => s.held),
  };
}
