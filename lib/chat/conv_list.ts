/** Conversation summaries for the list: head, preview, read cursors, the DM peer's card. */
import { keys } from "../kv/keys.ts";
import {
  BOT_ID,
  type Conversation,
  type ConvHead,
  getManyChunked,
  getManySections,
  type Member,
  mentionSeqOf,
  readCursor,
  type UserConv,
} from "./conversations.ts";
import { avatarUrl, type User } from "../accounts/users.ts";
import type { ConvSummary, UserCard } from "../wire/protocol.ts";
import { t } from "../i18n/i18n.ts";

/** The bot's card (it has no user record). */
export function botCard(locale: string): UserCard {
  return {
    id: BOT_ID,
    username: "happybot",
    nickname: t(locale === "zh-CN" ? "zh-CN" : "en", "bot.name"),
    avatarUrl: "/static/bot.svg",
  };
}

export function userCard(u: User): UserCard {
  return { id: u.id, username: u.username, nickname: u.nickname, avatarUrl: avatarUrl(u.avatar) };
}

/** The user records that cards for `ids` are made from (the bot has none). */
function cardKeys(ids: string[]): Deno.KvKey[] {
  return [...new Set(ids)].filter((id) => id !== BOT_ID).map((id) => keys.user(id));
}

/** Cards for `ids` from the records cardKeys() named, the bot's from the locale; by id. */
function cardsOf(
  ids: string[],
  users: Deno.KvEntryMaybe<User>[],
  locale: string,
): Map<string, UserCard> {
  const out = new Map<string, UserCard>();
  if (ids.includes(BOT_ID)) out.set(BOT_ID, botCard(locale));
  for (const e of users) if (e.value) out.set(e.value.id, userCard(e.value));
  return out;
}

/** Cards for many users (the bot included), by id. */
export async function cardsFor(
  kv: Deno.Kv,
  ids: string[],
  locale: string,
): Promise<Map<string, UserCard>> {
  return cardsOf(ids, await getManyChunked<User>(kv, cardKeys(ids)), locale);
}

/** Summaries of the given conversations as `userId` sees them, newest activity first. */
export async function summarize(
  kv: Deno.Kv,
  userId: string,
  entries: UserConv[],
  locale: string,
): Promise<ConvSummary[]> {
  const ids = entries.map((e) => e.convId);
  const dms = entries.filter((e) => e.peerId);
  const peers = dms.map((e) => e.peerId!);
  const groups = entries.filter((e) => e.kind === "group").map((e) => e.convId);
  // Everything in one round of reads (10 keys a call, side by side), not one round per kind:
  // the connect of every socket runs this.
  const [convs, heads, reads, mems, peerReads, users, counts] = await getManySections(kv, [
    ids.map((id) => keys.conv(id)),
    ids.map((id) => keys.convHead(id)),
    ids.map((id) => keys.read(id, userId)),
    ids.map((id) => keys.member(id, userId)),
    dms.map((e) => keys.read(e.convId, e.peerId!)),
    cardKeys(peers),
    groups.map((id) => keys.memberCount(id)),
  ]) as [
    Deno.KvEntryMaybe<Conversation>[],
    Deno.KvEntryMaybe<ConvHead>[],
    Deno.KvEntryMaybe<unknown>[],
    Deno.KvEntryMaybe<Member>[],
    Deno.KvEntryMaybe<unknown>[],
    Deno.KvEntryMaybe<User>[],
    Deno.KvEntryMaybe<number>[],
  ];
  const cards = cardsOf(peers, users, locale);
  const peerReadOf = new Map(dms.map((e, i) => [e.convId, peerReads[i].value]));
  const countOf = new Map(groups.map((id, i) => [id, counts[i].value ?? 0]));
  const out: ConvSummary[] = [];
  entries.forEach((e, i) => {
    const conv = convs[i].value;
    const head = heads[i].value;
    if (!conv || !head) return;
    const joined = mems[i].value?.joinedSeq ?? 0;
    const s: ConvSummary = {
      ...unreadPart(conv.id, head, reads[i].value, mems[i].value, userId),
      kind: conv.kind,
      title: conv.title,
      lastAt: head.at,
      last: head.last,
    };
    const mentioned = mentionSeqOf(head, userId);
    if (mentioned > joined) s.mentionSeq = mentioned;
    if (e.peerId) {
      const card = cards.get(e.peerId);
      if (card) s.peer = card;
      s.peerReadSeq = readCursor(head, e.peerId, peerReadOf.get(e.convId));
    }
    if (conv.kind === "group") {
      s.memberCount = countOf.get(conv.id) ?? 0;
      s.role = mems[i].value?.role ?? "member";
      s.avatarUrl = avatarUrl(conv.avatar ?? null);
      s.notice = conv.notice ?? null;
      s.public = conv.public ?? false;
      s.memberInvite = conv.memberInvite ?? true;
    }
    out.push(s);
  });
  return out.sort((a, b) => b.lastAt - a.lastAt);
}

type UnreadPart = Pick<ConvSummary, "id" | "lastSeq" | "readSeq" | "updates">;

/**
 * What a conversation's unread count is made of (`unreadOf()` in lib/wire/protocol.ts): its newest
 * seq, this user's read mark (never below the seq they joined at) and the recalls and reactions
 * above it, which are not messages.
 */
function unreadPart(
  id: string,
  head: ConvHead,
  read: unknown,
  member: Member | null,
  userId: string,
): UnreadPart {
  const readSeq = Math.max(readCursor(head, userId, read), member?.joinedSeq ?? 0);
  const out: UnreadPart = { id, lastSeq: head.seq, readSeq };
  const updates = head.upd?.filter((seq) => seq > readSeq);
  if (updates?.length) out.updates = updates;
  return out;
}

/**
 * The unread parts of the given conversations and nothing else: three keys a conversation, not
 * the seven a summary reads (every page's tab bar counts unread messages with it).
 */
export async function unreadParts(
  kv: Deno.Kv,
  userId: string,
  entries: UserConv[],
): Promise<UnreadPart[]> {
  const ids = entries.map((e) => e.convId);
  const [heads, reads, mems] = await getManySections(kv, [
    ids.map((id) => keys.convHead(id)),
    ids.map((id) => keys.read(id, userId)),
    ids.map((id) => keys.member(id, userId)),
  ]) as [Deno.KvEntryMaybe<ConvHead>[], Deno.KvEntryMaybe<unknown>[], Deno.KvEntryMaybe<Member>[]];
  return ids.flatMap((id, i) => {
    const head = heads[i].value;
    return head ? [unreadPart(id, head, reads[i].value, mems[i].value, userId)] : [];
  });
}
