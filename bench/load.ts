/** Shared load-generator plumbing: clients for seeded users, paced sending, waiting for delivery. */
import { BenchClient, connectAll, type Tally } from "./client.ts";
import type { ServerProc } from "./procs.ts";
import type { SeededUser } from "./seed.ts";
import { cpuSeconds, nowMs, sleep } from "./stats.ts";

/** What the room and DM scenarios both report. */
export interface LoadResult {
  sent: number;
  acked: number;
  delivered: number;
  lost: number;
  doubled: number;
  errors: Record<string, number>;
  /** Send → receipt at another client. */
  latency: ReturnType<Tally["latency"]["summary"]>;
  /** Send → durable ack. */
  ack: ReturnType<Tally["latency"]["summary"]>;
  serverCpuS: number;
  loadgenCpuS: number;
  wallS: number;
  /** Server CPU microseconds per delivered message. */
  cpuPerDeliveredUs: number;
}

/** A scenario's counts, its tally and the CPU used while measuring, as one LoadResult. */
export function loadResult(
  counts: { sent: number; acked: number; delivered: number; lost: number },
  tally: Tally,
  cpu: ReturnType<ReturnType<typeof cpuMeter>>,
): LoadResult {
  return {
    ...counts,
    doubled: tally.doubled,
    errors: Object.fromEntries(tally.errors),
    latency: tally.latency.summary(),
    ack: tally.ackLatency.summary(),
    serverCpuS: cpu.server,
    loadgenCpuS: cpu.loadgen,
    wallS: cpu.wallMs / 1000,
    cpuPerDeliveredUs: (cpu.server / counts.delivered) * 1e6,
  };
}

/** One client per user (a real session cookie); for the reference server, `count` anonymous ones. */
export function makeClients(
  server: ServerProc,
  tally: Tally,
  users: SeededUser[] | number,
): BenchClient[] {
  const url = `ws://127.0.0.1:${server.port}/ws`;
  if (typeof users === "number") {
    return Array.from(
      { length: users },
      (_, i) => new BenchClient(url, { origin: server.origin }, tally, i),
    );
  }
  return users.map((u, i) =>
    new BenchClient(url, { origin: server.origin, cookie: `hc_session=${u.token}` }, tally, i)
  );
}

/** Connects all clients or throws with how many failed. */
export async function connectOrThrow(clients: BenchClient[], concurrency = 100): Promise<void> {
  const r = await connectAll(clients, concurrency);
  if (r.failed) {
    throw new Error(`${r.failed} of ${clients.length} clients failed to connect: ${r.firstError}`);
  }
}

/** Calls fn(i) for i in 0..count-1 at `perSec` a second from now; resolves after the last call. */
export async function paced(count: number, perSec: number, fn: (i: number) => void): Promise<void> {
  const t0 = nowMs();
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1000) / perSec;
    const wait = due - nowMs();
    if (wait > 1) await sleep(wait);
    fn(i);
  }
}

/** Polls `done` every 20 ms until true or the deadline; returns the ms waited, or null on timeout. */
export async function waitUntil(done: () => boolean, timeoutMs: number): Promise<number | null> {
  const t0 = nowMs();
  while (!done()) {
    if (nowMs() - t0 > timeoutMs) return null;
    await sleep(20);
  }
  return nowMs() - t0;
}

/** How many messages in (from, from+count] the client lacks in a conversation. */
export function missing(c: BenchClient, conv: string, from: number, count: number): number {
  const seen = c.seen.get(conv);
  let have = 0;
  if (seen) { for (const s of seen) if (s > from && s <= from + count) have++; }
  return count - have;
}

export async function closeAll(clients: BenchClient[]): Promise<void> {
  for (let i = 0; i < clients.length; i += 500) {
    await Promise.all(clients.slice(i, i + 500).map((c) => c.close()));
  }
}

/** Server and load-generator CPU seconds over a phase. */
export function cpuMeter(server: ServerProc) {
  const s0 = server.cpu(), l0 = cpuSeconds("self"), t0 = nowMs();
  return () => ({
    server: server.cpu() - s0,
    loadgen: cpuSeconds("self") - l0,
    wallMs: nowMs() - t0,
  });
}
