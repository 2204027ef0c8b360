/**
 * One device of the soak: a user's connection that behaves like the browser client
 * (islands/chat/client.ts). It holds every message of its conversations merged by seq, resumes
 * with the newest seq it holds per conversation, re-sends every message not acked yet with the
 * same cid after `resumed`, and reconnects with the browser's backoff to a random server. It
 * also checks each connection: no seq twice, strictly increasing seqs per conversation.
 */
import type { ServerFrame } from "../lib/wire/protocol.ts";
import { RawSocket } from "./soak_ws.ts";
import { Latencies, nowMs } from "./stats.ts";

/** A growable set of small non-negative integers. */
export class Bits {
  #b = new Uint8Array(64);
  has(n: number): boolean {
    return n >> 3 < this.#b.length && (this.#b[n >> 3] & (1 << (n & 7))) !== 0;
  }
  add(n: number): void {
    if (n >> 3 >= this.#b.length) {
      const next = new Uint8Array(Math.max(this.#b.length * 2, (n >> 3) + 64));
      next.set(this.#b);
      this.#b = next;
    }
    this.#b[n >> 3] |= 1 << (n & 7);
  }
}

export interface ServerSlot {
  name: string;
  port: number;
  origin: string;
}

/** What the soak knows of one message it made. */
export interface SentInfo {
  conv: string;
  device: number;
  createdAt: number;
  firstSentAt: number;
  sends: number;
  /** From the first ack (0 until acked). */
  seq: number;
  /** The server of the connection the latest send frame went out on. */
  sentVia: string;
  ackedVia: string;
  refused?: string;
}

export interface Counters {
  sendFrames: number;
  resends: number;
  acked: number;
  repeatAcks: number;
  /** Resends answered with a message stored before them (the server's idempotent retry). */
  resendsDeduped: number;
  ackTimeouts: number;
  errors: Map<string, number>;
  connects: number;
  connectFailures: number;
  resumes: number;
  disconnectsClean: number;
  disconnectsAbrupt: number;
  closedByServer: number;
  gaps: number;
  historyPages: number;
  doubled: number;
  outOfOrder: number;
  connHoles: number;
  belowResume: number;
  /** Two different message ids seen for one (conv, seq). */
  conflicts: number;
}

/** Everything the devices share. */
export interface Ctx {
  t0: number;
  rng: () => number;
  servers: ServerSlot[];
  soakConvs: Set<string>;
  sent: Map<string, SentInfo>;
  /** conv → seq → message id, as first seen by any device. */
  observed: Map<string, Map<number, string>>;
  /** conv → highest acked seq. */
  maxAcked: Map<string, number>;
  counters: Counters;
  latency: Latencies;
  /** The same, split by whether sender and receiver were on the same server. */
  latencySame: Latencies;
  latencyCross: Latencies;
  /** Deliveries sent and received outside [kill, kill + 15 s] of every server kill. */
  latencyCalm: Latencies;
  /** [from, to] (nowMs) after each kill. */
  killWindows: [number, number][];
  ackLatency: Latencies;
  /** No reconnects (the end). */
  stopping: boolean;
  /** Records a problem seen during the run (bounded list kept by the caller). */
  problem: (text: string) => void;
  /** A failure of the soak itself (fails the run). */
  harnessError: (text: string) => void;
}

/** One socket's life, for the report of a lost message. */
export interface ConnRecord {
  id: number;
  server: string;
  openedAt: number;
  resumedAt?: number;
  closedAt?: number;
  how?: string;
  code?: number;
  resume?: Record<string, number>;
}

interface ConnState {
  rec: ConnRecord;
  sock: RawSocket;
  ready: boolean;
  lastSentAt: number;
  /** Per conversation: the resume point, the last seq received and every seq received. */
  convs: Map<string, { base?: number; last?: number; seen: Bits }>;
}

interface Pending {
  conv: string;
  text: string;
  /** The connection it was last sent on (0: not sent since the last connect). */
  sentOn: number;
  sentAt: number;
  retryAt: number;
}

const ACK_TIMEOUT_MS = 10_000;
const PING_EVERY_MS = 20_000;
const HANDSHAKE_TIMEOUT_MS = 20_000;
const RETRYABLE = new Set(["rate_limited", "busy", "internal"]);
let connIds = 0;
let rids = 0;

export class Device {
  name: string;
  conn: ConnState | null = null;
  state: "offline" | "connecting" | "handshake" | "ready" = "offline";
  attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Every conversation of the welcome (for resume), soak ones included. */
  known = new Map<string, number>();
  /** Soak conversations: the seq before which this device claims nothing (its first welcome). */
  baseline = new Map<string, number>();
  held = new Map<string, Bits>();
  highest = new Map<string, number>();
  pending = new Map<string, Pending>();
  /** Seq ranges (lo, hi] announced by a `gap`, still to be read with `history`. */
  fills = new Map<string, [number, number][]>();
  #fillRid: string | null = null;
  #fillRetryAt = 0;
  history: ConnRecord[] = [];
  welcomed = false;

  constructor(
    readonly ctx: Ctx,
    readonly index: number,
    readonly userIndex: number,
    readonly token: string,
    readonly convs: string[],
  ) {
    this.name = `u${userIndex}d${index}`;
  }

  get now(): number {
    return nowMs() - this.ctx.t0;
  }

  /** Opens a socket to a random server and says hello (with resume once it holds something). */
  connect(): void {
    if (this.ctx.stopping || this.state !== "offline") return;
    this.state = "connecting";
    const slot = this.ctx.servers[Math.floor(this.ctx.rng() * this.ctx.servers.length)];
    this.ctx.counters.connects++;
    RawSocket.open("127.0.0.1", slot.port, "/ws", {
      Origin: slot.origin,
      Cookie: `hc_session=${this.token}`,
    }).then((sock) => {
      if (this.ctx.stopping) {
        sock.abort();
        this.state = "offline";
        return;
      }
      const rec: ConnRecord = { id: ++connIds, server: slot.name, openedAt: this.now };
      const conn: ConnState = { rec, sock, ready: false, lastSentAt: nowMs(), convs: new Map() };
      this.conn = conn;
      this.history.push(rec);
      this.state = "handshake";
      sock.onText = (t) => {
        try {
          this.#onFrame(conn, JSON.parse(t) as ServerFrame);
        } catch (err) {
          this.ctx.harnessError(`${this.name}: frame handler failed: ${(err as Error).stack}`);
        }
      };
      sock.onClose = (code, how) => this.#onClose(conn, code, how);
      let resume: Record<string, number> | undefined;
      if (this.welcomed) {
        resume = {};
        for (const [id, last] of this.known) {
          resume[id] = this.baseline.has(id) ? this.resumePoint(id) : last;
        }
        rec.resume = Object.fromEntries(this.convs.map((c) => [c, resume![c]]));
        for (const c of this.convs) conn.convs.set(c, { base: resume[c], seen: new Bits() });
      }
      this.#raw(conn, { type: "hello", v: 1, resume });
    }).catch(() => {
      this.ctx.counters.connectFailures++;
      this.state = "offline";
      this.#scheduleReconnect();
    });
  }

  /** The newest seq held (what the browser client resumes from). */
  resumePoint(conv: string): number {
    return Math.max(this.baseline.get(conv) ?? 0, this.highest.get(conv) ?? 0);
  }

  #scheduleReconnect(): void {
    if (this.ctx.stopping) return;
    clearTimeout(this.#reconnectTimer);
    const base = Math.min(15_000, 500 * 2 ** this.attempt);
    this.attempt++;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.connect();
    }, base / 2 + this.ctx.rng() * base / 2);
  }

  /** Drops the socket on purpose: cleanly (close frame) or abruptly (TCP connection cut). */
  drop(how: "clean" | "abort"): void {
    const conn = this.conn;
    if (!conn) return;
    if (how === "clean") {
      this.ctx.counters.disconnectsClean++;
      conn.rec.how = "clean (soak)";
      this.#detach(conn);
      conn.sock.close(1000);
    } else {
      this.ctx.counters.disconnectsAbrupt++;
      conn.rec.how = "abort (soak)";
      this.#detach(conn);
      conn.sock.abort();
    }
  }

  /** The device stops using the socket (like the browser's onclose / networkGone). */
  #detach(conn: ConnState): void {
    if (this.conn !== conn) return;
    conn.rec.closedAt = this.now;
    this.conn = null;
    this.state = "offline";
    this.#fillRid = null;
    this.#scheduleReconnect();
  }

  #onClose(conn: ConnState, code: number, how: string): void {
    conn.rec.code = code;
    if (this.conn !== conn) return;
    conn.rec.how = how;
    this.ctx.counters.closedByServer++;
    this.#detach(conn);
  }

  #raw(conn: ConnState, frame: unknown): void {
    conn.lastSentAt = nowMs();
    conn.sock.send(JSON.stringify(frame));
  }

  /** A new message in `conv`: pending at once, sent now if the socket is ready (else after resume). */
  create(conv: string, cid: string): void {
    const t = nowMs();
    this.ctx.sent.set(cid, {
      conv,
      device: this.index,
      createdAt: t,
      firstSentAt: 0,
      sends: 0,
      seq: 0,
      sentVia: "",
      ackedVia: "",
    });
    this.pending.set(cid, {
      conv,
      text: `soak ${cid} ${this.name}`,
      sentOn: 0,
      sentAt: 0,
      retryAt: 0,
    });
    if (this.state === "ready" && this.conn) this.#send(this.conn, cid);
  }

  #send(conn: ConnState, cid: string): void {
    const p = this.pending.get(cid);
    const info = this.ctx.sent.get(cid);
    if (!p || !info) return;
    const t = nowMs();
    this.#raw(conn, { type: "send", conv: p.conv, cid, text: p.text });
    p.sentOn = conn.rec.id;
    p.sentAt = t;
    p.retryAt = 0;
    info.sends++;
    info.sentVia = conn.rec.server;
    if (!info.firstSentAt) info.firstSentAt = t;
    this.ctx.counters.sendFrames++;
    if (info.sends > 1) this.ctx.counters.resends++;
  }

  /** Called every few hundred ms: retries, ack timeouts, pings, stuck handshakes, history fills. */
  tick(): void {
    const conn = this.conn;
    if (!conn) return;
    const t = nowMs();
    if (!conn.ready) {
      if (t - (this.ctx.t0 + conn.rec.openedAt) > HANDSHAKE_TIMEOUT_MS) {
        this.ctx.problem(
          `${this.name}: no "resumed" within ${
            HANDSHAKE_TIMEOUT_MS / 1000
          } s on ${conn.rec.server} (conn ${conn.rec.id}, opened at ${
            (conn.rec.openedAt / 1000).toFixed(1)
          } s); dropped it`,
        );
        conn.rec.how = "handshake timeout";
        this.#detach(conn);
        conn.sock.abort();
      }
      return;
    }
    for (const [cid, p] of this.pending) {
      if (p.retryAt && t >= p.retryAt) this.#send(conn, cid);
      else if (p.sentOn === conn.rec.id && !p.retryAt && t - p.sentAt > ACK_TIMEOUT_MS) {
        this.ctx.counters.ackTimeouts++;
        this.#send(conn, cid);
      } else if (p.sentOn !== conn.rec.id && !p.retryAt) this.#send(conn, cid);
    }
    if (t - conn.lastSentAt > PING_EVERY_MS) this.#raw(conn, { type: "ping" });
    if (!this.#fillRid && this.fills.size && t >= this.#fillRetryAt) this.#nextFill(conn);
  }

  #onFrame(conn: ConnState, f: ServerFrame): void {
    if (this.conn !== conn) return;
    switch (f.type) {
      case "msg":
        return this.#onMsg(conn, f.msg);
      case "ack": {
        const info = this.ctx.sent.get(f.cid);
        if (!info) {
          this.ctx.problem(`${this.name}: ack for unknown cid ${f.cid}`);
          return;
        }
        if (info.seq) {
          this.ctx.counters.repeatAcks++;
          if (info.seq !== f.seq) {
            this.ctx.problem(
              `${this.name}: cid ${f.cid} acked again with seq ${f.seq}, first ack said ${info.seq} (conv ${f.conv})`,
            );
          }
        } else {
          const p = this.pending.get(f.cid);
          // Stored (server clock) before the send frame this answers: a retry of a stored message.
          if (p && info.sends > 1 && f.at < p.sentAt - 5) this.ctx.counters.resendsDeduped++;
          info.seq = f.seq;
          info.ackedVia = conn.rec.server;
          this.ctx.counters.acked++;
          this.ctx.ackLatency.add(nowMs() - info.firstSentAt);
          if (f.seq > (this.ctx.maxAcked.get(f.conv) ?? 0)) this.ctx.maxAcked.set(f.conv, f.seq);
        }
        this.pending.delete(f.cid);
        return;
      }
      case "error": {
        const c = this.ctx.counters.errors;
        c.set(f.code, (c.get(f.code) ?? 0) + 1);
        if (f.cid) {
          const p = this.pending.get(f.cid);
          if (!p) return;
          if (RETRYABLE.has(f.code)) p.retryAt = nowMs() + 1000;
          else {
            this.pending.delete(f.cid);
            const info = this.ctx.sent.get(f.cid);
            if (info) info.refused = f.code;
            this.ctx.problem(`${this.name}: send ${f.cid} in ${p.conv} refused: ${f.code}`);
          }
        } else if (f.rid && f.rid === this.#fillRid) {
          this.#fillRid = null;
          this.#fillRetryAt = nowMs() + 1000;
        } else this.ctx.problem(`${this.name}: error ${f.code}: ${f.message}`);
        return;
      }
      case "welcome": {
        for (const c of f.convs) {
          this.known.set(c.id, Math.max(this.known.get(c.id) ?? 0, c.lastSeq));
        }
        if (!this.welcomed) {
          this.welcomed = true;
          const ids = new Set(f.convs.map((c) => c.id));
          for (const c of this.convs) {
            if (!ids.has(c)) this.ctx.problem(`${this.name}: welcome lacks conversation ${c}`);
            this.baseline.set(c, f.convs.find((x) => x.id === c)?.lastSeq ?? 0);
            this.held.set(c, new Bits());
          }
        }
        return;
      }
      case "gap": {
        this.ctx.counters.gaps++;
        const st = conn.convs.get(f.conv);
        if (st) st.base = Math.max(st.base ?? 0, f.lastSeq);
        if (this.baseline.has(f.conv)) {
          const list = this.fills.get(f.conv) ?? [];
          list.push([f.after, f.lastSeq]);
          this.fills.set(f.conv, list);
        }
        return;
      }
      case "resumed": {
        conn.ready = true;
        conn.rec.resumedAt = this.now;
        if (this.history.length > 1) this.ctx.counters.resumes++;
        this.state = "ready";
        this.attempt = 0;
        // Every message not acked yet goes out again with its cid (flushPending()).
        for (const cid of [...this.pending.keys()]) this.#send(conn, cid);
        if (this.fills.size) this.#nextFill(conn);
        return;
      }
      case "history": {
        if (f.rid !== this.#fillRid) return;
        this.#fillRid = null;
        this.ctx.counters.historyPages++;
        for (const m of f.messages) this.#hold(m.conv, m.seq, m.id);
        const list = this.fills.get(f.conv);
        if (list?.length) {
          const range = list[0];
          const oldest = f.messages[0]?.seq;
          if (oldest === undefined || !f.hasMore || oldest <= range[0] + 1) list.shift();
          else range[1] = oldest - 1;
          if (!list.length) this.fills.delete(f.conv);
        }
        if (this.fills.size) this.#nextFill(conn);
        return;
      }
    }
  }

  #nextFill(conn: ConnState): void {
    if (!conn.ready || this.#fillRid) return;
    const [conv, list] = this.fills.entries().next().value!;
    const [lo, hi] = list[0];
    if (hi <= lo) {
      list.shift();
      if (!list.length) this.fills.delete(conv);
      return;
    }
    this.#fillRid = `f${++rids}`;
    this.#raw(conn, {
      type: "history",
      rid: this.#fillRid,
      conv,
      before: hi + 1,
      limit: Math.min(100, hi - lo),
    });
  }

  #hold(conv: string, seq: number, id: string): void {
    const obs = this.ctx.observed.get(conv);
    if (obs) {
      const had = obs.get(seq);
      if (had === undefined) obs.set(seq, id);
      else if (had !== id) {
        this.ctx.counters.conflicts++;
        this.ctx.problem(
          `${this.name}: ${conv} seq ${seq} has id ${id}, another device saw ${had}`,
        );
      }
    }
    const bits = this.held.get(conv);
    if (!bits) return;
    bits.add(seq);
    if (seq > (this.highest.get(conv) ?? 0)) this.highest.set(conv, seq);
  }

  #onMsg(conn: ConnState, m: { conv: string; seq: number; id: string; cid?: string }): void {
    if (!this.ctx.soakConvs.has(m.conv)) return;
    let st = conn.convs.get(m.conv);
    if (!st) conn.convs.set(m.conv, st = { seen: new Bits() });
    const where = () =>
      `${this.name} conn ${conn.rec.id} on ${conn.rec.server} (opened ${
        (conn.rec.openedAt / 1000).toFixed(1)
      } s, resume ${st!.base ?? "none"})`;
    if (st.seen.has(m.seq)) {
      this.ctx.counters.doubled++;
      this.ctx.problem(`doubled: ${m.conv} seq ${m.seq} twice on ${where()}`);
    } else if (st.last !== undefined && m.seq < st.last) {
      this.ctx.counters.outOfOrder++;
      this.ctx.problem(
        `out of order: ${m.conv} seq ${m.seq} after ${st.last} on ${where()} at ${
          (this.now / 1000).toFixed(1)
        } s`,
      );
    } else if (st.base !== undefined && m.seq <= st.base) {
      this.ctx.counters.belowResume++;
    } else {
      const after = Math.max(st.last ?? -1, st.base ?? -1);
      if (after >= 0 && m.seq > after + 1) {
        this.ctx.counters.connHoles++;
        this.ctx.problem(
          `skipped on a connection: ${m.conv} seqs ${after + 1}–${
            m.seq - 1
          } before ${m.seq} on ${where()} at ${(this.now / 1000).toFixed(1)} s`,
        );
      }
    }
    st.seen.add(m.seq);
    if (st.last === undefined || m.seq > st.last) st.last = m.seq;
    this.#hold(m.conv, m.seq, m.id);
    if (conn.ready && m.cid) {
      const info = this.ctx.sent.get(m.cid);
      if (info && info.device !== this.index && info.firstSentAt) {
        const t = nowMs(), ms = t - info.firstSentAt;
        this.ctx.latency.add(ms);
        const calm = (x: number) => this.ctx.killWindows.every(([a, b]) => x < a || x > b);
        if (calm(t) && calm(info.firstSentAt)) this.ctx.latencyCalm.add(ms);
        (info.sentVia === conn.rec.server ? this.ctx.latencySame : this.ctx.latencyCross).add(ms);
      }
    }
  }

  /** The end: no reconnect; a clean close of the socket. */
  shutdown(): void {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const conn = this.conn;
    if (conn) {
      conn.rec.how = "end";
      conn.rec.closedAt = this.now;
      this.conn = null;
      this.state = "offline";
      conn.sock.close(1000);
    }
  }

  /** Idle for the final check: connected, nothing pending or to fill, has up to `maxAcked`. */
  settled(): boolean {
    if (this.state !== "ready" || this.pending.size || this.fills.size) return false;
    for (const c of this.convs) {
      if (this.resumePoint(c) < (this.ctx.maxAcked.get(c) ?? 0)) return false;
    }
    return true;
  }
}
