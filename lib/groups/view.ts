/** What the group API shows: the full group for members, a small card for everyone else. */
import { keys } from "../kv/keys.ts";
import { BOT_ID, type Conversation, getManyChunked, type Member } from "../chat/conversations.ts";
import { botCard, userCard } from "../chat/conv_list.ts";
import { avatarUrl, type User } from "../accounts/users.ts";
import { fail } from "../errors.ts";
import { GROUP_CAP, titleKey, validId } from "./groups.ts";
import type { DomainDeps } from "../chat/events.ts";
import type { GroupCard, GroupInfo, GroupMemberView } from "../wire/api.ts";
import { RANK } from "../wire/roles.ts";

async function readGroup(
  kv: Deno.Kv,
  convId: string,
): Promise<{ conv: Conversation; count: number }> {
  if (!validId(convId)) fail(404, "group_not_found", "No such group");
  const [conv, count] = await kv.getMany<[Conversation, number]>([
    keys.conv(convId),
    keys.memberCount(convId),
  ]);
  if (!conv.value || conv.value.kind !== "group" || conv.value.dissolved) {
    fail(404, "group_not_found", "No such group");
  }
  return { conv: conv.value, count: count.value ?? 0 };
}

export function groupCard(conv: Conversation, memberCount: number): GroupCard {
  return {
    id: conv.id,
    title: conv.title,
    avatarUrl: avatarUrl(conv.avatar ?? null),
    memberCount,
    public: conv.public ?? false,
  };
}

/** Cards for search results, with their member counts. */
export async function groupCards(kv: Deno.Kv, convs: Conversation[]): Promise<GroupCard[]> {
  const counts = await getManyChunked<number>(kv, convs.map((c) => keys.memberCount(c.id)));
  return convs.map((c, i) => groupCard(c, counts[i].value ?? 0));
}

/** The whole group for one of its members. */
export async function groupInfo(
  deps: DomainDeps,
  convId: string,
  viewerId: string,
): Promise<GroupInfo> {
  const { conv, count } = await readGroup(deps.kv, convId);
  return await memberView(deps, conv, count, viewerId) ??
    fail(403, "not_member", "You are not in this group");
}

/**
 * The answer to a change the viewer made that is committed: the group as they may see it now.
 * Someone may have removed them, or dissolved the group, between the commit and this read; the
 * change still happened, so this never fails for that. It gives the whole group to a member, a
 * card for a public group, and otherwise only the id.
 */
export async function groupAfterChange(
  deps: DomainDeps,
  convId: string,
  viewerId: string,
): Promise<GroupInfo | GroupCard | { id: string }> {
  const [conv, count] = await deps.kv.getMany<[Conversation, number]>([
    keys.conv(convId),
    keys.memberCount(convId),
  ]);
  if (!conv.value || conv.value.kind !== "group" || conv.value.dissolved) return { id: convId };
  const info = await memberView(deps, conv.value, count.value ?? 0, viewerId);
  if (info) return info;
  return conv.value.public ? groupCard(conv.value, count.value ?? 0) : { id: convId };
}

/** The whole group as `viewerId` sees it, or null when they are not in it. */
async function memberView(
  deps: DomainDeps,
  conv: Conversation,
  count: number,
  viewerId: string,
): Promise<GroupInfo | null> {
  const members: Member[] = [];
  for await (const e of deps.kv.list<Member>({ prefix: keys.members(conv.id) })) {
    members.push(e.value);
  }
  const me = members.find((m) => m.userId === viewerId);
  if (!me) return null;
  const users = await getManyChunked<User>(deps.kv, members.map((m) => keys.user(m.userId)));
  const now = deps.now();
  const views = members.flatMap((m, i): (GroupMemberView & { seq: number; at: number })[] => {
    // The built-in bot has no user record: its card stands in (clients name it in their language).
    const record = users[i].value;
    const u = m.userId === BOT_ID ? botCard("en") : record ? userCard(record) : null;
    if (!u) return [];
    return [{
      id: u.id,
      username: u.username,
      nickname: u.nickname,
      avatarUrl: u.avatarUrl,
      role: m.role,
      displayName: m.displayName ?? "",
      mutedUntil: m.mutedUntil && m.mutedUntil > now ? m.mutedUntil : null,
      seq: m.joinedSeq,
      at: m.joinedAt,
    }];
  });
  // Join order is the log's order (seq); the first members share seq 0 and keep their time order.
  views.sort((a, b) => RANK[b.role] - RANK[a.role] || a.seq - b.seq || a.at - b.at);
  return {
    ...groupCard(conv, count),
    notice: conv.notice ?? null,
    memberInvite: conv.memberInvite ?? true,
    cap: conv.cap ?? GROUP_CAP,
    myRole: me.role,
    members: views.map(({ seq: _s, at: _a, ...v }) => v),
  };
}

/**
 * GET /api/groups/:id: members see the whole group, anyone may see a public group's card, and a
 * private group does not exist for non-members (404, the same as an unknown id).
 */
export async function viewGroup(
  deps: DomainDeps,
  convId: string,
  viewerId: string,
): Promise<GroupInfo | GroupCard> {
  const { conv, count } = await readGroup(deps.kv, convId);
  const member = await deps.kv.get<Member>(keys.member(convId, viewerId));
  if (member.value) return await groupInfo(deps, convId, viewerId);
  if (!conv.public) fail(404, "group_not_found", "No such group");
  return groupCard(conv, count);
}

/** Public groups whose name starts with `q`. */
export async function searchPublicGroups(
  kv: Deno.Kv,
  q: string,
  limit = 20,
): Promise<Conversation[]> {
  const p = titleKey(q.trim());
  if (!p) return [];
  const ids: string[] = [];
  // U+10FFFF sorts after every character (also those outside the BMP, which "\uffff" would cut off).
  const sel = { start: ["groups_by_name", p], end: ["groups_by_name", p + "\u{10FFFF}"] };
  for await (const e of kv.list(sel, { limit })) ids.push(e.key[2] as string);
  const convs = await getManyChunked<Conversation>(kv, ids.map((id) => keys.conv(id)));
  return convs.flatMap((e) => (e.value && e.value.public && !e.value.dissolved ? [e.value] : []));
}
