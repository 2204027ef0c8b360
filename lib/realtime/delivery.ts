/**
 * Delivery to one socket: every conversation's messages in seq order without holes, the ones
 * that arrive early held back while the missing ones are read from the log.
 */
import { CLOSE, type Message } from "../wire/protocol.ts";
import type { ConvKind } from "../chat/conversations.ts";
import { range } from "../chat/history.ts";
import { msgFrame } from "./recent.ts";
import { log } from "../log.ts";
import { LIMITS_WS } from "./limits.ts";

/** What delivery needs of its connection (lib/realtime/conn.ts). */
export interface DeliveryTarget {
  readonly userId: string;
  /** Subscribed conversations. */
  readonly convs: Map<string, ConvKind>;
  /** Highest seq sent per conversation. */
  readonly sent: Map<string, number>;
  readonly deps: { kv: Deno.Kv };
  sendRaw(json: string): void;
  /** Leaves a conversation (unsubscribes, tells the client). */
  leave(conv: string): void;
  close(code: number, reason: string): void;
}

export class Delivery {
  /** Messages waiting, each with its frame serialized once for all sockets. */
  #backlog: { msg: Message; json: string }[] = [];
  #filling = false;
  #ready = false;
  #stopped = false;

  constructor(private readonly c: DeliveryTarget) {}

  /** After hello: live messages flow from here on, after what the hello sent. */
  start(): void {
    this.#ready = true;
    this.#drain();
  }

  /** The socket closed: drop what waits, start nothing more. */
  stop(): void {
    this.#stopped = true;
    this.#backlog = [];
  }

  deliver(msg: Message, json: string): void {
    const c = this.c;
    if (this.#stopped || !c.convs.has(msg.conv)) return;
    // Fast path: the next message in order, nothing waiting.
    if (
      this.#ready && !this.#filling && !this.#backlog.length &&
      msg.seq === (c.sent.get(msg.conv) ?? 0) + 1
    ) {
      this.#emit(msg, json);
      return;
    }
    this.#backlog.push({ msg, json });
    if (this.#backlog.length > LIMITS_WS.maxBacklog) {
      return c.close(CLOSE.slowConsumer, "Too slow: reconnect and resume");
    }
    this.#drain();
  }

  #drain(): void {
    const c = this.c;
    if (!this.#ready || this.#filling || this.#stopped) return;
    while (this.#backlog.length) {
      const { msg: m, json } = this.#backlog[0];
      if (!c.convs.has(m.conv)) {
        this.#backlog.shift();
        continue;
      }
      const last = c.sent.get(m.conv) ?? 0;
      if (m.seq <= last) {
        this.#backlog.shift();
      } else if (m.seq === last + 1) {
        this.#backlog.shift();
        this.#emit(m, json);
      } else {
        this.#filling = true;
        let failed = false;
        range(c.deps.kv, m.conv, last, m.seq - 1, m.seq - 1 - last).then((missing) => {
          for (const x of missing) {
            if (this.#stopped || !c.convs.has(m.conv)) break;
            if (x.seq === (c.sent.get(m.conv) ?? 0) + 1) this.#emit(x);
          }
          // What the log no longer has (or never showed this member) cannot be sent: move on.
          if (c.convs.has(m.conv) && (c.sent.get(m.conv) ?? 0) < m.seq - 1) {
            c.sent.set(m.conv, m.seq - 1);
          }
        }).catch((err) => {
          failed = true;
          log.warn("ws.fill_failed", { err });
        }).finally(() => {
          // A failed read is tried again after a pause, not in a tight loop.
          setTimeout(() => {
            this.#filling = false;
            this.#drain();
          }, failed ? 200 : 0);
        });
        return;
      }
    }
  }

  /**
   * Sends one message in order. A message that ends this user's membership is the last one of
   * that conversation this socket gets, however it arrived (live, or read back to fill a gap).
   */
  #emit(msg: Message, json?: string): void {
    const c = this.c;
    c.sent.set(msg.conv, msg.seq);
    if (msg.only && msg.only !== c.userId) return; // counted as sent, never shown
    c.sendRaw(json ?? msgFrame(msg));
    const meta = msg.meta;
    if (
      meta?.event === "dissolved" ||
      (meta?.userId === c.userId &&
        (meta.event === "member_removed" || meta.event === "member_left"))
    ) {
      c.leave(msg.conv);
    }
  }
}
