/** Small measurement helpers for the benchmark: percentiles, process CPU/RSS from /proc, machine info. */

/** The p-th percentile (0–100) of the values, nearest-rank; NaN when empty. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** A latency sample set (milliseconds). */
export class Latencies {
  values: number[] = [];
  add(ms: number): void {
    this.values.push(ms);
  }
  summary(): { n: number; p50: number; p90: number; p99: number; max: number } {
    const s = [...this.values].sort((a, b) => a - b);
    return {
      n: s.length,
      p50: percentile(s, 50),
      p90: percentile(s, 90),
      p99: percentile(s, 99),
      max: s.at(-1) ?? NaN,
    };
  }
}

const CLK_TCK = 100;

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number | "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the ")" that ends the command name; utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
}

/** Resident memory of a process in bytes, from /proc/<pid>/status VmRSS. */
export function rssBytes(pid: number | "self"): number {
  const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Monotonic wall-clock milliseconds comparable across isolates of one process. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** nproc, CPU model and RAM of this machine. */
export function machineInfo(): { nproc: number; cpu: string; ramGiB: number; kernel: string } {
  const cpuinfo = Deno.readTextFileSync("/proc/cpuinfo");
  const cpu = cpuinfo.match(/model name\s*:\s*(.+)/)?.[1].trim() ?? "unknown";
  const mem = Deno.readTextFileSync("/proc/meminfo").match(/MemTotal:\s+(\d+) kB/);
  const kernel = Deno.readTextFileSync("/proc/sys/kernel/osrelease").trim();
  return {
    nproc: navigator.hardwareConcurrency,
    cpu,
    ramGiB: mem ? Number(mem[1]) / 1024 / 1024 : NaN,
    kernel,
  };
}

export function fmt(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return "n/a";
  return n.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

/** Busy CPU seconds of the whole machine so far (every core), from /proc/stat. */
export function machineBusySeconds(): number {
  const f = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1).map(
    Number,
  );
  // user nice system idle iowait irq softirq steal
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - f[3] - f[4]) / CLK_TCK;
}

/**
 * CPU used by processes other than the server under test and this load generator: other work on
 * the machine skews the numbers, so every scenario reports it.
 */
export function otherCpuMeter(serverCpu: () => number) {
  const m0 = machineBusySeconds(), s0 = serverCpu(), l0 = cpuSeconds("self"), t0 = nowMs();
  return () => {
    const wall = (nowMs() - t0) / 1000;
    const other = machineBusySeconds() - m0 - (serverCpu() - s0) - (cpuSeconds("self") - l0);
    return { otherCores: Math.max(0, other) / wall };
  };
}

/** Waits (at most `maxMs`) until other processes use less than `cores` CPU; returns what they used last. */
export async function waitForQuiet(cores = 0.25, maxMs = 30_000): Promise<number> {
  const until = nowMs() + maxMs;
  for (;;) {
    const m0 = machineBusySeconds(), l0 = cpuSeconds("self");
    await sleep(1000);
    const other = machineBusySeconds() - m0 - (cpuSeconds("self") - l0);
    if (other < cores || nowMs() > until) return Math.max(0, other);
  }
}
