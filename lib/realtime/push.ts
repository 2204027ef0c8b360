/**
 * Web Push for messages that reached no live socket of their reader (docs/api.md#push). After a
 * message commits, its conversation is noted; a moment later (PUSH_DELAY_MS, so a burst of
 * messages makes one notification, and a reader who is online never gets one) the isolate that
 * committed it reads who is in the conversation, drops whoever is online anywhere, has it muted or
 * has no device, and pushes to the rest. A push service that says a subscription is gone (404,
 * 410) has it removed.
 */
import { keys } from "../kv/keys.ts";
import { log } from "../log.ts";
import { type Conversation, getManyChunked, listMembers } from "../chat/conversations.ts";
import { type Device, devicesOf, unsubscribe, vapidKeys } from "../push/devices.ts";
import { sendPush, type SendPushOptions, type VapidKeys } from "../push/webpush.ts";
import type { Presence } from "./presence.ts";

/** How long after a message its notification waits (more messages join it). */
export const PUSH_DELAY_MS = 1500;
/** Readers one notification goes to at most (a big group: its first members by id). */
export const PUSH_READERS_MAX = 200;
/** Conversations waiting to be pushed at once, per isolate; more are dropped and logged. */
const PENDING_MAX = 5000;

interface Waiting {
  conv: string;
  kind: "dm" | "group";
  /** Who wrote the newest message, and what. */
  from: string;
  fromName: string;
  text: string;
  count: number;
  /** The DM's other person (the only reader). */
  peer?: string;
  timer: ReturnType<typeof setTimeout>;
}

export class PushNotifier {
  readonly #waiting = new Map<string, Waiting>();
  #vapid: VapidKeys | null = null;
  readonly #inFlight = new Set<Promise<unknown>>();
  /** The VAPID subject (RFC 8292): how a push service reaches the operator. */
  subject = "mailto:admin@localhost";
  /** How requests go out (the outbound guard, lib/bots/outbound.ts). */
  fetch?: SendPushOptions["fetch"];

  constructor(
    readonly kv: Deno.Kv,
    readonly presence: Presence,
    readonly delayMs = PUSH_DELAY_MS,
  ) {}

  /** Notes a message just committed; its readers who are away get a push a moment later. */
  message(m: {
    conv: string;
    kind: "dm" | "group";
    from: string;
    fromName: string;
    text: string;
    peer?: string;
  }): void {
    const w = this.#waiting.get(m.conv);
    if (w) {
      Object.assign(w, { from: m.from, fromName: m.fromName, text: m.text, count: w.count + 1 });
      return;
    }
    if (this.#waiting.size >= PENDING_MAX) {
      log.warn("push.dropped", { reason: "too many conversations waiting" });
      return;
    }
    const timer = setTimeout(() => {
      this.#waiting.delete(m.conv);
      const p = this.#flush(entry).catch((err) => log.warn("push.failed", { err }))
        .finally(() => this.#inFlight.delete(p));
      this.#inFlight.add(p);
    }, this.delayMs);
    const entry: Waiting = { ...m, count: 1, timer };
    this.#waiting.set(m.conv, entry);
  }

  /** Pushes still running (tests wait for them). */
  async settled(): Promise<void> {
    while (this.#waiting.size || this.#inFlight.size) {
      await Promise.allSettled([...this.#inFlight]);
      if (this.#waiting.size) await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Drops what waits (the server stops). */
  stop(): void {
    for (const w of this.#waiting.values()) clearTimeout(w.timer);
    this.#waiting.clear();
  }

  async #flush(w: Waiting): Promise<void> {
    const readers = w.kind === "dm"
      ? (w.peer ? [w.peer] : [])
      : (await listMembers(this.kv, w.conv)).map((m) => m.userId)
        .filter((u) => u !== w.from && u !== "bot").slice(0, PUSH_READERS_MAX);
    if (!readers.length) return;
    const states = await this.presence.online(readers);
    const away = readers.filter((u) => !states.get(u)?.online);
    if (!away.length) return;
    const muted = await getManyChunked(this.kv, away.map((u) => keys.convMute(u, w.conv)));
    const mutedSet = new Set(away.filter((_, i) => muted[i].value));
    const title = w.kind === "group"
      ? ((await this.kv.get<Conversation>(keys.conv(w.conv))).value?.title ?? "")
      : w.fromName;
    this.#vapid ??= await vapidKeys(this.kv);
    for (const user of away) {
      if (mutedSet.has(user)) continue;
      for (const d of await devicesOf(this.kv, user)) await this.#send(user, d, w, title);
    }
  }

  async #send(user: string, d: Device, w: Waiting, title: string): Promise<void> {
    const zh = d.locale === "zh-CN";
    const more = w.count > 1 ? (zh ? `[${w.count}条] ` : `[${w.count}] `) : "";
    const who = w.kind === "group" ? `${w.fromName}: ` : "";
    const body = d.previews
      ? `${more}${who}${w.text || (zh ? "[图片/文件]" : "[picture or file]")}`.slice(0, 200)
      : `${more}${zh ? "你有新消息" : "New message"}`;
    const r = await sendPush(d.sub, { conv: w.conv, title, body, url: `/?c=${w.conv}` }, {
      vapid: this.#vapid!,
      subject: this.subject,
      ttlSec: 24 * 3600,
      urgency: "high",
      topic: w.conv.slice(-32),
      fetch: this.fetch,
    });
    if (r.gone) await unsubscribe(this.kv, user, d.id);
    else if (!r.ok) log.warn("push.refused", { status: r.status });
  }
}
