/** Friends and friend requests as stored, and as a user sees them: their views and lists. */
import { keys } from "../kv/keys.ts";
import { fail } from "../errors.ts";
import { getManyChunked } from "../chat/conversations.ts";
import { indexLetter, spelling } from "./initials.ts";
import { getUser, type User } from "../accounts/users.ts";
import { userCard } from "../chat/conv_list.ts";
import type { FriendView, RequestView, UserCard } from "../wire/protocol.ts";

export interface Friend {
  since: number;
  remark: string;
  dm: string;
}

export interface FriendRequest {
  from: string;
  to: string;
  note: string;
  at: number;
}

/** An activated user, or 404 user_not_found. */
export async function requireUser(kv: Deno.Kv, id: string): Promise<User> {
  const u = typeof id === "string" && id.length <= 40 ? await getUser(kv, id) : null;
  if (!u || !u.activatedAt) {
    fail(404, "user_not_found", `User "${String(id).slice(0, 40)}" not found`);
  }
  return u;
}

/** A friend as `me` sees them: their card, my remark, and the index letter of the name I see. */
export function friendView(u: User, f: Friend): FriendView {
  return {
    user: userCard(u),
    remark: f.remark,
    since: f.since,
    dm: f.dm,
    initial: indexLetter(f.remark || u.nickname),
    ...(spelling(f.remark || u.nickname) ? { spell: spelling(f.remark || u.nickname) } : {}),
  };
}

/** How many requests wait for this user's answer (the "New friends" badge). */
export async function countIncoming(kv: Deno.Kv, me: string): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: keys.friendReqsTo(me) }, { limit: 100 })) n++;
  return n;
}

export async function getFriend(kv: Deno.Kv, me: string, other: string): Promise<Friend | null> {
  return (await kv.get<Friend>(keys.friend(me, other))).value;
}

/** Everyone this user has as a friend, with remarks. */
export async function listFriends(kv: Deno.Kv, me: string): Promise<FriendView[]> {
  const entries: [string, Friend][] = [];
  for await (const e of kv.list<Friend>({ prefix: keys.friends(me) })) {
    entries.push([e.key[2] as string, e.value]);
  }
  const users = await getManyChunked<User>(kv, entries.map(([id]) => keys.user(id)));
  return entries.flatMap(([, f], i) => {
    const u = users[i].value;
    return u ? [friendView(u, f)] : [];
  });
}

/** Requests waiting for this user's answer, and the ones this user sent. */
export async function listRequests(
  kv: Deno.Kv,
  me: string,
): Promise<{ incoming: RequestView[]; outgoing: RequestView[] }> {
  const inc: FriendRequest[] = [];
  const out: FriendRequest[] = [];
  for await (const e of kv.list<FriendRequest>({ prefix: keys.friendReqsTo(me) })) {
    inc.push(e.value);
  }
  for await (const e of kv.list<FriendRequest>({ prefix: keys.friendReqsFrom(me) })) {
    out.push(e.value);
  }
  const ids = [...inc.map((r) => r.from), ...out.map((r) => r.to)];
  const users = await getManyChunked<User>(kv, ids.map((id) => keys.user(id)));
  const cards = new Map(
    users.flatMap((e) => (e.value ? [[e.value.id, userCard(e.value)] as [string, UserCard]] : [])),
  );
  const view = (r: FriendRequest, who: string): RequestView[] => {
    const c = cards.get(who);
    return c ? [{ user: c, note: r.note, at: r.at }] : [];
  };
  return {
    incoming: inc.flatMap((r) => view(r, r.from)).sort((a, b) => b.at - a.at),
    outgoing: out.flatMap((r) => view(r, r.to)).sort((a, b) => b.at - a.at),
  };
}
