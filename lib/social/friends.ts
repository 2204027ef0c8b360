/**
 * Friends: requests with a note, accept/decline, remarks, delete (blocking is in ./blocks.ts, the
 * lists and views in ./friend_views.ts). Every change is one atomic write (both directions
 * together) and reaches every device of both people at once.
 *
 * Semantics (docs/api.md): deleting a friend ends the friendship both ways at once; the DM and
 * its history stay in both lists, but nobody can send in it until they are friends again.
 * Blocking is silent: the blocked person's requests and messages look sent to them and never
 * reach the blocker.
 */
import { keys } from "../kv/keys.ts";
import { HttpError } from "../errors.ts";
import {
  addConversationWrites,
  type Conversation,
  getConversation,
} from "../chat/conversations.ts";
import { newId } from "../ids.ts";
import { findUserByLogin, type User } from "../accounts/users.ts";
import { userCard } from "../chat/conv_list.ts";
import { lineProblem } from "../wire/validate.ts";
import { NOTE_MAX, REMARK_MAX } from "../wire/friend_rules.ts";
import type { DomainDeps } from "../chat/events.ts";
import type { FriendView } from "../wire/protocol.ts";
import { fail } from "../errors.ts";
import { type Friend, type FriendRequest, friendView, requireUser } from "./friend_views.ts";

// The read side and blocking have their own modules; importers keep finding them here.
export * from "./friend_views.ts";
export * from "./blocks.ts";

export { NOTE_MAX, REMARK_MAX };
/** Between two requests to the same person. */
export const REQUEST_COOLDOWN_MS = 10 * 60_000;
/** After a decline, before the same person may ask again. */
export const DECLINE_COOLDOWN_MS = 24 * 3600_000;

function checkNote(note: string): string {
  const n = note.trim();
  const p = lineProblem(n, NOTE_MAX, false);
  if (p) {
    throw new HttpError(400, p, `Invalid note: ${p}`, { field: "note", params: { max: NOTE_MAX } });
  }
  return n;
}

/**
 * Asks `toId` (or whoever owns `email`) to be friends. Crossing requests merge into a friendship.
 * With an e-mail the answer never says whether it belongs to an account.
 */
export async function sendRequest(
  deps: DomainDeps,
  me: User,
  target: { toId?: string; email?: string },
  noteRaw: string,
): Promise<{ status: "sent" | "friends" }> {
  const kv = deps.kv;
  const note = checkNote(noteRaw);
  let to: User | null;
  if (target.email !== undefined) {
    to = await findUserByLogin(kv, target.email);
    if (!to || !to.activatedAt || to.id === me.id) return { status: "sent" };
  } else {
    to = await requireUser(kv, target.toId ?? "");
  }
  if (to.id === me.id) fail(400, "friend_self", "You cannot add yourself");
  const now = deps.now();
  for (let attempt = 0; attempt < 5; attempt++) {
    const [friend, cooldown, blocked, theirs, mine] = await kv.getMany<unknown[]>([
      keys.friend(me.id, to.id),
      keys.friendCooldown(me.id, to.id),
      keys.block(to.id, me.id),
      keys.friendReq(me.id, to.id),
      keys.friendReqOut(me.id, to.id),
    ]);
    if (friend.value) {
      // By e-mail, even a friend's address gets the answer any address gets.
      if (target.email !== undefined) return { status: "sent" };
      fail(409, "already_friends", "You are friends already");
    }
    // They asked first: this answer is a yes.
    if (theirs.value && !blocked.value) {
      await accept(deps, me, to.id);
      return { status: "friends" };
    }
    const cd = cooldownOf(cooldown.value);
    if (cd && cd.until > now) {
      // After a decline, or when asking by e-mail, the answer must not differ: say "sent", do nothing.
      if (cd.declined || target.email !== undefined) return { status: "sent" };
      const seconds = Math.ceil((cd.until - now) / 1000);
      throw new HttpError(429, "request_cooldown", "You asked moments ago", {
        retryAfter: seconds,
        params: { seconds },
      });
    }
    const req: FriendRequest = { from: me.id, to: to.id, note, at: now };
    const op = kv.atomic()
      .check(theirs)
      .check(mine)
      .set(keys.friendReqOut(me.id, to.id), req)
      .set(keys.friendCooldown(me.id, to.id), now + REQUEST_COOLDOWN_MS, {
        expireIn: REQUEST_COOLDOWN_MS,
      });
    // A blocked sender's request is kept on their side only: it looks sent, and never arrives.
    if (!blocked.value) op.set(keys.friendReq(to.id, me.id), req);
    if (!(await op.commit()).ok) continue;
    // A bot says yes at once (lib/bots/bots.ts): people add bots like friends.
    if (to.bot && !blocked.value) {
      await accept(deps, to, me.id);
      return { status: "friends" };
    }
    if (!blocked.value) {
      await deps.events.toUsers([to.id], {
        frame: { type: "friend_request", request: { user: userCard(me), note, at: now } },
      });
    }
    return { status: "sent" };
  }
  fail(409, "busy", "Try again");
}

/** A cooldown value: a number (after a request), or `{ until, declined }` (after a decline). */
function cooldownOf(v: unknown): { until: number; declined: boolean } | null {
  if (typeof v === "number") return { until: v, declined: false };
  if (v && typeof v === "object" && typeof (v as { until?: unknown }).until === "number") {
    return { until: (v as { until: number }).until, declined: true };
  }
  return null;
}

/** Accepts `fromId`'s request: friends both ways, the DM opens for both, in one write. */
export async function accept(deps: DomainDeps, me: User, fromId: string): Promise<FriendView> {
  const kv = deps.kv;
  const from = await requireUser(kv, fromId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const now = deps.now();
    const [req, pair, friend] = await kv.getMany<[FriendRequest, string, Friend]>([
      keys.friendReq(me.id, from.id),
      keys.dmPair(me.id, from.id),
      keys.friend(me.id, from.id),
    ]);
    if (!req.value) {
      fail(
        attempt ? 409 : 404,
        "request_not_found",
        attempt ? "This request was already answered" : "No such friend request",
      );
    }
    if (friend.value) fail(409, "request_not_found", "This request was already answered");
    // The DM is created in the same write as the friendship: a lost race leaves nothing behind.
    const existing = pair.value ? await getConversation(kv, pair.value) : null;
    const dm: Conversation = existing ??
      { id: newId(now), kind: "dm", title: "", createdAt: now, createdBy: me.id };
    const mine: Friend = { since: now, remark: "", dm: dm.id };
    const theirs: Friend = { since: now, remark: "", dm: dm.id };
    // The checks make accept-and-decline-at-once (or two devices accepting) succeed only once.
    const op = kv.atomic().check(req).check(pair).check(friend);
    if (!existing) {
      op.set(pair.key, dm.id);
      addConversationWrites(op, dm, [{ userId: me.id, role: "member", peerId: from.id }, {
        userId: from.id,
        role: "member",
        peerId: me.id,
      }], now);
    }
    const res = await op
      .delete(keys.friendReq(me.id, from.id))
      .delete(keys.friendReqOut(from.id, me.id))
      .delete(keys.friendReq(from.id, me.id))
      .delete(keys.friendReqOut(me.id, from.id))
      // Friends now: after a later "delete friend", asking again must not meet an old cooldown.
      .delete(keys.friendCooldown(me.id, from.id))
      .delete(keys.friendCooldown(from.id, me.id))
      .set(keys.friend(me.id, from.id), mine)
      .set(keys.friend(from.id, me.id), theirs)
      .commit();
    if (!res.ok) continue;
    const mineView = friendView(from, mine);
    await Promise.all([
      deps.events.toUsers([me.id], {
        frame: { type: "friend", friend: mineView },
        control: { kind: "conv_added", conv: dm.id },
      }),
      deps.events.toUsers([from.id], {
        frame: { type: "friend", friend: friendView(me, theirs) },
        control: { kind: "conv_added", conv: dm.id },
      }),
      deps.events.toUsers([me.id], { frame: { type: "friend_request_gone", user: from.id } }),
    ]);
    return mineView;
  }
  fail(409, "busy", "Try again");
}

/** Declines a request; the same person may ask again after a day. */
export async function decline(deps: DomainDeps, me: User, fromId: string): Promise<void> {
  const kv = deps.kv;
  const req = typeof fromId === "string" && fromId.length <= 40
    ? await kv.get<FriendRequest>(keys.friendReq(me.id, fromId))
    : null;
  if (!req?.value) fail(404, "request_not_found", "No such friend request");
  const now = deps.now();
  const res = await kv.atomic()
    .check(req)
    .delete(keys.friendReq(me.id, fromId))
    .set(keys.friendCooldown(fromId, me.id), { until: now + DECLINE_COOLDOWN_MS }, {
      expireIn: DECLINE_COOLDOWN_MS,
    })
    .commit();
  if (!res.ok) fail(409, "request_not_found", "This request was already answered");
  // The sender's copy stays "pending" on their side: a decline is not announced.
  await deps.events.toUsers([me.id], { frame: { type: "friend_request_gone", user: fromId } });
}

/** Ends a friendship both ways at once. The DM stays, closed for sending until friends again. */
export async function removeFriend(deps: DomainDeps, me: User, otherId: string): Promise<void> {
  const kv = deps.kv;
  const mine = typeof otherId === "string" && otherId.length <= 40
    ? await kv.get<Friend>(keys.friend(me.id, otherId))
    : null;
  if (!mine?.value) fail(404, "not_friends", "Not a friend");
  const theirs = await kv.get<Friend>(keys.friend(otherId, me.id));
  const res = await kv.atomic().check(mine).check(theirs).delete(mine.key).delete(theirs.key)
    .commit();
  if (!res.ok) fail(409, "busy", "Changed meanwhile; try again");
  await Promise.all([
    deps.events.toUsers([me.id], { frame: { type: "friend_removed", user: otherId } }),
    deps.events.toUsers([otherId], { frame: { type: "friend_removed", user: me.id } }),
  ]);
}

/** Sets the private alias this user sees for a friend ("" clears it). */
export async function setRemark(
  deps: DomainDeps,
  me: User,
  otherId: string,
  remarkRaw: string,
): Promise<FriendView> {
  const kv = deps.kv;
  const remark = remarkRaw.trim();
  const p = lineProblem(remark, REMARK_MAX, false);
  if (p) {
    throw new HttpError(400, p, `Invalid remark: ${p}`, {
      field: "remark",
      params: { max: REMARK_MAX },
    });
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const cur = typeof otherId === "string" && otherId.length <= 40
      ? await kv.get<Friend>(keys.friend(me.id, otherId))
      : null;
    if (!cur?.value) fail(404, "not_friends", "Not a friend");
    const next = { ...cur.value, remark };
    if (!(await kv.atomic().check(cur).set(cur.key, next).commit()).ok) continue;
    const other = await requireUser(kv, otherId);
    const view = friendView(other, next);
    await deps.events.toUsers([me.id], { frame: { type: "friend", friend: view } });
    return view;
  }
  fail(409, "busy", "Try again");
}
