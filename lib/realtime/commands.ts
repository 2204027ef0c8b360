/**
 * What each client frame does (docs/protocol.md#frames). Every command checks that its socket is
 * still open after each read, and stops there when it is not: a closed socket costs no more work.
 */
import {
  type ClientFrame,
  HISTORY_PAGE_MAX_CHARS,
  PROTOCOL_VERSION,
  RESUME_MAX_PER_CONV,
} from "../wire/protocol.ts";
import { getConversation, getMember, listUserConvs, type UserConv } from "../chat/conversations.ts";
import { cardsFor, cursorValue, summarize } from "../chat/conv_list.ts";
import { pageBefore, pageCost, range, visibleTo } from "../chat/history.ts";
import { keys } from "../kv/keys.ts";
import { HttpError } from "../errors.ts";
import { botReply } from "../chat/bot.ts";
import { botMessage, textMessage } from "../chat/send_rules.ts";
import { log } from "../log.ts";
import { LIMITS_WS } from "./limits.ts";
import type { Conn } from "./conn.ts";

type Frame<T extends ClientFrame["type"]> = Extract<ClientFrame, { type: T }>;

/** Runs one validated frame (not ping: that is answered on arrival). */
export async function runCommand(c: Conn, f: ClientFrame): Promise<void> {
  switch (f.type) {
    case "hello":
      return await hello(c, f);
    case "send":
      return await send(c, f);
    case "history":
      return await history(c, f);
    case "sync":
      return await sync(c, f);
    case "read":
      return await read(c, f);
    case "typing":
      return await typing(c, f);
    case "receipts":
      return await receipts(c, f);
    case "members":
      return await members(c, f);
    case "ping":
      return c.send({ type: "pong", rid: f.rid });
  }
}

/**
 * Subscribe first, then read state, then release what arrived meanwhile: no race at connect. A
 * socket that closes at any point leaves nothing: subscribing and counting online refuse once it
 * is closed, and what came before is undone by its cleanup.
 */
async function hello(c: Conn, f: Frame<"hello">): Promise<void> {
  const { kv } = c.deps;
  const entries = await listUserConvs(kv, c.userId);
  for (const e of entries) if (!c.subscribe(e.convId, e.kind, e.peerId)) return;
  await c.countOnline();
  if (!c.alive) return;
  const summaries = await summarize(kv, c.userId, entries, c.locale);
  if (!c.alive) return;
  const peers = entries.filter((e) => e.peerId).map((e) => e.peerId!);
  if (!await peerStates(c, peers, summaries)) return;
  c.send({
    type: "welcome",
    v: PROTOCOL_VERSION,
    me: c.me,
    convs: summaries,
    isolate: c.deps.isolate,
  });
  for (const s of summaries) {
    const asked = f.resume?.[s.id];
    if (asked !== undefined && asked < s.lastSeq) {
      // Never replay what came before the user joined (history and sync have the same floor).
      const from = Math.max(asked, (await getMember(kv, s.id, c.userId))?.joinedSeq ?? 0);
      if (!c.alive) return;
      if (s.lastSeq - from > RESUME_MAX_PER_CONV) {
        c.send({ type: "gap", conv: s.id, after: from, lastSeq: s.lastSeq });
      } else {
        const missed = await c.deps.hub.recent.range(kv, s.id, from, s.lastSeq);
        if (!c.alive) return;
        for (const { msg, json } of missed) if (visibleTo(msg, c.userId)) c.sendRaw(json);
      }
    }
    c.sent.set(s.id, Math.max(c.sent.get(s.id) ?? 0, s.lastSeq));
  }
  c.send({ type: "resumed" });
  c.startDelivery();
}

/** A conversation this user just joined (a conv_added signal): subscribe, then tell the socket. */
export async function addConv(c: Conn, convId: string): Promise<void> {
  if (c.convs.has(convId)) return;
  const { kv } = c.deps;
  const [conv, member, entry] = await Promise.all([
    getConversation(kv, convId),
    getMember(kv, convId, c.userId),
    kv.get<UserConv>(keys.userConv(c.userId, convId)).then((e) => e.value),
  ]);
  if (!conv || !member || !entry || c.convs.has(convId)) return;
  // Subscribe before reading the summary (as at hello): nothing committed in between is missed.
  if (!c.subscribe(convId, conv.kind, entry.peerId)) return;
  c.sent.set(convId, Math.max(c.sent.get(convId) ?? 0, member.joinedSeq));
  const [summary] = await summarize(kv, c.userId, [entry], c.locale);
  if (!summary || !c.convs.has(convId) || !c.alive) return;
  if (entry.peerId && !await peerStates(c, [entry.peerId], [summary])) return;
  c.send({ type: "conv", conv: summary });
}

/** Follows the peers' presence and fills in their state; false when the socket closed. */
async function peerStates(
  c: Conn,
  peers: string[],
  summaries: { peer?: { id: string; online?: boolean; lastSeen?: number | null } }[],
): Promise<boolean> {
  if (!peers.length) return c.alive;
  if (!c.watchPeers(peers)) return false;
  const states = await c.deps.presence.online(peers);
  for (const s of summaries) {
    const st = s.peer && states.get(s.peer.id);
    if (st && s.peer) Object.assign(s.peer, st);
  }
  return c.alive;
}

async function send(c: Conn, f: Frame<"send">): Promise<void> {
  const peer = c.convs.get(f.conv) === "dm" ? c.peers.get(f.conv) : undefined;
  const ack = await c.deps.log.append(
    textMessage({ conv: f.conv, sender: c.userId, cid: f.cid, text: f.text }, peer),
  );
  c.send({
    type: "ack",
    rid: f.rid,
    cid: f.cid,
    conv: ack.conv,
    seq: ack.seq,
    at: ack.at,
    id: ack.id,
  });
  if (!ack.duplicate && c.convs.get(f.conv) === "bot") {
    const text = botReply(f.text, { locale: c.locale, name: c.me.nickname });
    c.deps.log.append(botMessage(f.conv, ack.seq, text))
      .catch((err) => log.warn("bot.reply_failed", { err }));
  }
}

async function requireMember(c: Conn, conv: string) {
  const m = await getMember(c.deps.kv, conv, c.userId);
  if (!m) throw new HttpError(403, "not_member", `Not a member of conversation "${conv}"`);
  return m;
}

async function history(c: Conn, f: Frame<"history">): Promise<void> {
  const m = await requireMember(c, f.conv);
  if (!c.alive) return;
  // Hidden messages are skipped inside the page: filtering a full page could leave it empty
  // while hasMore says to ask again with the same cursor, forever.
  const page = await pageBefore(
    c.deps.kv,
    f.conv,
    f.before,
    f.limit ?? 30,
    m.joinedSeq,
    c.userId,
  );
  c.send({
    type: "history",
    rid: f.rid,
    conv: f.conv,
    messages: page.messages,
    hasMore: page.hasMore,
  });
}

async function sync(c: Conn, f: Frame<"sync">): Promise<void> {
  const m = await requireMember(c, f.conv);
  const head = (await c.deps.kv.get<{ seq: number }>(keys.convHead(f.conv))).value?.seq ?? 0;
  if (!c.alive) return;
  const after = Math.max(f.after, m.joinedSeq);
  if (head - after > RESUME_MAX_PER_CONV) {
    c.send({ type: "gap", conv: f.conv, after, lastSeq: head });
    return;
  }
  const messages = (await range(c.deps.kv, f.conv, after, head, RESUME_MAX_PER_CONV))
    .filter((x) => visibleTo(x, c.userId));
  // As much text as a history page holds at most, or the client pages history instead.
  if (messages.reduce((n, m) => n + pageCost(m), 0) > HISTORY_PAGE_MAX_CHARS) {
    c.send({ type: "gap", conv: f.conv, after, lastSeq: head });
    return;
  }
  c.send({ type: "history", rid: f.rid, conv: f.conv, messages, hasMore: false });
  c.send({ type: "synced", rid: f.rid, conv: f.conv, lastSeq: head });
}

async function read(c: Conn, f: Frame<"read">): Promise<void> {
  await requireMember(c, f.conv);
  const head = (await c.deps.kv.get<{ seq: number }>(keys.convHead(f.conv))).value?.seq ?? 0;
  const seq = Math.min(f.seq, head);
  const cur = cursorValue((await c.deps.kv.get(keys.read(f.conv, c.userId))).value);
  if (seq <= cur) return;
  // A read mark is the user's, not the socket's: it is stored even if this socket just closed.
  await c.deps.kv.atomic().max(keys.read(f.conv, c.userId), BigInt(seq)).commit();
  await c.deps.log.publish({
    t: "conv",
    conv: f.conv,
    frame: { type: "read", conv: f.conv, user: c.userId, seq },
  });
}

async function typing(c: Conn, f: Frame<"typing">): Promise<void> {
  if (!c.convs.has(f.conv)) {
    throw new HttpError(403, "not_member", `Not a member of conversation "${f.conv}"`);
  }
  if (!c.deps.hub.allowTyping(c.userId, f.conv, c.deps.now(), LIMITS_WS.typingEveryMs)) return;
  await c.deps.log.publish({
    t: "conv",
    conv: f.conv,
    except: c.userId,
    frame: { type: "typing", conv: f.conv, user: c.userId },
  });
}

async function receipts(c: Conn, f: Frame<"receipts">): Promise<void> {
  await requireMember(c, f.conv);
  if (!c.alive) return;
  const reads: Record<string, number> = {};
  for await (const e of c.deps.kv.list({ prefix: keys.reads(f.conv) })) {
    if (!c.alive) return;
    reads[e.key[2] as string] = cursorValue(e.value);
  }
  c.send({ type: "receipts", rid: f.rid, conv: f.conv, reads });
}

async function members(c: Conn, f: Frame<"members">): Promise<void> {
  await requireMember(c, f.conv);
  if (!c.alive) return;
  const list: { userId: string; role: string }[] = [];
  for await (
    const e of c.deps.kv.list<{ userId: string; role: string }>({ prefix: keys.members(f.conv) })
  ) {
    if (!c.alive) return;
    list.push(e.value);
  }
  const cards = await cardsFor(c.deps.kv, list.map((m) => m.userId), c.locale);
  c.send({
    type: "members",
    rid: f.rid,
    conv: f.conv,
    members: list.flatMap((m) => {
      const card = cards.get(m.userId);
      return card ? [{ ...card, role: m.role }] : [];
    }),
  });
}
