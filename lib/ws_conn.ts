/**
 * One WebSocket connection: the hello/resume handshake, client frames, ordered delivery with
 * gap filling, heartbeats and the protections (frame size, rate, buffer bound).
 */
import {
  type ClientFrame,
  CLOSE,
  isFrameError,
  MAX_FRAME_BYTES,
  type Message,
  parseClientFrame,
  PROTOCOL_VERSION,
  RESUME_MAX_PER_CONV,
  type ServerFrame,
  type UserCard,
} from "./protocol.ts";
import type { Control, MessageLog, Prepared } from "./fanout.ts";
import type { Hub, HubConn } from "./hub.ts";
import type { Presence } from "./presence.ts";
import {
  type ConvKind,
  getConversation,
  getMember,
  listUserConvs,
  type UserConv,
} from "./conversations.ts";
import { cardsFor, cursorValue, summarize, userCard } from "./conv_list.ts";
import { pageBefore, range, visibleTo } from "./history.ts";
import { keys } from "./kv_keys.ts";
import { HttpError } from "./http_error.ts";
import { botReply } from "./bot.ts";
import { BOT_ID } from "./conversations.ts";
import { log } from "./log.ts";
import type { User } from "./users.ts";
import type { Locale } from "./i18n.ts";

export const LIMITS_WS = {
  /** Bytes the socket may have queued before it is closed as a slow consumer. */
  maxBuffered: 4 * 1024 * 1024,
  /** Messages waiting for in-order delivery before the socket is closed as a slow consumer. */
  maxBacklog: 5000,
  idleMs: 75_000,
  sendPerSec: 10,
  sendBurst: 30,
  framesPerSec: 60,
  badFramesBeforeClose: 20,
  typingEveryMs: 3000,
};

/** Every open connection of this isolate, swept for idleness by one timer rather than one each. */
const open = new Set<Conn>();
let sweeper: ReturnType<typeof setInterval> | undefined;

function sweepIdle(): void {
  for (const c of [...open]) c.closeIfIdle();
}

export interface ConnDeps {
  kv: Deno.Kv;
  log: MessageLog;
  hub: Hub;
  presence: Presence;
  isolate: string;
  now: () => number;
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
  /** Messages waiting for in-order delivery, each with its frame serialized once for all sockets. */
  #backlog: { msg: Message; json: string }[] = [];
  #filling = false;
  #ready = false;
  #closed = false;
  #helloSeen = false;
  #lastFrameAt: number;
  #frameCount = 0;
  #frameWindow = 0;
  #badFrames = 0;

  /** The user's card: all a socket needs of the user (not the whole record, per open socket). */
  readonly me: UserCard;

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
    this.ws.onclose = () => this.#cleanup();
    this.ws.onerror = () => this.#cleanup();
    open.add(this);
    sweeper ??= setInterval(sweepIdle, 5000);
    this.deps.hub.addUser(this);
  }

  send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  /** Sends an already serialized frame; a socket that cannot keep up is closed to resume later. */
  sendRaw(json: string): void {
    if (this.#closed || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > LIMITS_WS.maxBuffered) {
      this.close(CLOSE.slowConsumer, "Too slow: reconnect and resume");
      return;
    }
    this.ws.send(json);
  }

  /** Closes the socket when no frame has come for the idle limit (called by the shared sweep). */
  closeIfIdle(): void {
    if (this.deps.now() - this.#lastFrameAt > LIMITS_WS.idleMs) {
      this.close(CLOSE.idle, "Idle timeout");
    }
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    try {
      this.ws.close(code, reason);
    } catch { /* already closing */ }
    this.#cleanup();
  }

  #cleanup(): void {
    if (this.#closed) return;
    this.#closed = true;
    open.delete(this);
    if (!open.size) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
    this.deps.hub.drop(this, this.convs.keys(), this.watching);
    if (this.#helloSeen) {
      this.deps.presence.disconnected(this.userId).catch((err) =>
        log.warn("presence.failed", { err })
      );
    }
  }

  // ---- delivery: in seq order per conversation, filling gaps from the log ----

  deliverMsg(msg: Message, json: string): void {
    if (!this.convs.has(msg.conv)) return;
    // Fast path: the next message in order, nothing waiting.
    if (
      this.#ready && !this.#filling && !this.#backlog.length &&
      msg.seq === (this.sent.get(msg.conv) ?? 0) + 1
    ) {
      this.#emit(msg, json);
      return;
    }
    this.#backlog.push({ msg, json });
    if (this.#backlog.length > LIMITS_WS.maxBacklog) {
      return this.close(CLOSE.slowConsumer, "Too slow: reconnect and resume");
    }
    this.#drain();
  }

  #drain(): void {
    if (!this.#ready || this.#filling) return;
    while (this.#backlog.length) {
      const { msg: m, json } = this.#backlog[0];
      if (!this.convs.has(m.conv)) {
        this.#backlog.shift();
        continue;
      }
      const last = this.sent.get(m.conv) ?? 0;
      if (m.seq <= last) {
        this.#backlog.shift();
      } else if (m.seq === last + 1) {
        this.#backlog.shift();
        this.#emit(m, json);
      } else {
        this.#filling = true;
        let failed = false;
        range(this.deps.kv, m.conv, last, m.seq - 1, m.seq - 1 - last).then((missing) => {
          for (const x of missing) {
            if (!this.convs.has(m.conv)) break;
            if (x.seq === (this.sent.get(m.conv) ?? 0) + 1) this.#emit(x);
          }
          // What the log no longer has (or never showed this member) cannot be sent: move on.
          if (this.convs.has(m.conv) && (this.sent.get(m.conv) ?? 0) < m.seq - 1) {
            this.sent.set(m.conv, m.seq - 1);
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
    this.sent.set(msg.conv, msg.seq);
    if (msg.only && msg.only !== this.userId) return; // counted as sent, never shown
    this.sendRaw(json ?? JSON.stringify({ type: "msg", msg }));
    const meta = msg.meta;
    if (
      meta?.event === "dissolved" ||
      (meta?.userId === this.userId &&
        (meta.event === "member_removed" || meta.event === "member_left"))
    ) {
      this.#leave(msg.conv);
    }
  }

  #leave(conv: string): void {
    if (!this.convs.delete(conv)) return;
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
        this.#leave(c.conv);
        break;
      case "conv_added":
        this.#addConv(c.conv).catch((err) => log.warn("ws.conv_added_failed", { err }));
        break;
    }
  }

  async #addConv(convId: string): Promise<void> {
    if (this.convs.has(convId)) return;
    const [conv, member, entry] = await Promise.all([
      getConversation(this.deps.kv, convId),
      getMember(this.deps.kv, convId, this.userId),
      this.deps.kv.get<UserConv>(keys.userConv(this.userId, convId)).then((e) => e.value),
    ]);
    if (!conv || !member || !entry || this.#closed || this.convs.has(convId)) return;
    // Subscribe before reading the summary (as at hello): nothing committed in between is missed.
    this.convs.set(convId, conv.kind);
    if (entry.peerId) this.peers.set(convId, entry.peerId);
    this.sent.set(convId, Math.max(this.sent.get(convId) ?? 0, member.joinedSeq));
    this.deps.hub.subscribe(convId, this);
    const [summary] = await summarize(this.deps.kv, this.userId, [entry], this.locale);
    if (!summary || !this.convs.has(convId)) return;
    if (entry.peerId) await this.#watchPresence([entry.peerId], [summary]);
    this.send({ type: "conv", conv: summary });
  }

  // ---- client frames ----

  #onMessage(e: MessageEvent): void {
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
    if (!this.#helloSeen && frame.type !== "hello") {
      return this.#bad('The first frame must be "hello"');
    }
    this.#handle(frame).catch((err) => {
      const he = err instanceof HttpError ? err : null;
      if (!he) log.error("ws.frame_failed", { type: frame.type, err });
      const rid = "rid" in frame ? frame.rid : undefined;
      const cid = frame.type === "send" ? frame.cid : undefined;
      this.send({
        type: "error",
        rid,
        cid,
        code: he?.code ?? "internal",
        message: he?.message ?? "Internal error",
      });
    });
  }

  #bad(message: string): void {
    this.send({ type: "error", code: "bad_frame", message });
    if (++this.#badFrames >= LIMITS_WS.badFramesBeforeClose) {
      this.close(CLOSE.badFrames, "Too many invalid frames");
    }
  }

  async #handle(f: ClientFrame): Promise<void> {
    switch (f.type) {
      case "hello":
        return await this.#hello(f);
      case "ping":
        return this.send({ type: "pong", rid: f.rid });
      case "send":
        return await this.#send(f);
      case "history":
        return await this.#history(f);
      case "sync":
        return await this.#sync(f);
      case "read":
        return await this.#read(f);
      case "typing":
        return await this.#typing(f);
      case "receipts":
        return await this.#receipts(f);
      case "members":
        return await this.#members(f);
    }
  }

  /** Register first, then read state, then release what arrived meanwhile: no race at connect. */
  async #hello(f: Extract<ClientFrame, { type: "hello" }>): Promise<void> {
    if (this.#helloSeen) return this.#bad('"hello" was already sent');
    if (f.v !== PROTOCOL_VERSION) {
      return this.close(CLOSE.badVersion, `Protocol version ${PROTOCOL_VERSION} is required`);
    }
    this.#helloSeen = true;
    const { kv } = this.deps;
    const entries = await listUserConvs(kv, this.userId);
    for (const e of entries) {
      this.convs.set(e.convId, e.kind);
      if (e.peerId) this.peers.set(e.convId, e.peerId);
      this.deps.hub.subscribe(e.convId, this);
    }
    await this.deps.presence.connected(this.userId);
    const summaries = await summarize(kv, this.userId, entries, this.locale);
    const peers = entries.filter((e) => e.peerId).map((e) => e.peerId!);
    await this.#watchPresence(peers, summaries);
    this.send({
      type: "welcome",
      v: PROTOCOL_VERSION,
      me: this.me,
      convs: summaries,
      isolate: this.deps.isolate,
    });
    for (const s of summaries) {
      const asked = f.resume?.[s.id];
      if (asked !== undefined && asked < s.lastSeq) {
        // Never replay what came before the user joined (history and sync have the same floor).
        const from = Math.max(asked, (await getMember(kv, s.id, this.userId))?.joinedSeq ?? 0);
        if (s.lastSeq - from > RESUME_MAX_PER_CONV) {
          this.send({ type: "gap", conv: s.id, after: from, lastSeq: s.lastSeq });
        } else {
          for (const { msg, json } of await this.deps.hub.recent.range(kv, s.id, from, s.lastSeq)) {
            if (visibleTo(msg, this.userId)) this.sendRaw(json);
          }
        }
      }
      this.sent.set(s.id, Math.max(this.sent.get(s.id) ?? 0, s.lastSeq));
    }
    this.send({ type: "resumed" });
    this.#ready = true;
    this.#drain();
  }

  async #watchPresence(
    peers: string[],
    summaries: { peer?: { id: string; online?: boolean; lastSeen?: number | null } }[],
  ): Promise<void> {
    if (!peers.length) return;
    for (const p of peers) {
      this.watching.add(p);
      this.deps.hub.watchPresence(p, this);
    }
    const states = await this.deps.presence.online(peers);
    for (const s of summaries) {
      const st = s.peer && states.get(s.peer.id);
      if (st && s.peer) Object.assign(s.peer, st);
    }
  }

  async #send(f: Extract<ClientFrame, { type: "send" }>): Promise<void> {
    // One bucket per user (on this isolate): more tabs do not mean a higher rate.
    if (
      !this.deps.hub.takeSendToken(
        this.userId,
        this.deps.now(),
        LIMITS_WS.sendPerSec,
        LIMITS_WS.sendBurst,
      )
    ) {
      throw new HttpError(429, "rate_limited", "Sending too fast; slow down");
    }
    const peer = this.convs.get(f.conv) === "dm" ? this.peers.get(f.conv) : undefined;
    const ack = await this.deps.log.append({
      conv: f.conv,
      sender: this.userId,
      cid: f.cid,
      kind: "text",
      text: f.text,
      checkMember: true,
      reads: peer ? [keys.friend(this.userId, peer), keys.block(peer, this.userId)] : undefined,
      prepare: peer
        ? ([friend, blocked]) => this.#dmRules(f.conv, peer, friend, blocked)
        : undefined,
    });
    this.send({
      type: "ack",
      rid: f.rid,
      cid: f.cid,
      conv: ack.conv,
      seq: ack.seq,
      at: ack.at,
      id: ack.id,
    });
    if (!ack.duplicate && this.convs.get(f.conv) === "bot") {
      const text = botReply(f.text, { locale: this.locale, name: this.me.nickname });
      this.deps.log.append({
        conv: f.conv,
        sender: BOT_ID,
        cid: `re-${ack.seq}`,
        kind: "text",
        text,
        checkMember: false,
      })
        .catch((err) => log.warn("bot.reply_failed", { err }));
    }
  }

  /**
   * A DM needs a friendship (after "delete friend" nobody can send in it). A message to someone
   * who blocked the sender is stored for the sender only: it looks sent, and never arrives.
   */
  // deno-lint-ignore require-await
  async #dmRules(
    conv: string,
    peer: string,
    friend: Deno.KvEntryMaybe<unknown>,
    blocked: Deno.KvEntryMaybe<unknown>,
  ): Promise<Prepared> {
    if (!friend.value) {
      throw new HttpError(403, "not_friends", "You are not friends: send a friend request first");
    }
    if (!blocked.value) return { checks: [friend, blocked], apply: () => {} };
    return {
      checks: [friend, blocked],
      // The blocker never sees it, so it must not count as unread for them either.
      apply: (op, seq) => op.max(keys.read(conv, peer), BigInt(seq)),
      only: this.userId,
    };
  }

  async #requireMember(conv: string) {
    const m = await getMember(this.deps.kv, conv, this.userId);
    if (!m) throw new HttpError(403, "not_member", `Not a member of conversation "${conv}"`);
    return m;
  }

  async #history(f: Extract<ClientFrame, { type: "history" }>): Promise<void> {
    const m = await this.#requireMember(f.conv);
    // Hidden messages are skipped inside the page: filtering a full page could leave it empty
    // while hasMore says to ask again with the same cursor, forever.
    const page = await pageBefore(
      this.deps.kv,
      f.conv,
      f.before,
      f.limit ?? 30,
      m.joinedSeq,
      this.userId,
    );
    this.send({
      type: "history",
      rid: f.rid,
      conv: f.conv,
      messages: page.messages,
      hasMore: page.hasMore,
    });
  }

  async #sync(f: Extract<ClientFrame, { type: "sync" }>): Promise<void> {
    const m = await this.#requireMember(f.conv);
    const head = (await this.deps.kv.get<{ seq: number }>(keys.convHead(f.conv))).value?.seq ?? 0;
    const after = Math.max(f.after, m.joinedSeq);
    if (head - after > RESUME_MAX_PER_CONV) {
      this.send({ type: "gap", conv: f.conv, after, lastSeq: head });
      return;
    }
    const messages = (await range(this.deps.kv, f.conv, after, head, RESUME_MAX_PER_CONV)).filter((
      x,
    ) => visibleTo(x, this.userId));
    this.send({ type: "history", rid: f.rid, conv: f.conv, messages, hasMore: false });
    this.send({ type: "synced", rid: f.rid, conv: f.conv, lastSeq: head });
  }

  async #read(f: Extract<ClientFrame, { type: "read" }>): Promise<void> {
    await this.#requireMember(f.conv);
    const head = (await this.deps.kv.get<{ seq: number }>(keys.convHead(f.conv))).value?.seq ?? 0;
    const seq = Math.min(f.seq, head);
    const cur = cursorValue((await this.deps.kv.get(keys.read(f.conv, this.userId))).value);
    if (seq <= cur) return;
    await this.deps.kv.atomic().max(keys.read(f.conv, this.userId), BigInt(seq)).commit();
    await this.deps.log.publish({
      t: "conv",
      conv: f.conv,
      frame: { type: "read", conv: f.conv, user: this.userId, seq },
    });
  }

  async #typing(f: Extract<ClientFrame, { type: "typing" }>): Promise<void> {
    if (!this.convs.has(f.conv)) {
      throw new HttpError(403, "not_member", `Not a member of conversation "${f.conv}"`);
    }
    if (!this.deps.hub.allowTyping(this.userId, f.conv, this.deps.now(), LIMITS_WS.typingEveryMs)) {
      return;
    }
    await this.deps.log.publish({
      t: "conv",
      conv: f.conv,
      except: this.userId,
      frame: { type: "typing", conv: f.conv, user: this.userId },
    });
  }

  async #receipts(f: Extract<ClientFrame, { type: "receipts" }>): Promise<void> {
    await this.#requireMember(f.conv);
    const reads: Record<string, number> = {};
    for await (const e of this.deps.kv.list({ prefix: keys.reads(f.conv) })) {
      reads[e.key[2] as string] = cursorValue(e.value);
    }
    this.send({ type: "receipts", rid: f.rid, conv: f.conv, reads });
  }

  async #members(f: Extract<ClientFrame, { type: "members" }>): Promise<void> {
    await this.#requireMember(f.conv);
    const members: { userId: string; role: string }[] = [];
    for await (
      const e of this.deps.kv.list<{ userId: string; role: string }>({
        prefix: keys.members(f.conv),
      })
    ) members.push(e.value);
    const cards = await cardsFor(this.deps.kv, members.map((m) => m.userId), this.locale);
    this.send({
      type: "members",
      rid: f.rid,
      conv: f.conv,
      members: members.flatMap((m) => {
        const c = cards.get(m.userId);
        return c ? [{ ...c, role: m.role }] : [];
      }),
    });
  }
}
