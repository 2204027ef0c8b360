/**
 * One WebSocket connection: the socket itself (sending under a buffer bound, closing so that the
 * close frame arrives, the idle sweep), the state its commands build up, and a lifecycle in which
 * a closed socket leaves nothing behind. Its parts: the protections of client frames in
 * ./intake.ts, ordered delivery in ./delivery.ts, hello and resume in ./handshake.ts, the other
 * commands in ./commands.ts.
 */
import type { BotAnswerer } from "./bot_answer.ts";
import type { Realtime } from "./realtime.ts";
import { CLOSE, type Message, type ServerFrame, type UserCard } from "../wire/protocol.ts";
import type { MessageLog } from "./message_log.ts";
import type { Control } from "../chat/events.ts";
import type { Hub, HubConn } from "./hub.ts";
import type { Presence } from "./presence.ts";
import type { ConvKind } from "../chat/conversations.ts";
import { userCard } from "../chat/conv_list.ts";
import { Delivery } from "./delivery.ts";
import { Intake } from "./intake.ts";
import { log } from "../log.ts";
import type { User } from "../accounts/users.ts";
import type { Locale } from "../i18n/i18n.ts";
import { LIMITS_WS } from "./limits.ts";
import { runCommand } from "./commands.ts";
import { addConv } from "./handshake.ts";

export { LIMITS_WS };

/** Every connection of this isolate not yet cleaned up, swept by one timer rather than one each. */
const open = new Set<Conn>();
let sweeper: ReturnType<typeof setInterval> | undefined;

function sweep(): void {
  for (const c of [...open]) c.sweep();
}

export interface ConnDeps {
  kv: Deno.Kv;
  log: MessageLog;
  hub: Hub;
  presence: Presence;
  isolate: string;
  now: () => number;
  /** Answers what users ask the built-in bot. */
  bot: BotAnswerer;
  /** A message was just stored: pushes and webhooks (Realtime.sent). */
  sent: Realtime["sent"];
  /**
   * Cuts this socket's TCP connection (the connection guard can; Deno cannot force-close a
   * WebSocket whose close frame will not go out). Absent without the guard.
   */
  release?: () => void;
}

export class Conn implements HubConn {
  readonly userId: string;
  readonly sessionId: string;
  /** Subscribed conversations and their kinds. */
  readonly convs = new Map<string, ConvKind>();
  readonly watching = new Set<string>();
  /** The other person of each DM (and the bot conversation). */
  readonly peers = new Map<string, string>();
  /** Highest seq sent per conversation. */
  readonly sent = new Map<string, number>();
  /** The user's card: all a socket needs of the user (not the whole record, per open socket). */
  readonly me: UserCard;
  readonly #delivery = new Delivery(this);
  readonly #intake = new Intake(this, (frame) => runCommand(this, frame));
  /** The user's time zone, as their browser said in hello (for the bot's times). */
  tz: string | undefined;
  /** Set once the socket is done for: from then on nothing is started, sent or subscribed. */
  #closed = false;
  /** The send buffer when last read, and characters sent since (see sendRaw). */
  #bufferedAtCheck = 0;
  #unchecked = 0;
  #presenceCounted = false;
  #lastFrameAt: number;
  /** Real time of the last frame (deps.now may be a test's frozen clock). */
  #lastFrameReal = performance.now();
  readonly #createdReal = performance.now();
  #closing: { code: number; reason: string; since: number } | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly ws: WebSocket,
    user: User,
    sessionId: string,
    readonly locale: Locale,
    readonly deps: ConnDeps,
  ) {
    this.userId = user.id;
    this.me = userCard(user);
    this.sessionId = sessionId;
    this.#lastFrameAt = deps.now();
  }

  /** Wires the socket's events. Call once, right after the upgrade. */
  attach(): void {
    this.ws.onmessage = (e) => this.#onMessage(e);
    this.ws.onclose = () => this.#onClosed();
    this.ws.onerror = () => this.#onClosed();
    open.add(this);
    sweeper ??= setInterval(sweep, LIMITS_WS.sweepMs);
    this.deps.hub.addUser(this);
  }

  /** Whether work for this socket is still worth doing. */
  get alive(): boolean {
    return !this.#closed && this.ws.readyState === WebSocket.OPEN;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(frame: ServerFrame): void {
    // Checked before serializing: a closed socket costs no JSON.
    if (this.alive) this.sendRaw(JSON.stringify(frame));
  }

  /**
   * Sends an already serialized frame; a socket that cannot keep up is closed to resume later.
   * The hot path of every delivery, so it asks the socket little. Its send buffer holds at most
   * what it held when last read plus 3 bytes a character sent since (UTF-8), so it is read only when
   * that bound passes the limit: the same answer as reading it before every frame. A socket no
   * longer open makes send() throw, which is cheaper than asking its state before every frame.
   */
  sendRaw(json: string): void {
    if (this.#closed) return;
    this.#unchecked += json.length;
    if (this.#bufferedAtCheck + this.#unchecked * 3 > LIMITS_WS.maxBuffered) {
      this.#bufferedAtCheck = this.ws.bufferedAmount;
      this.#unchecked = json.length;
      if (this.#bufferedAtCheck > LIMITS_WS.maxBuffered) {
        this.close(CLOSE.slowConsumer, "Too slow: reconnect and resume");
        return;
      }
    }
    try {
      this.ws.send(json);
    } catch {
      // Closing or closed (its close event is on the way and cleans up): nothing to send to.
    }
  }

  /** Closes an idle socket, and forgets one whose upgrade never opened (the shared sweep). */
  sweep(): void {
    if (this.ws.readyState === WebSocket.CONNECTING) {
      if (performance.now() - this.#createdReal > LIMITS_WS.openDeadlineMs) {
        this.close(CLOSE.idle, "Upgrade never completed");
        // Its client is gone (Deno 2.9 leaves such a connection in CLOSE-WAIT): cut the relay.
        this.deps.release?.();
        // Deno keeps such a socket (and its connection) for good when the client left before
        // the upgrade: at least it must not keep this connection's state alive too.
        this.ws.onopen =
          this.ws.onmessage =
          this.ws.onclose =
          this.ws.onerror =
            null;
      }
    } else if (this.deps.now() - this.#lastFrameAt > LIMITS_WS.idleMs) {
      this.close(CLOSE.idle, "Idle timeout");
    }
  }

  /**
   * Ends the connection at once (nothing more is started or sent) and sends the close frame once
   * the client pauses, so that it arrives: see LIMITS_WS.closeQuietMs.
   */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#cleanup();
    this.#closing = { code, reason, since: performance.now() };
    this.#closeWhenQuiet();
  }

  #closeWhenQuiet(): void {
    const c = this.#closing;
    if (!c) return;
    const now = performance.now();
    const quiet = now - this.#lastFrameReal;
    const waited = now - c.since;
    if (
      quiet >= LIMITS_WS.closeQuietMs || waited >= LIMITS_WS.closeWaitMaxMs ||
      this.ws.readyState !== WebSocket.OPEN
    ) {
      this.#closing = undefined;
      try {
        this.ws.close(c.code, c.reason);
      } catch (err) {
        log.warn("ws.close_failed", { err });
      }
      this.#releaseIfStuck();
      return;
    }
    const wait = Math.min(LIMITS_WS.closeQuietMs - quiet, LIMITS_WS.closeWaitMaxMs - waited);
    this.#closeTimer = setTimeout(() => this.#closeWhenQuiet(), Math.max(1, wait));
  }

  /** A socket that has not closed some time after its close frame was queued is cut off. */
  #releaseIfStuck(): void {
    const release = this.deps.release;
    if (!release) return;
    const timer = setTimeout(() => {
      if (this.ws.readyState !== WebSocket.CLOSED) release();
    }, LIMITS_WS.releaseAfterMs);
    this.ws.addEventListener("close", () => clearTimeout(timer), { once: true });
  }

  #onClosed(): void {
    clearTimeout(this.#closeTimer);
    this.#closing = undefined;
    this.#cleanup();
  }

  /** Forgets the socket everywhere; safe at any point of its hello (see subscribe, countOnline). */
  #cleanup(): void {
    if (this.#closed) return;
    this.#closed = true;
    open.delete(this);
    if (!open.size) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
    this.deps.hub.drop(this, this.convs.keys(), this.watching);
    this.#intake.clear();
    this.#delivery.stop();
    if (this.#presenceCounted) {
      this.deps.presence.disconnected(this.userId).catch((err) =>
        log.warn("presence.failed", { err })
      );
    }
  }

  // ---- state that commands build up: each refuses once the socket is closed ----

  /** Subscribes to a conversation's messages; false (and nothing kept) when closed. */
  subscribe(convId: string, kind: ConvKind, peerId?: string): boolean {
    if (this.#closed) return false;
    this.convs.set(convId, kind);
    if (peerId) this.peers.set(convId, peerId);
    this.deps.hub.subscribe(convId, this);
    return true;
  }

  /** Follows the presence of these users; false (and nothing kept) when closed. */
  watchPeers(peers: string[]): boolean {
    if (this.#closed) return false;
    for (const p of peers) {
      this.watching.add(p);
      this.deps.hub.watchPresence(p, this);
    }
    return true;
  }

  /** Counts the socket as the user being online, unless it is already closed. */
  async countOnline(): Promise<void> {
    if (this.#closed || this.#presenceCounted) return;
    this.#presenceCounted = true;
    await this.deps.presence.connected(this.userId);
  }

  /** After hello: live messages flow from here on, after what the hello sent. */
  startDelivery(): void {
    this.#delivery.start();
  }

  // ---- delivery (lib/realtime/delivery.ts) ----

  deliverMsg(msg: Message, json: string): void {
    if (!this.#closed) this.#delivery.deliver(msg, json);
  }

  leave(conv: string): void {
    if (!this.convs.delete(conv)) return;
    // Nothing kept per conversation left: a long-lived socket's state follows its memberships.
    this.sent.delete(conv);
    this.peers.delete(conv);
    this.deps.hub.unsubscribe(conv, this);
    this.send({ type: "conv_removed", conv });
  }

  control(c: Control): void {
    switch (c.kind) {
      case "session_revoked":
        if (c.sessionId === this.sessionId) this.close(CLOSE.unauthorized, "Logged out");
        break;
      case "all_sessions_revoked":
        if (c.keep !== this.sessionId) this.close(CLOSE.unauthorized, "Logged out");
        break;
      case "conv_removed":
        this.leave(c.conv);
        break;
      case "conv_added":
        addConv(this, c.conv).catch((err) => log.warn("ws.conv_added_failed", { err }));
        break;
    }
  }

  // ---- client frames ----

  #onMessage(e: MessageEvent): void {
    this.#lastFrameReal = performance.now();
    // A closing socket reads and drops what still comes until the client pauses.
    if (this.#closed) return;
    // Nothing a client sends may take the process down: a throw here would be uncaught.
    try {
      this.#lastFrameAt = this.deps.now();
      this.#intake.take(e.data, this.#lastFrameAt);
    } catch (err) {
      log.error("ws.frame_crashed", { err });
      this.close(CLOSE.badFrames, "Internal error");
    }
  }

  /** Starts what this socket queued, as far as the limits allow (lib/realtime/intake.ts). */
  pump(): void {
    this.#intake.pump();
  }
}
