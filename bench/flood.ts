/**
 * Connection flood (issue 7): attacker processes hold many idle and trickling TCP connections
 * from many addresses while /healthz is asked on a new connection every 200 ms; then they go and
 * /healthz is asked again. Reports whether the server stayed up, /healthz latency during and
 * after, server RSS, and what the connection guard did (from /metrics).
 */
import type { ServerProc } from "./procs.ts";
import { Latencies, sleep } from "./stats.ts";

export interface FloodResult {
  connections: number;
  attackersOpenPeak: number;
  healthDuring: ReturnType<Latencies["summary"]> & { failed: number };
  /** Why probes failed during the flood: the error's name and message, and when (ms into it). */
  failures?: string[];
  /** Probes over 250 ms during the flood: how long, and when (ms into it). */
  slow?: string[];
  /** The kernel's TcpExtListenOverflows + ListenDrops during the flood (handshakes it dropped). */
  listenOverflows?: number;
  healthAfter: ReturnType<Latencies["summary"]> & { failed: number };
  rssBeforeMiB: number;
  rssPeakMiB: number;
  rssAfterMiB: number;
  alive: boolean;
  guard: Record<string, number>;
}

/** GET /healthz on a fresh connection; ms, or NaN when it failed or took over 5 s. */
async function health(port: number, why?: (err: string) => void): Promise<number> {
  const t0 = performance.now();
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
      signal: AbortSignal.timeout(5000),
      headers: { Connection: "close" },
      client: Deno.createHttpClient({ poolMaxIdlePerHost: 0 }),
    } as RequestInit);
    await res.body?.cancel();
    if (!res.ok) why?.(`status ${res.status}`);
    return res.ok ? performance.now() - t0 : NaN;
  } catch (err) {
    const e = err as Error;
    why?.(
      `${e.name}: ${String(e.message).split("\n")[0]} after ${
        Math.round(performance.now() - t0)
      } ms`,
    );
    return NaN;
  }
}

/** The kernel's count of handshakes a listener dropped (accept queue full), all sockets. */
async function listenOverflows(): Promise<number | undefined> {
  try {
    const text = await Deno.readTextFile("/proc/net/netstat");
    const lines = text.split("\n").filter((l) => l.startsWith("TcpExt:"));
    const names = lines[0].split(/\s+/), values = lines[1].split(/\s+/).map(Number);
    return values[names.indexOf("ListenOverflows")] + values[names.indexOf("ListenDrops")];
  } catch {
    return undefined;
  }
}

async function guardCounters(server: ServerProc): Promise<Record<string, number>> {
  try {
    const text = await (await fetch(`${server.origin}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const line of text.split("\n")) {
      const m = line.match(/^happychat_guard_(\w+?)(?:_total)?(?:\{reason="(\w+)"\})? (\d+)$/);
      if (m) out[m[2] ? `${m[1]}.${m[2]}` : m[1]] = Number(m[3]);
    }
    return out;
  } catch {
    return {};
  }
}

export async function runFlood(
  server: ServerProc,
  opts: { connections: number; perProcess: number; perAddress: number; seconds: number },
): Promise<FloodResult> {
  const rssBefore = server.rss();
  const overflowsBefore = await listenOverflows();
  const failures: string[] = [];
  const slow: string[] = [];
  const t0 = Date.now();
  const procs: Deno.ChildProcess[] = [];
  const open = new Map<number, number>();
  for (let i = 0, first = 0; i < opts.connections; i += opts.perProcess) {
    const n = Math.min(opts.perProcess, opts.connections - i);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "bench/flood_client.ts",
        String(server.port),
        String(n),
        String(opts.perAddress),
        String(first),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    first += Math.ceil(n / opts.perAddress);
    procs.push(child);
    const id = procs.length;
    (async () => {
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        const m = chunk.trim().split("\n").at(-1)?.match(/open (\d+)/);
        if (m) open.set(id, Number(m[1]));
      }
    })();
  }
  const during = new Latencies();
  let failedDuring = 0, peak = 0, rssPeak = rssBefore;
  const until = Date.now() + opts.seconds * 1000;
  while (Date.now() < until) {
    const at = Date.now() - t0;
    const ms = await health(server.port, (why) => failures.push(`${why} (${at} ms in)`));
    if (Number.isNaN(ms)) failedDuring++;
    else during.add(ms);
    if (ms > 250) slow.push(`${Math.round(ms)} ms at ${at} ms`);
    peak = Math.max(peak, [...open.values()].reduce((a, b) => a + b, 0));
    rssPeak = Math.max(rssPeak, server.rss());
    await sleep(200);
  }
  const guard = await guardCounters(server);
  const overflowsAfter = await listenOverflows();
  for (const p of procs) await p.stdin.close();
  await Promise.all(procs.map((p) => p.status));
  await sleep(2000);
  const after = new Latencies();
  let failedAfter = 0;
  for (let i = 0; i < 20; i++) {
    const ms = await health(server.port);
    if (Number.isNaN(ms)) failedAfter++;
    else after.add(ms);
    await sleep(100);
  }
  let alive = true;
  try {
    Deno.readTextFileSync(`/proc/${server.pid}/status`);
  } catch {
    alive = false;
  }
  return {
    connections: opts.connections,
    attackersOpenPeak: peak,
    healthDuring: { ...during.summary(), failed: failedDuring },
    failures,
    slow,
    listenOverflows: overflowsBefore === undefined || overflowsAfter === undefined
      ? undefined
      : overflowsAfter - overflowsBefore,
    healthAfter: { ...after.summary(), failed: failedAfter },
    rssBeforeMiB: rssBefore / 2 ** 20,
    rssPeakMiB: rssPeak / 2 ** 20,
    rssAfterMiB: server.rss() / 2 ** 20,
    alive,
    guard,
  };
}
