/**
 * What each client frame does after "hello" (docs/protocol.md#frames; hello is in ./handshake.ts).
 * Membership and the send rules are the chat domain's (lib/chat/conversations.ts,
 * lib/chat/send_rules.ts). Every command checks that its socket is still open after each read,
 * and stops there when it is not: a closed socket costs no more work.
 */
import { type ClientFrame, HISTORY_PAGE_MAX_CHARS, RESUME_MAX_PER_CONV } from "../wire/protocol.ts";
import { type ConvHead, listMembers, readCursor, requireMember } from "../chat/conversations.ts";
import { cardsFor } from "../chat/conv_list.ts";
import { pageBefore, pageCost, range, visibleTo } from "../chat/history.ts";
import { dmPeerOf, reactMessage, recallMessage, textMessage } from "../chat/send_rules.ts";
import type { MsgInput } from "../chat/events.ts";
import { dropMediaBytes, type MediaRecord } from "../chat/media.ts";
import { searchAll, searchConv } from "../chat/search.ts";
import { keys } from "../kv/keys.ts";
import { HttpError } from "../errors.ts";
import { questionFor } from "./bot_answer.ts";
import { log } from "../log.ts";
import { LIMITS_WS } from "./limits.ts";
import { hello } from "./handshake.ts";
import type { Conn } from "./conn.ts";

type Frame<T extends ClientFrame["type"]> = Extract<ClientFrame, { type: T }>;

/** Runs one validated frame (not ping: that is answered on arrival). */
export async function runCommand(c: Conn, f: ClientFrame): Promise<void> {
  switch (f.type) {
    case "hello":
      return await hello(c, f);
    case "send":
      return await send(c, f);
    case "recall": {
      let media: MediaRecord | undefined;
      const input = recallMessage(
        c.deps.kv,
        { conv: f.conv, sender: c.userId, target: f.seq },
        c.deps.now,
        (rec) => media = rec,
      );
      await update(c, f, input);
      if (media) {
        await dropMediaBytes(c.deps.kv, media)
          .catch((err) => log.warn("media.drop_failed", { err }));
      }
      return;
    }
    case "react":
      return await update(
        c,
        f,
        reactMessage({
          conv: f.conv,
          sender: c.userId,
          cid: f.cid,
          target: f.seq,
          emoji: f.emoji,
          on: f.on,
        }, c.deps.now),
      );
    case "history":
      return await history(c, f);
    case "search":
      return await search(c, f);
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

async function send(c: Conn, f: Frame<"send">): Promise<void> {
  const kind = c.convs.get(f.conv);
  // A conversation this socket has not subscribed to yet: the store says whether it is a DM.
  const peer = kind === "dm"
    ? c.peers.get(f.conv)
    : kind === undefined
    ? await dmPeerOf(c.deps.kv, c.userId, f.conv)
    : undefined;
  const ack = await c.deps.log.append(
    textMessage({
      conv: f.conv,
      sender: c.userId,
      cid: f.cid,
      text: f.text,
      reply: f.reply,
      media: f.media,
      mentions: f.mentions,
    }, peer),
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
  if (ack.duplicate) return;
  const convKind = c.convs.get(f.conv) ?? (peer ? "dm" : undefined);
  if (convKind === "dm" || convKind === "group") {
    c.deps.sent({
      conv: f.conv,
      seq: ack.seq,
      kind: convKind,
      peer,
      mentions: f.mentions,
      text: f.text,
      sender: c.me,
    });
  }
  if (!f.text) return;
  const ask = (text: string, group?: boolean) =>
    c.deps.bot.answer({
      conv: f.conv,
      seq: ack.seq,
      text,
      user: c.userId,
      name: c.me.nickname,
      locale: c.locale,
      tz: c.tz,
      group,
    }).catch((err) => log.warn("bot.reply_failed", { err }));
  if (convKind === "bot") ask(f.text);
  else if (convKind === "group") {
    const q = questionFor(f.text, f.mentions);
    if (q !== null) ask(q, true);
  }
}

/** A recall or a reaction: logged like a message, acked like one (docs/protocol.md#updates). */
async function update(
  c: Conn,
  f: Frame<"recall"> | Frame<"react">,
  input: MsgInput,
): Promise<void> {
  const ack = await c.deps.log.append(input);
  c.send({
    type: "ack",
    rid: f.rid,
    cid: ack.cid,
    conv: ack.conv,
    seq: ack.seq,
    at: ack.at,
    id: ack.id,
  });
}

/** Messages with the query's words, in one conversation (paged by `before`) or in all. */
async function search(c: Conn, f: Frame<"search">): Promise<void> {
  const { kv } = c.deps;
  if (f.conv === undefined) {
    const hits = await searchAll(kv, c.userId, f.q);
    if (c.alive) c.send({ type: "search", rid: f.rid, q: f.q, hits });
    return;
  }
  const r = await searchConv(kv, f.conv, c.userId, f.q, f.before);
  if (!r) throw new HttpError(403, "not_member", `Not a member of conversation "${f.conv}"`);
  if (c.alive) c.send({ type: "search", rid: f.rid, q: f.q, ...r });
}

async function history(c: Conn, f: Frame<"history">): Promise<void> {
  const m = await requireMember(c.deps.kv, f.conv, c.userId);
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
  const m = await requireMember(c.deps.kv, f.conv, c.userId);
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
  await requireMember(c.deps.kv, f.conv, c.userId);
  const [head, stored] = await c.deps.kv.getMany<[ConvHead, unknown]>([
    keys.convHead(f.conv),
    keys.read(f.conv, c.userId),
  ]);
  const seq = Math.min(f.seq, head.value?.seq ?? 0);
  const cur = readCursor(head.value, c.userId, stored.value);
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
  // The socket's own subscriptions say it is a member: a keystroke costs no KV read.
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
  await requireMember(c.deps.kv, f.conv, c.userId);
  if (!c.alive) return;
  const head = (await c.deps.kv.get<ConvHead>(keys.convHead(f.conv))).value;
  const reads: Record<string, number> = { ...head?.by };
  for await (const e of c.deps.kv.list({ prefix: keys.reads(f.conv) })) {
    if (!c.alive) return;
    const user = e.key[2] as string;
    reads[user] = readCursor(head, user, e.value);
  }
  c.send({ type: "receipts", rid: f.rid, conv: f.conv, reads });
}

async function members(c: Conn, f: Frame<"members">): Promise<void> {
  await requireMember(c.deps.kv, f.conv, c.userId);
  if (!c.alive) return;
  const list = await listMembers(c.deps.kv, f.conv);
  if (!c.alive) return;
  const cards = await cardsFor(c.deps.kv, list.map((m) => m.userId), c.locale);
  c.send({
    type: "members",
    rid: f.rid,
    conv: f.conv,
    members: list.flatMap((m) => {
      const card = cards.get(m.userId);
      return card
        ? [{ ...card, role: m.role, ...(m.displayName ? { displayName: m.displayName } : {}) }]
        : [];
    }),
  });
}
