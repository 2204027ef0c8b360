/** Contacts: what the contacts pages start from, and finding people to add. */
import { keys } from "../kv/keys.ts";
import { getManyChunked } from "../chat/conversations.ts";
import {
  findUserByUsername,
  findUsersByNickPrefix,
  getUser,
  nickKey,
  type User,
} from "../accounts/users.ts";
import { userCard } from "../chat/conv_list.ts";
import {
  type Friend,
  type FriendRequest,
  friendView,
  listBlocked,
  listFriends,
  listRequests,
} from "./friends.ts";
import type { FriendsSnapshot, PersonResult, Relation } from "../wire/api.ts";

export const SEARCH_MAX = 20;
export const QUERY_MAX = 64;

/**
 * People matching `q`: the user with exactly that username, the searcher's friends whose remark
 * starts with it, and users whose nickname starts with it. Never the searcher; never by e-mail
 * (an "@" finds nobody, so the answer says nothing about which addresses are registered).
 */
export async function searchPeople(kv: Deno.Kv, me: User, qRaw: string): Promise<PersonResult[]> {
  const q = qRaw.trim();
  if (!q || q.includes("@") || [...q].length > QUERY_MAX) return [];
  const [exact, byNick, byRemark] = await Promise.all([
    findUserByUsername(kv, q),
    findUsersByNickPrefix(kv, q, SEARCH_MAX),
    friendsByRemark(kv, me.id, q),
  ]);
  const seen = new Set<string>([me.id]);
  const users: User[] = [];
  for (const u of [exact, ...byRemark, ...byNick]) {
    if (!u || !u.activatedAt || seen.has(u.id) || users.length >= SEARCH_MAX) continue;
    seen.add(u.id);
    users.push(u);
  }
  const [friends, outs] = await Promise.all([
    getManyChunked<Friend>(kv, users.map((u) => keys.friend(me.id, u.id))),
    getManyChunked<unknown>(kv, users.map((u) => keys.friendReqOut(me.id, u.id))),
  ]);
  return users.map((u, i) => {
    const f = friends[i].value;
    const relation: Relation = f ? "friend" : outs[i].value ? "pending" : "none";
    return { user: userCard(u), remark: f?.remark ?? "", relation };
  });
}

/** The searcher's friends whose remark starts with `q` (remarks are private, so only theirs). */
async function friendsByRemark(kv: Deno.Kv, me: string, q: string): Promise<User[]> {
  const p = nickKey(q);
  const ids: string[] = [];
  for await (const e of kv.list<Friend>({ prefix: keys.friends(me) })) {
    if (e.value.remark && nickKey(e.value.remark).startsWith(p)) ids.push(e.key[2] as string);
    if (ids.length >= SEARCH_MAX) break;
  }
  const users = await Promise.all(ids.map((id) => getUser(kv, id)));
  return users.filter((u): u is User => !!u);
}

/** Everything the contacts pages start from: friends, requests both ways, blocks. */
export async function friendsSnapshot(kv: Deno.Kv, me: string): Promise<FriendsSnapshot> {
  const [friends, requests, blocked] = await Promise.all([
    listFriends(kv, me),
    listRequests(kv, me),
    listBlocked(kv, me),
  ]);
  return { friends, incoming: requests.incoming, outgoing: requests.outgoing, blocked };
}

/** How `me` stands with `other`, for their profile page. */
export async function relationTo(kv: Deno.Kv, me: string, other: User) {
  const [f, inc, out, blocked] = await kv.getMany<[Friend, FriendRequest, FriendRequest, number]>([
    keys.friend(me, other.id),
    keys.friendReq(me, other.id),
    keys.friendReqOut(me, other.id),
    keys.block(me, other.id),
  ]);
  return {
    friend: f.value ? friendView(other, f.value) : null,
    incoming: inc.value ? { user: userCard(other), note: inc.value.note, at: inc.value.at } : null,
    outgoing: out.value !== null,
    blocked: blocked.value !== null,
  };
}
