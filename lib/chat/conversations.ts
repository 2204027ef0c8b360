/** Conversations (DM, group, bot) and their membership, kept in step both ways in one atomic write. */
import { keys } from "../kv/keys.ts";
import { newId } from "../ids.ts";
import { HttpError } from "../errors.ts";
import type { LastPreview, Message } from "../wire/protocol.ts";
import type { Role } from "../wire/roles.ts";

export type ConvKind = "dm" | "group" | "bot";

/** The built-in bot's user id; it is a member of every user's bot conversation. */
export const BOT_ID = "bot";

export interface Conversation {
  id: string;
  kind: ConvKind;
  /** Group name; "" for DMs and the bot conversation. */
  title: string;
  createdAt: number;
  createdBy: string;
  /** Groups only (lib/groups/groups.ts): */
  avatar?: string | null;
  notice?: { text: string; by: string; at: number } | null;
  /** Listed in group search and joinable by anyone; otherwise by invite link or approved request. */
  public?: boolean;
  /** Members may add their friends (admins always may). */
  memberInvite?: boolean;
  cap?: number;
  dissolved?: boolean;
}

/** The conversation's log head: written in the same atomic op as every message. */
export interface ConvHead {
  seq: number;
  at: number;
  last: LastPreview;
  /**
   * The latest senders' own last seqs (at most 16, oldest first): each has read up to there.
   * Someone's read position is the larger of this and their `read` key (readCursor()).
   */
  by?: Record<string, number>;
  /** The latest @mentions, [user, seq], oldest first (at most HEAD_MENTIONS), and the last @all. */
  ment?: [string, number][];
  mentAll?: number;
  /** The seqs of the latest update entries (recalls, reactions), at most HEAD_UPDATES: not unread. */
  upd?: number[];
}

/** Update entries a head remembers, so that they do not count as unread messages. */
export const HEAD_UPDATES = 64;

/** Mentions a head remembers: past them, an older unread mention is no longer marked. */
export const HEAD_MENTIONS = 32;

/** The newest seq at which `head` mentions `userId` (or @all), 0 when none remembered. */
export function mentionSeqOf(head: ConvHead, userId: string): number {
  let seq = head.mentAll ?? 0;
  for (const [u, s] of head.ment ?? []) if (u === userId && s > seq) seq = s;
  return seq;
}

/** How far `userId` has read: their read key's value, or their own last message if later. */
export function readCursor(head: ConvHead | null, userId: string, readValue: unknown): number {
  const stored = readValue instanceof Deno.KvU64
    ? Number(readValue.value)
    : typeof readValue === "number"
    ? readValue
    : 0;
  return Math.max(stored, head?.by?.[userId] ?? 0);
}

export interface Member {
  userId: string;
  role: Role;
  joinedAt: number;
  /** The head seq when they joined: what came before is not unread for them. */
  joinedSeq: number;
  /** Groups: the name they chose to show in this group. */
  displayName?: string;
  /** Groups: cannot send until this time (ms). */
  mutedUntil?: number;
}

/** A user's index entry for one of their conversations. */
export interface UserConv {
  convId: string;
  kind: ConvKind;
  /** The other person in a DM (or the bot). */
  peerId?: string;
}

function convRecord(kind: ConvKind, createdBy: string, title: string, now: number): Conversation {
  return { id: newId(now), kind, title, createdAt: now, createdBy };
}

/** Adds the writes that create a conversation with its first members to an atomic op. */
export function addConversationWrites(
  op: Deno.AtomicOperation,
  conv: Conversation,
  members: { userId: string; role: Role; peerId?: string }[],
  now: number,
): Deno.AtomicOperation {
  const head: ConvHead = { seq: 0, at: now, last: null };
  op.check({ key: keys.conv(conv.id), versionstamp: null })
    .set(keys.conv(conv.id), conv)
    .set(keys.convHead(conv.id), head);
  for (const m of members) {
    const member: Member = { userId: m.userId, role: m.role, joinedAt: now, joinedSeq: 0 };
    const idx: UserConv = {
      convId: conv.id,
      kind: conv.kind,
      ...(m.peerId ? { peerId: m.peerId } : {}),
    };
    op.set(keys.member(conv.id, m.userId), member).set(keys.userConv(m.userId, conv.id), idx);
  }
  return op;
}

/** The writes for a new user's bot conversation (used inside createUser's atomic op). */
export function botConversationWrites(
  op: Deno.AtomicOperation,
  userId: string,
  now: number,
  greeting?: string,
): Deno.AtomicOperation {
  const conv = convRecord("bot", userId, "", now);
  op.check({ key: keys.botConv(userId), versionstamp: null }).set(keys.botConv(userId), conv.id);
  addConversationWrites(op, conv, [
    { userId, role: "member", peerId: BOT_ID },
    { userId: BOT_ID, role: "member", peerId: userId },
  ], now);
  if (greeting) {
    // The bot says hello first: seq 1 of the log, waiting as one unread message at first login.
    const msg: Message = {
      conv: conv.id,
      seq: 1,
      id: newId(now),
      from: BOT_ID,
      kind: "text",
      text: greeting,
      at: now,
      cid: "welcome",
    };
    const head: ConvHead = {
      seq: 1,
      at: now,
      last: { from: BOT_ID, kind: "text", text: greeting.slice(0, 120) },
    };
    op.set(keys.msg(conv.id, 1), msg).set(keys.convHead(conv.id), head);
  }
  return op;
}

/** The DM between two users, created on first use (one per pair, enforced by the pair key). */
export async function ensureDm(
  kv: Deno.Kv,
  a: string,
  b: string,
  now = Date.now(),
): Promise<Conversation> {
  if (a === b) throw new HttpError(400, "bad_input", "Cannot open a conversation with yourself");
  const pairKey = keys.dmPair(a, b);
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await kv.get<string>(pairKey);
    if (existing.value) {
      const conv = await getConversation(kv, existing.value);
      if (conv) return conv;
    }
    const conv = convRecord("dm", a, "", now);
    const op = kv.atomic().check(existing).set(pairKey, conv.id);
    addConversationWrites(op, conv, [{ userId: a, role: "member", peerId: b }, {
      userId: b,
      role: "member",
      peerId: a,
    }], now);
    if ((await op.commit()).ok) return conv;
  }
  throw new HttpError(409, "busy", "Could not open the conversation; try again");
}

/** Creates a group with its creator as owner and the given first members. */
export async function createGroup(
  kv: Deno.Kv,
  ownerId: string,
  title: string,
  memberIds: string[],
  now = Date.now(),
): Promise<Conversation> {
  const conv = convRecord("group", ownerId, title, now);
  const others = [...new Set(memberIds)].filter((id) => id !== ownerId);
  const op = kv.atomic();
  addConversationWrites(op, conv, [
    { userId: ownerId, role: "owner" },
    ...others.map((userId) => ({ userId, role: "member" as const })),
  ], now);
  op.set(keys.memberCount(conv.id), others.length + 1);
  const res = await op.commit();
  if (!res.ok) throw new HttpError(409, "busy", "Could not create the group; try again");
  return conv;
}

export async function getConversation(kv: Deno.Kv, convId: string): Promise<Conversation | null> {
  return (await kv.get<Conversation>(keys.conv(convId))).value;
}

export async function getMember(
  kv: Deno.Kv,
  convId: string,
  userId: string,
): Promise<Member | null> {
  return (await kv.get<Member>(keys.member(convId, userId))).value;
}

/** Throws 403 unless the user is a member. */
export async function requireMember(kv: Deno.Kv, convId: string, userId: string): Promise<Member> {
  const m = typeof convId === "string" && convId.length <= 40
    ? await getMember(kv, convId, userId)
    : null;
  if (!m) throw new HttpError(403, "not_member", `Not a member of conversation "${convId}"`);
  return m;
}

/** The user's conversation index entries. */
export async function listUserConvs(kv: Deno.Kv, userId: string): Promise<UserConv[]> {
  const out: UserConv[] = [];
  for await (const e of kv.list<UserConv>({ prefix: keys.userConvs(userId) })) out.push(e.value);
  return out;
}

/** All member user ids of a conversation. */
export async function listMembers(kv: Deno.Kv, convId: string): Promise<Member[]> {
  const out: Member[] = [];
  for await (const e of kv.list<Member>({ prefix: keys.members(convId) })) out.push(e.value);
  return out;
}

/** Reads many keys in chunks of 10 (the getMany limit), in parallel. */
export async function getManyChunked<T>(
  kv: Deno.Kv,
  ks: Deno.KvKey[],
): Promise<Deno.KvEntryMaybe<T>[]> {
  const chunks: Deno.KvKey[][] = [];
  for (let i = 0; i < ks.length; i += 10) chunks.push(ks.slice(i, i + 10));
  const results = await Promise.all(chunks.map((c) => kv.getMany<T[]>(c)));
  return results.flat() as Deno.KvEntryMaybe<T>[];
}

/**
 * Several lists of keys read in one round: all of them in getMany calls of 10, side by side, then
 * split back into one list of entries per list of keys.
 */
export async function getManySections(
  kv: Deno.Kv,
  sections: Deno.KvKey[][],
): Promise<Deno.KvEntryMaybe<unknown>[][]> {
  const all = await getManyChunked<unknown>(kv, sections.flat());
  let at = 0;
  return sections.map((s) => all.slice(at, at += s.length));
}
