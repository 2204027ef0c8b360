/** The realtime parts of one isolate: hub of sockets, the log writer, the fan-out watcher, presence. */
import { Hub } from "./hub.ts";
import { eventsOf, MessageLog } from "./message_log.ts";
import { FanoutWatcher } from "./watcher.ts";
import { Registry } from "./registry.ts";
import { Presence } from "./presence.ts";
import { ReminderClock } from "../chat/reminders.ts";
import { BOT_ID } from "../chat/conversations.ts";
import { t } from "../i18n/i18n.ts";
import { UnsentMediaSweeper } from "../chat/media.ts";
import { newId } from "../ids.ts";
import { BotAnswerer } from "./bot_answer.ts";
import { WebhookDispatcher } from "../bots/dispatch.ts";
import { PushNotifier } from "./push.ts";
import { CLOSE } from "../wire/protocol.ts";
import type { Conn } from "./conn.ts";
import type { DomainDeps, Events } from "../chat/events.ts";

/** Also what the domain runs with (DomainDeps): the KV, the clock and the narrow `events`. */
export class Realtime implements DomainDeps {
  readonly isolate = newId();
  readonly hub = new Hub();
  readonly log: MessageLog;
  /** The log as the domain sees it: commit with its writes, notify users (lib/chat/events.ts). */
  readonly events: Events;
  readonly presence: Presence;
  readonly #watcher: FanoutWatcher;
  readonly registry: Registry;
  /** Delivers the bot's reminders when due (lib/chat/reminders.ts). */
  readonly reminders: ReminderClock;
  /** Removes uploads never sent (lib/chat/media.ts). */
  readonly unsentMedia: UnsentMediaSweeper;
  readonly conns = new Set<Conn>();
  /** Answers what users ask the built-in bot (its language model is set by the server). */
  readonly bot: BotAnswerer;
  /** Delivers messages addressed to bots to their webhooks (lib/bots/dispatch.ts). */
  readonly webhooks: WebhookDispatcher;
  /** Web Push for messages that reached no live socket of their reader (./push.ts). */
  readonly push: PushNotifier;

  /**
   * @param timing of the registry (lib/realtime/registry.ts): how long a registration lasts, how
   * often it is renewed and how often the others look (tests shorten them); `hear: false` makes
   * this isolate ignore the others' announcements (watcher.ts announce()), as a test of `watch`
   * and the poll.
   */
  constructor(
    readonly kv: Deno.Kv,
    readonly now: () => number = Date.now,
    timing: { ttlMs?: number; heartbeatMs?: number; refreshMs?: number; hear?: boolean } = {},
  ) {
    this.log = new MessageLog(kv, this.isolate, this.hub, now);
    this.events = eventsOf(this.log);
    this.presence = new Presence(kv, this.isolate, this.log, now);
    // Registrations expire in real time (KV's clock), whatever clock the domain is given.
    this.registry = new Registry(kv, this.isolate, this.log.lanes, Date.now, timing);
    this.#watcher = new FanoutWatcher(
      kv,
      this.registry,
      this.hub,
      (ev) => this.log.observe(ev),
      timing.refreshMs,
      timing.hear,
    );
    this.log.onHead = (lane, head) => this.#watcher.announce(lane, head);
    this.reminders = new ReminderClock(kv, this.events, now);
    this.unsentMedia = new UnsentMediaSweeper(kv, now);
    this.bot = new BotAnswerer(this);
    this.webhooks = new WebhookDispatcher(kv);
    this.push = new PushNotifier(kv, this.presence);
    // A reminder that comes due while its user is away reaches their phone too.
    this.reminders.onDelivered = (r, text) =>
      this.push.message({
        conv: r.conv,
        kind: "dm",
        from: BOT_ID,
        fromName: t(r.locale, "bot.name"),
        text,
        peer: r.user,
      });
  }

  async start(): Promise<void> {
    await this.#watcher.start();
    this.presence.start();
    this.reminders.start();
    this.unsentMedia.start();
  }

  /**
   * Tells every client to reconnect (they resume elsewhere), waits a little for the close
   * handshakes (the server must not stop under them, or clients see an abnormal close instead of
   * the shutdown code), then stops following the log.
   */
  async stop(graceMs = 2000): Promise<void> {
    const conns = [...this.conns];
    const closed = conns.map((c) =>
      new Promise<void>((resolve) => {
        if (c.ws.readyState === WebSocket.CLOSED) return resolve();
        c.ws.addEventListener("close", () => resolve(), { once: true });
      })
    );
    for (const c of conns) c.close(CLOSE.shutdown, "Server restarting");
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(closed), new Promise((r) => timer = setTimeout(r, graceMs))]);
    clearTimeout(timer);
    this.presence.stop();
    this.push.stop();
    await this.reminders.stop();
    await this.unsentMedia.stop();
    // The closed sockets' last presence writes go out before the log stops (bounded, too).
    await Promise.race([
      this.presence.settled(),
      new Promise((r) => timer = setTimeout(r, graceMs)),
    ]);
    clearTimeout(timer);
    await this.#watcher.stop();
    await this.registry.unregister().catch(() => {});
  }

  /** The other isolates whose streams this one follows. */
  get following(): string[] {
    return this.#watcher.following;
  }

  /**
   * A person's or a bot's message was just stored (not a retried one): its readers who are away
   * get a push, and the bots it is addressed to their webhook. The socket's send and the bot HTTP
   * API both end here.
   */
  sent(m: {
    conv: string;
    seq: number;
    kind: "dm" | "group";
    peer?: string;
    mentions?: string[];
    text: string;
    sender: { id: string; username: string; nickname: string };
  }): void {
    this.push.message({
      conv: m.conv,
      kind: m.kind,
      from: m.sender.id,
      fromName: m.sender.nickname,
      text: m.text,
      peer: m.peer,
    });
    this.webhooks.notify(m);
  }

  connDeps() {
    return {
      kv: this.kv,
      log: this.log,
      hub: this.hub,
      presence: this.presence,
      isolate: this.isolate,
      now: this.now,
      bot: this.bot,
      sent: (m: Parameters<Realtime["sent"]>[0]) => this.sent(m),
    };
  }

  /**
   * Closes the sockets of one session (logout), or of all a user's sessions but `keep`
   * (password change), on every isolate.
   */
  async endSessions(userId: string, sessionId?: string, keep?: string): Promise<void> {
    await this.events.toUsers([userId], {
      control: sessionId
        ? { kind: "session_revoked", sessionId }
        : { kind: "all_sessions_revoked", keep },
    });
  }
}
