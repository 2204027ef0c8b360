/**
 * The start of a connection and of each conversation on it: "hello" subscribes first, then reads
 * state, then resumes what the client missed and releases what arrived meanwhile (no race at
 * connect); a conversation joined later (a conv_added signal) is added the same way.
 */
import { type ClientFrame, PROTOCOL_VERSION, RESUME_MAX_PER_CONV } from "../wire/protocol.ts";
import { getConversation, getMember, listUserConvs, type UserConv } from "../chat/conversations.ts";
import { summarize } from "../chat/conv_list.ts";
import { visibleTo } from "../chat/history.ts";
import { keys } from "../kv/keys.ts";
import type { Conn } from "./conn.ts";

/**
 * Subscribe first, then read state, then release what arrived meanwhile: no race at connect. A
 * socket that closes at any point leaves nothing: subscribing and counting online refuse once it
 * is closed, and what came before is undone by its cleanup.
 */
export async function hello(c: Conn, f: Extract<ClientFrame, { type: "hello" }>): Promise<void> {
  const { kv } = c.deps;
  c.tz = f.tz;
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
      if (!await resume(c, s.id, asked, s.lastSeq)) return;
    }
    c.sent.set(s.id, Math.max(c.sent.get(s.id) ?? 0, s.lastSeq));
  }
  c.send({ type: "resumed" });
  c.startDelivery();
}

/**
 * Sends what the client missed of one conversation after `asked`, from memory or the log, or a
 * "gap" when that is too much; false when the socket closed.
 */
async function resume(c: Conn, conv: string, asked: number, lastSeq: number): Promise<boolean> {
  const { kv } = c.deps;
  // Never replay what came before the user joined (history and sync have the same floor).
  const from = Math.max(asked, (await getMember(kv, conv, c.userId))?.joinedSeq ?? 0);
  if (!c.alive) return false;
  if (lastSeq - from > RESUME_MAX_PER_CONV) {
    c.send({ type: "gap", conv, after: from, lastSeq });
    return true;
  }
  const missed = await c.deps.hub.recent.range(kv, conv, from, lastSeq);
  if (!c.alive) return false;
  for (const { msg, json } of missed) if (visibleTo(msg, c.userId)) c.sendRaw(json);
  return true;
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
  // What was committed between the join and the subscription (the "joined" message itself):
  // through delivery, which keeps the order with what arrives live meanwhile.
  const from = c.sent.get(convId) ?? member.joinedSeq;
  if (summary.lastSeq > from) {
    const missed = await c.deps.hub.recent.range(kv, convId, from, summary.lastSeq);
    for (const { msg, json } of missed) c.deliverMsg(msg, json);
  }
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
