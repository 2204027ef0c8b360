/**
 * One WebSocket connection: intake of client frames with their protections (frame size and
 * rate, commands in flight per socket and per user) and a lifecycle in which a closed socket
 * leaves nothing behind. The commands are in ws_commands.ts, ordered delivery in ws_delivery.ts.
 */
import {
  type ClientFrame,
  CLOSE,
  isFrameError,
  MAX_FRAME_BYTES,
  type Message,
  parseClientFrame,
  PROTOCOL_VERSION,
  type ServerFrame,
  type UserCard,
} from "../wire/protocol.ts";
import type { MessageLog } from "./message_log.ts";
import type { Control } from "../chat/events.ts";
import type { Hub, HubConn } from "./hub.ts";
import type { Presence } from "./presence.ts";
import type { ConvKind } from "../chat/conversations.ts";
import { userCard } from "../chat/conv_list.ts";
import { Delivery } from "./delivery.ts";
import { HttpError } from "../errors.ts";
import { log } from "../log.ts";
import type { User } from "../accounts/users.ts";
import type { Locale } from "../i18n/i18n.ts";
import { HEAVY_COMMANDS, LIMITS_WS } from "./limits.ts";
import { addConv, runCommand } from "./commands.ts";

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
  /** Set once the socket is done for: from then on nothing is started, sent or subscribed. */
  #closed = false;
  #helloSeen = false;
  #presenceCounted = false;
  /** Commands waiting for a slot, and how many of this socket's run now. */
  #queue: ClientFrame[] = [];
  #running = 0;
  #helloRunning = false;
  #heavyRunning = false;
  #lastFrameAt: number;
  /** Real time of the last frame (deps.now may be a test's frozen clock). */
  #lastFrameReal = performance.now();
  readonly #createdReal = performance.now();
  #frameCount = 0;
  #frameWindow = 0;
  #badFrames = 0;
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

  send(frame: ServerFrame): void {
    // Checked before serializing: a closed socket costs no JSON.
    if (this.alive) this.sendRaw(JSON.stringify(frame));
  }

  /** Sends an already serialized frame; a socket that cannot keep up is closed to resume later. */
  sendRaw(json: string): void {
    if (!this.alive) return;
    if (this.ws.bufferedAmount > LIMITS_WS.maxBuffered) {
      this.close(CLOSE.slowConsumer, "Too slow: reconnect and resume");
      return;
    }
    this.ws.send(json);
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
    this.#queue = [];
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
      this.#onFrame(e);
    } catch (err) {
      log.error("ws.frame_crashed", { err });
      this.close(CLOSE.badFrames, "Internal error");
    }
  }

  #onFrame(e: MessageEvent): void {
    const now = this.deps.now();
    this.#lastFrameAt = now;
    if (Math.floor(now / 1000) !== this.#frameWindow) {
      this.#frameWindow = Math.floor(now / 1000);
      this.#frameCount = 0;
    }
    if (++this.#frameCount > LIMITS_WS.framesPerSec) {
      return this.close(CLOSE.flood, "Too many frames");
    }
    if (typeof e.data !== "string") return this.#bad("Binary frames are not accepted");
    // UTF-16 length ≤ bytes ≤ 3 × length: count bytes only when it could matter.
    if (
      e.data.length > MAX_FRAME_BYTES ||
      (e.data.length * 3 > MAX_FRAME_BYTES &&
        new TextEncoder().encode(e.data).length > MAX_FRAME_BYTES)
    ) {
      return this.close(CLOSE.frameTooLarge, "Frame too large");
    }
    const frame = parseClientFrame(e.data);
    if (isFrameError(frame)) return this.#bad(frame.message);
    if (frame.type === "hello") {
      if (this.#helloSeen) return this.#bad('"hello" was already sent');
      if (frame.v !== PROTOCOL_VERSION) {
        return this.close(CLOSE.badVersion, `Protocol version ${PROTOCOL_VERSION} is required`);
      }
      this.#helloSeen = true;
    } else if (!this.#helloSeen) {
      return this.#bad('The first frame must be "hello"');
    }
    if (frame.type === "ping") return this.send({ type: "pong", rid: frame.rid });
    // Buckets per user (on this isolate): more tabs do not mean a higher rate. Taken on
    // arrival, so a refused command never waits in the queue.
    if (frame.type === "send" && !this.#token("send", LIMITS_WS.sendPerSec, LIMITS_WS.sendBurst)) {
      return this.#refuse(frame, "rate_limited", "Sending too fast; slow down");
    }
    if (
      HEAVY_COMMANDS.has(frame.type) &&
      !this.#token("heavy", LIMITS_WS.heavyPerSec, LIMITS_WS.heavyBurst)
    ) {
      return this.#refuse(frame, "rate_limited", "Too many requests; slow down");
    }
    if (this.#queue.length >= LIMITS_WS.queuePerSocket) {
      return this.#refuse(frame, "busy", "Too many requests waiting; wait for the answers");
    }
    this.#queue.push(frame);
    this.pump();
  }

  /**
   * Starts queued commands in arrival order while this socket and the user have free slots. A
   * socket runs one heavy command at a time, started only while little waits to be sent: what it
   * has queued to send stays under LIMITS_WS.heavyMaxBuffered plus one answer (a page of 100 of
   * the longest messages is about 1.6 MB), well under the slow-consumer bound.
   * A slot freed by any of the user's sockets calls this again (Hub.releaseWork).
   */
  pump(): void {
    while (
      this.#queue.length && this.#running < LIMITS_WS.runPerSocket && !this.#closed &&
      // hello runs alone: a command sent right behind it needs the state it loads.
      !this.#helloRunning && !(this.#queue[0].type === "hello" && this.#running > 0) &&
      !(this.#heavyRunning && HEAVY_COMMANDS.has(this.#queue[0].type)) &&
      this.deps.hub.takeWork(this.userId, LIMITS_WS.runPerUser)
    ) {
      const frame = this.#queue.shift()!;
      const heavy = HEAVY_COMMANDS.has(frame.type);
      const hello = frame.type === "hello";
      this.#running++;
      if (heavy) this.#heavyRunning = true;
      if (hello) this.#helloRunning = true;
      this.#run(frame).catch((err) => log.error("ws.run_failed", { err })).finally(() => {
        this.#running--;
        if (heavy) this.#heavyRunning = false;
        if (hello) this.#helloRunning = false;
        this.deps.hub.releaseWork(this.userId);
        this.pump();
      });
    }
  }

  async #run(frame: ClientFrame): Promise<void> {
    if (!this.alive) return;
    if (HEAVY_COMMANDS.has(frame.type) && this.ws.bufferedAmount > LIMITS_WS.heavyMaxBuffered) {
      return this.#refuse(frame, "busy", "Earlier answers are still being sent; retry later");
    }
    this.deps.hub.commandStarted(frame.type);
    try {
      await runCommand(this, frame);
    } catch (err) {
      const he = err instanceof HttpError ? err : null;
      if (!he) log.error("ws.frame_failed", { type: frame.type, err });
      this.#refuse(frame, he?.code ?? "internal", he?.message ?? "Internal error");
    } finally {
      this.deps.hub.commandEnded(frame.type);
    }
  }

  #token(kind: string, perSec: number, burst: number): boolean {
    return this.deps.hub.takeToken(`${kind} ${this.userId}`, this.deps.now(), perSec, burst);
  }

  /** Answers one frame with an error naming its rid (and cid for a send). */
  #refuse(frame: ClientFrame, code: string, message: string): void {
    const rid = "rid" in frame ? frame.rid : undefined;
    const cid = frame.type === "send" ? frame.cid : undefined;
    this.send({ type: "error", rid, cid, code, message });
  }

  #bad(message: string): void {
    this.send({ type: "error", code: "bad_frame", message });
    if (++this.#badFrames >= LIMITS_WS.badFramesBeforeClose) {
      this.close(CLOSE.badFrames, "Too many invalid frames");
    }
  }
}
