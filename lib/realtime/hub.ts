/** This isolate's live connections, indexed by user and by conversation; delivers fan-out events. */
import type { Dispatcher, FanEvent } from "./fan_event.ts";
import { msgFrame, RecentMessages } from "./recent.ts";
import type { Message, ServerFrame } from "../wire/protocol.ts";
import type { Control } from "../chat/events.ts";

/** What the hub needs from a connection (lib/realtime/conn.ts). */
export interface HubConn {
  readonly userId: string;
  readonly sessionId: string;
  deliverMsg(msg: Message, json: string): void;
  send(frame: ServerFrame): void;
  control(c: Control): void;
  /** Starts commands it has queued, as far as the limits allow (when a slot came free). */
  pump(): void;
}

/** Commands running on this isolate of one frame type. */
export interface CommandGauge {
  now: number;
  /** The most that ever ran at once. */
  peak: number;
  /** How many ever started. */
  total: number;
}

interface Bucket {
  tokens: number;
  at: number;
  perSec: number;
  burst: number;
}

export class Hub implements Dispatcher {
  /** The newest messages of conversations with sockets here, for resuming from memory. */
  readonly recent = new RecentMessages();
  readonly byUser = new Map<string, Set<HubConn>>();
  readonly byConv = new Map<string, Set<HubConn>>();
  readonly presenceSubs = new Map<string, Set<HubConn>>();
  /** user + conversation → when their last typing signal went out. */
  readonly #typingAt = new Map<string, number>();
  /** Token buckets by user and kind (see takeToken). */
  readonly #tokens = new Map<string, Bucket>();
  /** user → commands running now over all their sockets here (entries only while non-zero). */
  readonly #work = new Map<string, number>();
  #turn = 0;
  /** Running commands by frame type, for /metrics-style reading and the tests. */
  readonly commands = new Map<string, CommandGauge>();

  #add<K>(map: Map<K, Set<HubConn>>, key: K, conn: HubConn): void {
    let set = map.get(key);
    if (!set) map.set(key, set = new Set());
    set.add(conn);
  }

  #remove<K>(map: Map<K, Set<HubConn>>, key: K, conn: HubConn): void {
    const set = map.get(key);
    if (!set) return;
    set.delete(conn);
    if (!set.size) map.delete(key);
  }

  addUser(conn: HubConn): void {
    this.#add(this.byUser, conn.userId, conn);
  }

  subscribe(conv: string, conn: HubConn): void {
    this.#add(this.byConv, conv, conn);
  }

  unsubscribe(conv: string, conn: HubConn): void {
    this.#remove(this.byConv, conv, conn);
  }

  watchPresence(userId: string, conn: HubConn): void {
    this.#add(this.presenceSubs, userId, conn);
  }

  /** Removes a closed connection from every index. */
  drop(conn: HubConn, convs: Iterable<string>, watched: Iterable<string>): void {
    this.#remove(this.byUser, conn.userId, conn);
    for (const c of convs) this.#remove(this.byConv, c, conn);
    for (const u of watched) this.#remove(this.presenceSubs, u, conn);
  }

  /**
   * Whether a typing signal may go out now: at most one per `everyMs` per user and conversation
   * in this isolate, whichever of the user's tabs sends it.
   */
  allowTyping(userId: string, conv: string, now: number, everyMs: number): boolean {
    const key = `${userId}\u0000${conv}`;
    if (now - (this.#typingAt.get(key) ?? -Infinity) < everyMs) return false;
    if (this.#typingAt.size >= 10_000) {
      for (const [k, at] of this.#typingAt) if (now - at >= everyMs) this.#typingAt.delete(k);
    }
    this.#typingAt.set(key, now);
    return true;
  }

  /**
   * Takes a token from a bucket (`burst` deep, refilled at `perSec`); false when empty. Buckets
   * are per user and kind ("send", "heavy"), shared by all the user's sockets here.
   */
  takeToken(bucket: string, now: number, perSec: number, burst: number): boolean {
    const refill = (b: Bucket) => Math.min(b.burst, b.tokens + ((now - b.at) / 1000) * b.perSec);
    if (this.#tokens.size >= 10_000) {
      for (const [k, b] of this.#tokens) if (refill(b) >= b.burst) this.#tokens.delete(k);
    }
    const b = this.#tokens.get(bucket) ?? { tokens: burst, at: now, perSec, burst };
    b.tokens = refill(b);
    b.at = now;
    this.#tokens.set(bucket, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Takes one of the user's command slots (`max` per user on this isolate); false when all are taken. */
  takeWork(userId: string, max: number): boolean {
    const n = this.#work.get(userId) ?? 0;
    if (n >= max) return false;
    this.#work.set(userId, n + 1);
    return true;
  }

  /**
   * Gives a slot back and lets the user's sockets start what they queued. The socket asked first
   * changes each time, so one busy tab cannot keep the user's other tabs waiting.
   */
  releaseWork(userId: string): void {
    const n = (this.#work.get(userId) ?? 1) - 1;
    if (n > 0) this.#work.set(userId, n);
    else this.#work.delete(userId);
    const conns = [...(this.byUser.get(userId) ?? [])];
    const first = this.#turn++ % Math.max(1, conns.length);
    for (let i = 0; i < conns.length; i++) conns[(first + i) % conns.length].pump();
  }

  workOf(userId: string): number {
    return this.#work.get(userId) ?? 0;
  }

  commandStarted(type: string): void {
    let g = this.commands.get(type);
    if (!g) this.commands.set(type, g = { now: 0, peak: 0, total: 0 });
    g.now++;
    g.total++;
    if (g.now > g.peak) g.peak = g.now;
  }

  commandEnded(type: string): void {
    const g = this.commands.get(type);
    if (g) g.now--;
  }

  socketsOf(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  get size(): number {
    let n = 0;
    for (const s of this.byUser.values()) n += s.size;
    return n;
  }

  dispatch(ev: FanEvent): void {
    switch (ev.t) {
      case "msg": {
        const subs = this.byConv.get(ev.msg.conv);
        if (subs?.size) {
          const json = msgFrame(ev.msg);
          this.recent.add(ev.msg, json);
          for (const c of [...subs]) c.deliverMsg(ev.msg, json);
        }
        // A membership change travels as a system message. A removed member's sockets leave the
        // conversation right after sending it (Delivery.#emit in delivery.ts); a new member's sockets join here.
        const meta = ev.msg.meta;
        if (meta?.userId && meta.event === "member_added") {
          for (const c of this.byUser.get(meta.userId) ?? []) {
            c.control({ kind: "conv_added", conv: ev.msg.conv });
          }
        }
        break;
      }
      case "conv":
        for (const c of this.byConv.get(ev.conv) ?? []) {
          if (c.userId !== ev.except) c.send(ev.frame);
        }
        break;
      case "user":
        for (const c of [...(this.byUser.get(ev.user) ?? [])]) {
          if (ev.frame) c.send(ev.frame);
          if (ev.control) c.control(ev.control);
        }
        break;
      case "presence":
        for (const c of this.presenceSubs.get(ev.user) ?? []) {
          c.send({ type: "presence", user: ev.user, online: ev.online, lastSeen: ev.lastSeen });
        }
        break;
    }
  }
}
