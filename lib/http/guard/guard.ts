/**
 * The connection guard: the public TCP listener, in front of Deno.serve.
 *
 * Deno.serve has no header-read or idle deadline and no per-client connection cap (denoland/deno
 * #3515), and it exits on EMFILE. So the guard accepts every connection itself, counts it per
 * client address and in total before anything else, passes the bytes to Deno.serve on a loopback
 * port, and follows each request head just far enough to enforce deadlines: a request head must
 * arrive whole in time, a body must keep moving, an idle keep-alive connection is closed. When
 * descriptors run out it evicts connections that have not sent a whole request and backs off;
 * it never stops accepting for good. docs/architecture.md decision (f) says why a byte relay, and
 * what it costs (bench/RESULTS.md rows marked CONN_GUARD=1).
 */
import { log } from "../../log.ts";
import { HeadTracker } from "./head.ts";
import {
  addressBucket,
  DEFAULT_GUARD_LIMITS,
  EXEMPT,
  type GuardLimits,
  type GuardStats,
  noStats,
  type Reason,
} from "./limits.ts";
import { relay, type RelayHost, type Tracked } from "./relay.ts";
import { UnprovenIndex } from "./unproven.ts";
import type { ClientTable } from "./clients.ts";

export * from "./limits.ts";

function bump(map: Partial<Record<Reason, number>>, r: Reason): void {
  map[r] = (map[r] ?? 0) + 1;
}

export class ConnGuard {
  readonly limits: GuardLimits;
  readonly #conns = new Set<Tracked>();
  readonly #perBucket = new Map<string, number>();
  readonly #byUpstreamPort = new Map<number, Tracked>();
  /** Connections still sending their first request head, by address, oldest first. */
  readonly #unproven = new UnprovenIndex<Tracked>();
  /** Connections between requests, the one the server answered longest ago first. */
  readonly #between = new Set<Tracked>();
  readonly #stats: GuardStats = noStats();
  #listener: Deno.TcpListener | null = null;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #accepting: Promise<void> | null = null;
  #lastEmfileLog = 0;
  #stopping = false;
  #loweredAt = -Infinity;

  #upstream = { hostname: "127.0.0.1", port: 0 };

  readonly #host: RelayHost;

  readonly #shared: { table: ClientTable; owner: number } | null;

  /**
   * `shared`: also publish each link's client in a table the app's thread reads (the guard then
   * runs in a thread of its own, lib/http/guard/pool.ts), as guard thread number `owner`.
   */
  constructor(
    limits: Partial<GuardLimits> = {},
    readonly now: () => number = Date.now,
    shared: { table: ClientTable; owner: number } | null = null,
  ) {
    this.limits = { ...DEFAULT_GUARD_LIMITS, ...limits };
    this.#shared = shared;
    this.#host = {
      now,
      maxWsMessageBytes: this.limits.maxWsMessageBytes,
      upstream: () => this.#upstream,
      drop: (t, reason) => this.#drop(t, reason),
      proven: (t) => this.#proven(t),
      linked: (t) => {
        this.#byUpstreamPort.set(t.upstreamPort, t);
        this.#shared?.table.set(t.upstreamPort, t.addr, this.#shared.owner);
      },
      answered: (t) => {
        // Re-inserting moves it last: #between stays ordered by the server's last answer.
        this.#between.delete(t);
        if (t.head.state === "await") this.#between.add(t);
      },
      outOfDescriptors: () => this.#outOfDescriptors(),
    };
  }

  /** Where to relay to: Deno.serve's loopback address (it may change if it had to restart). */
  setUpstream(upstream: { hostname: string; port: number }): void {
    this.#upstream = upstream;
  }

  /** Listens on the public address; `reusePort` lets several isolates share the port. */
  listen(opts: { hostname: string; port: number; reusePort?: boolean }): Deno.NetAddr {
    // A long accept queue: under a flood, a full one drops SYNs and a real client waits for its
    // retransmission (a second or more). The kernel caps it at net.core.somaxconn.
    this.#listener = Deno.listen({ ...opts, transport: "tcp", tcpBacklog: 4096 });
    this.#sweeper = setInterval(() => this.#sweep(), 500);
    this.#accepting = this.#acceptLoop(this.#listener);
    return this.#listener.addr;
  }

  /** The client address behind a connection the guard opened to Deno.serve (by its local port). */
  clientOf(upstreamPort: number): string | null {
    return this.#byUpstreamPort.get(upstreamPort)?.addr ?? null;
  }

  /** Cuts the client connection behind a relay (the app asks when a socket will not close). */
  release(upstreamPort: number): void {
    const t = this.#byUpstreamPort.get(upstreamPort);
    if (t) this.#drop(t, "released");
  }

  stats(): GuardStats {
    return { ...this.#stats, open: this.#conns.size, maxTotal: this.limits.maxTotal };
  }

  /** Stops accepting; open connections stay until `closeAll`. */
  async stopAccepting(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#sweeper);
    try {
      this.#listener?.close();
    } catch { /* already closed */ }
    await this.#accepting;
  }

  closeAll(): void {
    for (const t of [...this.#conns]) this.#drop(t);
  }

  async #acceptLoop(listener: Deno.TcpListener): Promise<void> {
    let backoff = 10;
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
        backoff = 10;
      } catch (err) {
        // The listener was closed by stopAccepting(). While it is open the kernel keeps queueing
        // connections for it, so this loop never stops on its own: an interrupted accept is tried
        // again, and a listener gone by other means is said loudly.
        if (this.#stopping) return;
        if (err instanceof Deno.errors.Interrupted) continue;
        if (err instanceof Deno.errors.BadResource) {
          log.error("guard.listener_lost", { err });
          return;
        }
        // Out of descriptors (EMFILE/ENFILE) or a passing network error: free what is cheapest
        // to lose, wait a little, go on. Never give up the port.
        this.#stats.acceptErrors++;
        this.#outOfDescriptors();
        const now = this.now();
        if (now - this.#lastEmfileLog > 10_000) {
          this.#lastEmfileLog = now;
          log.warn("guard.accept_failed", { err, open: this.#conns.size });
        }
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(1000, backoff * 2);
        continue;
      }
      try {
        this.#admit(conn);
      } catch (err) {
        log.error("guard.admit_failed", { err });
        try {
          conn.close();
        } catch { /* gone */ }
      }
    }
  }

  #admit(conn: Deno.TcpConn): void {
    const addr = conn.remoteAddr.hostname;
    const bucket = addressBucket(addr);
    const exempt = EXEMPT.has(addr);
    if (!exempt && (this.#perBucket.get(bucket) ?? 0) >= this.limits.maxPerAddress) {
      if (!this.#evictOne(bucket, "evicted")) return this.#refuse(conn, "per_address");
    }
    if (this.#conns.size >= this.limits.maxTotal && !this.#evictOne(null, "evicted")) {
      return this.#refuse(conn, "total");
    }
    const now = this.now();
    const t: Tracked = {
      addr,
      bucket,
      client: conn,
      upstream: null,
      upstreamPort: 0,
      head: new HeadTracker(this.limits.maxHeadBytes, now),
      ws: null,
      lastByteAt: now,
      done: false,
    };
    this.#conns.add(t);
    this.#perBucket.set(bucket, (this.#perBucket.get(bucket) ?? 0) + 1);
    this.#unproven.add(t);
    this.#stats.accepted++;
    relay(this.#host, t).catch((err) => log.warn("guard.relay_failed", { err }));
  }

  /**
   * The process ran out of descriptors below the configured cap (CONN_MAX set too high, or
   * something else holds many): hold fewer from now on, and free some at once so that Deno.serve
   * can still accept the relays of connections already taken.
   */
  #outOfDescriptors(): void {
    // Each connection holds three descriptors, and relays being set up hold more: keep a margin.
    const cap = Math.max(16, Math.floor(this.#conns.size * 0.8) - 8);
    // One burst of failures lowers it once: the evictions below take a moment to free descriptors.
    const now = this.now();
    if (cap < this.limits.maxTotal && now - this.#loweredAt > 5000) {
      this.#loweredAt = now;
      this.limits.maxTotal = cap;
      log.warn("guard.cap_lowered", {
        maxTotal: cap,
        hint: "CONN_MAX is above what descriptors allow",
      });
    }
    let freed = 0;
    while (
      (this.#conns.size > this.limits.maxTotal || freed < 8) &&
      this.#evictOne(null, "no_descriptors")
    ) {
      freed++;
    }
  }

  #refuse(conn: Deno.TcpConn, reason: Reason): void {
    bump(this.#stats.refused, reason);
    try {
      conn.close();
    } catch { /* gone */ }
  }

  /**
   * Closes the connection that is cheapest to lose (one of `bucket`'s, or any): one still sending
   * its first request head, oldest first; else one idle between requests. Never an upgraded one
   * or one with a request under way. Returns whether it closed one.
   */
  #evictOne(bucket: string | null, reason: Reason): boolean {
    // O(1) for the common case, a flood of connections that never send a head.
    const unproven = this.#unproven.oldest(bucket);
    if (unproven) {
      this.#drop(unproven, reason);
      return true;
    }
    const now = this.now();
    // Ordered by the server's last answer, so the oldest idle ones come first; a bounded look
    // keeps a shed O(1) even when many near the front are busy again.
    let looked = 0;
    for (const t of this.#between) {
      if (++looked > 256) break;
      if (bucket && t.bucket !== bucket) continue;
      if (t.head.evictionRank(t.lastByteAt, now) === Infinity) continue;
      this.#drop(t, reason);
      return true;
    }
    return false;
  }

  #sweep(): void {
    const now = this.now();
    for (const t of [...this.#conns]) {
      const why = t.head.expired(now, t.lastByteAt, this.limits);
      if (why) this.#drop(t, why);
    }
  }

  #drop(t: Tracked, reason?: Reason): void {
    if (t.done) return;
    t.done = true;
    if (reason) bump(this.#stats.closed, reason);
    this.#conns.delete(t);
    const n = (this.#perBucket.get(t.bucket) ?? 1) - 1;
    if (n > 0) this.#perBucket.set(t.bucket, n);
    else this.#perBucket.delete(t.bucket);
    if (t.upstreamPort) {
      this.#byUpstreamPort.delete(t.upstreamPort);
      // Before the link closes: once it has, its port may carry another client's link.
      this.#shared?.table.clear(t.upstreamPort, this.#shared.owner);
    }
    this.#proven(t);
    this.#between.delete(t);
    for (const c of [t.client, t.upstream]) {
      try {
        c?.close();
      } catch { /* already closed */ }
    }
  }

  /** The connection is no longer a candidate for being shed as one that never sent a head. */
  #proven(t: Tracked): void {
    this.#unproven.delete(t);
  }
}
