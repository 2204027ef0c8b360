/**
 * The connection guard in threads of its own: `threads` workers (lib/http/guard/guard_worker.ts),
 * each accepting on its own listener of the public port (SO_REUSEPORT: the kernel spreads new
 * connections over them) and relaying to Deno.serve in the app's thread. The app's thread keeps
 * only what it asks per request: which client a relayed connection is for, read synchronously from
 * a table the guard threads share with it (./clients.ts).
 *
 * Why threads: a flood's connections arrive faster than one event loop accepts them when the
 * flood has the CPU too; the kernel's accept queue fills, and a real client's handshake waits
 * behind thousands or is dropped and retried a second later. Several accept loops drain it in
 * parallel, and the relay's byte copying leaves the app's thread (docs/architecture.md (f)).
 */
import { ClientTable } from "./clients.ts";
import type { GuardLimits, GuardStats } from "./limits.ts";
import { DEFAULT_GUARD_LIMITS, noStats } from "./limits.ts";
import { getLogLevel, type Level, log, passLine } from "../../log.ts";

type Upstream = { hostname: string; port: number };

/** What the app's thread says to a guard thread. */
export type ToGuardThread =
  | {
    type: "start";
    owner: number;
    limits: GuardLimits;
    listen: { hostname: string; port: number; reusePort: boolean };
    upstream: Upstream;
    table: SharedArrayBuffer;
    logLevel: Level;
  }
  | { type: "upstream"; upstream: Upstream }
  | { type: "release"; port: number }
  | { type: "stats" }
  | { type: "stop" }
  | { type: "close" };

/** What a guard thread says back. */
type FromGuardThread =
  | { type: "listening"; addr: Upstream }
  | { type: "failed"; name: string; message: string }
  | { type: "stats"; stats: GuardStats | null }
  | { type: "stopped" }
  | { type: "closed" }
  | { type: "log"; line: string; level: Level };

/** The guard threads' default number: several where the kernel spreads a port's connections. */
export function defaultGuardThreads(): number {
  return Deno.build.os === "linux" ? 4 : 1;
}

/** One thread's share of a limit that is counted per thread. */
function share(n: number, threads: number): number {
  return Math.max(1, Math.ceil(n / threads));
}

interface Thread {
  worker: Worker;
  /** Replies awaited, by message type (a thread answers its messages in order). */
  waiting: Map<string, ((m: FromGuardThread) => void)[]>;
}

export class GuardPool {
  /** The limits for the whole process; each thread holds its share of the counted ones. */
  readonly limits: GuardLimits;
  readonly #table = new ClientTable();
  readonly #threads: Thread[] = [];
  #upstream: Upstream = { hostname: "127.0.0.1", port: 0 };
  #stopped = false;
  /** The public port, once listening. */
  #port = 0;

  constructor(limits: Partial<GuardLimits> = {}, readonly threads = defaultGuardThreads()) {
    this.limits = { ...DEFAULT_GUARD_LIMITS, ...limits };
  }

  /** Where to relay to: Deno.serve's loopback address (it may change if it had to restart). */
  setUpstream(upstream: Upstream): void {
    this.#upstream = upstream;
    for (const t of this.#threads) t.worker.postMessage({ type: "upstream", upstream });
  }

  /**
   * Starts the threads on the public address; resolves with the address once all listen. Throws
   * what Deno.listen threw in the first (AddrInUse, PermissionDenied, ...).
   */
  async listen(
    opts: { hostname: string; port: number; reusePort?: boolean },
  ): Promise<Deno.NetAddr> {
    const reusePort = this.threads > 1 || !!opts.reusePort;
    const limits = {
      ...this.limits,
      maxTotal: share(this.limits.maxTotal, this.threads),
      maxPerAddress: share(this.limits.maxPerAddress, this.threads),
    };
    let port = opts.port;
    for (let owner = 0; owner < this.threads; owner++) {
      // The first one learns the port when it is 0; the others share it.
      const addr = await this.#start(owner, limits, { hostname: opts.hostname, port, reusePort });
      port = this.#port = addr.port;
    }
    return { transport: "tcp", hostname: opts.hostname, port };
  }

  async #start(
    owner: number,
    limits: GuardLimits,
    listen: { hostname: string; port: number; reusePort: boolean },
  ): Promise<Upstream> {
    const worker = new Worker(new URL("./guard_worker.ts", import.meta.url), {
      type: "module",
      name: `guard-${owner}`,
    });
    const thread: Thread = { worker, waiting: new Map() };
    worker.onmessage = (e: MessageEvent<FromGuardThread>) => this.#heard(thread, e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      log.error("guard.thread_failed", { owner, err: e.message, hint: "starting it again" });
      worker.terminate();
      // Its clients are gone with it; whoever waits for an answer from it gets one.
      for (const queue of thread.waiting.values()) {
        for (const waiter of queue.splice(0)) {
          waiter({ type: "failed", name: "Error", message: e.message });
        }
      }
      if (this.#threads[owner] !== thread || this.#stopped) return;
      const again = () =>
        this.#start(owner, limits, { ...listen, port: this.#port, reusePort: true }).catch(
          (err) => {
            log.warn("guard.restart_failed", { owner, err });
            if (!this.#stopped) setTimeout(again, 250);
          },
        );
      setTimeout(again, 250);
    };
    worker.postMessage(
      {
        type: "start",
        owner,
        limits,
        listen,
        upstream: this.#upstream,
        table: this.#table.buffer,
        logLevel: getLogLevel(),
      } satisfies ToGuardThread,
    );
    const m = await this.#reply(thread, ["listening", "failed"]);
    if (m.type === "failed") {
      worker.terminate();
      const Kind = (Deno.errors as unknown as Record<string, new (msg: string) => Error>)[m.name] ??
        Error;
      throw new Kind(m.message);
    }
    this.#threads[owner] = thread;
    return (m as { addr: Upstream }).addr;
  }

  #heard(thread: Thread, m: FromGuardThread): void {
    if (m.type === "log") return passLine(m.line, m.level);
    const queue = thread.waiting.get(m.type);
    const next = queue?.shift();
    if (next) return next(m);
  }

  #reply(thread: Thread, types: FromGuardThread["type"][]): Promise<FromGuardThread> {
    return new Promise((resolve) => {
      const once = (m: FromGuardThread) => {
        // Whichever type came first answers; the other waiter goes.
        for (const t of types) {
          const q = thread.waiting.get(t);
          const i = q?.indexOf(once) ?? -1;
          if (q && i >= 0) q.splice(i, 1);
        }
        resolve(m);
      };
      for (const t of types) {
        const q = thread.waiting.get(t) ?? [];
        q.push(once);
        thread.waiting.set(t, q);
      }
    });
  }

  /** The client address behind a connection a guard thread opened to Deno.serve (its local port). */
  clientOf(upstreamPort: number): string | null {
    return this.#table.get(upstreamPort)?.addr ?? null;
  }

  /** Cuts the client connection behind a relay (the app asks when a socket will not close). */
  release(upstreamPort: number): void {
    const owner = this.#table.get(upstreamPort)?.owner;
    if (owner === undefined) return;
    this.#threads[owner]?.worker.postMessage({ type: "release", port: upstreamPort });
  }

  /** The threads' counters, summed. */
  async stats(): Promise<GuardStats> {
    const all = await Promise.all(this.#threads.map((t) => {
      const answer = this.#reply(t, ["stats"]);
      t.worker.postMessage({ type: "stats" } satisfies ToGuardThread);
      return answer;
    }));
    const sum = noStats();
    for (const m of all) {
      const s = (m as { stats: GuardStats | null }).stats;
      if (!s) continue;
      sum.open += s.open;
      sum.maxTotal += s.maxTotal;
      sum.accepted += s.accepted;
      sum.acceptErrors += s.acceptErrors;
      for (const [k, n] of Object.entries(s.refused)) addTo(sum.refused, k, n);
      for (const [k, n] of Object.entries(s.closed)) addTo(sum.closed, k, n);
    }
    return sum;
  }

  /** Stops accepting; open connections stay until `closeAll`. */
  async stopAccepting(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#threads.map((t) => {
      const done = this.#reply(t, ["stopped"]);
      t.worker.postMessage({ type: "stop" } satisfies ToGuardThread);
      return done;
    }));
  }

  /** Closes every connection and ends the threads. */
  async closeAll(): Promise<void> {
    await Promise.all(this.#threads.map((t) => {
      const done = this.#reply(t, ["closed"]);
      t.worker.postMessage({ type: "close" } satisfies ToGuardThread);
      return done;
    }));
    for (const t of this.#threads) t.worker.terminate();
    this.#threads.length = 0;
  }
}

function addTo(into: Record<string, number>, key: string, n: number | undefined): void {
  into[key] = (into[key] ?? 0) + (n ?? 0);
}
