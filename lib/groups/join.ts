/**
 * Joining a group, under its member cap: friends added by a member, a public join, an invite link,
 * an approved request. The cap is checked in the same atomic write as the join and its
 * "member_added" message, and group changes commit alone (MsgInput.exclusive in
 * lib/chat/events.ts), so concurrent joins never pass it.
 */
import { fail } from "../errors.ts";
import { keys } from "../kv/keys.ts";
import {
  BOT_ID,
  type Conversation,
  getManyChunked,
  type Member,
  type UserConv,
} from "../chat/conversations.ts";
import type { Role } from "../wire/roles.ts";
import type { Ack, DomainDeps } from "../chat/events.ts";
import type { User } from "../accounts/users.ts";
import {
  CREATE_MEMBERS_MAX,
  GROUP_CAP,
  groupChange,
  readCtx,
  requireFriends,
  validId,
} from "./groups.ts";

/** The writes that make `userId` a member, after checking the cap in the same write. */
async function joinWrites(deps: DomainDeps, conv: Conversation, userId: string) {
  const convId = conv.id;
  const [member, count, req] = await deps.kv.getMany<[Member, number, unknown]>([
    keys.member(convId, userId),
    keys.memberCount(convId),
    keys.joinReq(convId, userId),
  ]);
  if (member.value) fail(409, "already_member", "Already in the group");
  const n = count.value ?? 0;
  if (n >= (conv.cap ?? GROUP_CAP)) fail(409, "group_full", "The group is full");
  return {
    req,
    checks: [member, count] as Deno.AtomicCheck[],
    apply: (op: Deno.AtomicOperation, seq: number) => {
      const m: Member = { userId, role: "member", joinedAt: deps.now(), joinedSeq: seq - 1 };
      const idx: UserConv = { convId, kind: "group" };
      op.set(keys.member(convId, userId), m).set(keys.userConv(userId, convId), idx).set(
        keys.memberCount(convId),
        n + 1,
      );
      if (req.value) op.delete(keys.joinReq(convId, userId));
    },
  };
}

/**
 * Adds `userId` to the group in the same write as a "joined" message. The member count is
 * checked there too, so concurrent joins never pass the cap. With `via: "request"` the join
 * request must still be there (a concurrent decline wins over a later approval).
 */
export function addMember(
  deps: DomainDeps,
  convId: string,
  userId: string,
  actorId: string,
  opts: { minRole?: Role; via?: "request"; memberInvite?: boolean } = {},
): Promise<Ack> {
  return groupChange(deps, convId, actorId, {
    minRole: opts.minRole ?? "member",
    meta: { event: "member_added", userId, ...(opts.via ? { text: opts.via } : {}) },
    extra: async ({ conv, actor }) => {
      // Members add friends only while the group allows it, as read in this very write.
      if (opts.memberInvite && actor.value.role === "member" && conv.value.memberInvite === false) {
        fail(403, "forbidden_role", "Only admins can add members here");
      }
      const w = await joinWrites(deps, conv.value, userId);
      if (opts.via === "request") {
        if (!w.req.value) fail(404, "join_request_not_found", "No such join request");
        w.checks.push(w.req);
      }
      return w;
    },
  });
}

/** Invites friends into the group (admins always; members when the group allows it). */
export async function inviteFriends(
  deps: DomainDeps,
  actor: User,
  convId: string,
  userIds: string[],
): Promise<Ack[]> {
  const ctx = await readCtx(deps, convId, actor.id, "member");
  if (ctx.actor.value.role === "member" && ctx.conv.value.memberInvite === false) {
    fail(403, "forbidden_role", "Only admins can add members here");
  }
  const ids = [...new Set(userIds)];
  if (!ids.length) fail(400, "field_required", "Choose friends to add", "members");
  if (ids.length > CREATE_MEMBERS_MAX) {
    fail(400, "bad_input", `Add at most ${CREATE_MEMBERS_MAX} at once`, "members");
  }
  // The built-in bot is everyone's contact: it joins like a friend.
  const people = ids.filter((id) => id !== BOT_ID);
  if (people.length) await requireFriends(deps, actor.id, people);
  // Refuse up front what would fail part-way, so a bad request changes nothing.
  const [members, count] = await Promise.all([
    getManyChunked<Member>(deps.kv, ids.map((id) => keys.member(convId, id))),
    deps.kv.get<number>(keys.memberCount(convId)),
  ]);
  if (members.some((m) => m.value)) fail(409, "already_member", "Already in the group", "members");
  if ((count.value ?? 0) + ids.length > (ctx.conv.value.cap ?? GROUP_CAP)) {
    fail(409, "group_full", "The group is full", "members");
  }
  const out: Ack[] = [];
  for (const id of ids) {
    out.push(await addMember(deps, convId, id, actor.id, { memberInvite: true }));
  }
  return out;
}

/** Joins a public group directly. */
export async function joinPublic(deps: DomainDeps, user: User, convId: string): Promise<Ack> {
  return await selfJoin(deps, convId, user.id, "public");
}

/**
 * Adds the user themself (public join, invite link): no actor role to check, only the cap, and
 * in the same write that the group is still public, or that the invite link is still live.
 */
export async function selfJoin(
  deps: DomainDeps,
  convId: string,
  userId: string,
  via: "public" | "link",
  invite?: Deno.KvKey,
): Promise<Ack> {
  if (!validId(convId)) fail(404, "group_not_found", "No such group");
  const pre = (await deps.kv.get<Conversation>(keys.conv(convId))).value;
  if (!pre || pre.kind !== "group" || pre.dissolved || (via === "public" && !pre.public)) {
    fail(404, "group_not_found", "No such group");
  }
  return await deps.events.commit({
    conv: convId,
    sender: "system",
    cid: `join-${userId}-${crypto.randomUUID()}`,
    kind: "system",
    text: "",
    meta: { event: "member_added", userId, by: userId, text: via },
    checkMember: false,
    exclusive: true,
    prepare: async () => {
      const conv = await deps.kv.get<Conversation>(keys.conv(convId));
      const inv = invite
        ? await deps.kv.get<{ expiresAt: number | null; conv: string }>(invite)
        : null;
      if (!conv.value || conv.value.kind !== "group" || conv.value.dissolved) {
        fail(404, "group_not_found", "No such group");
      }
      if (via === "public" && !conv.value.public) {
        fail(404, "group_not_found", "No such public group");
      }
      if (
        invite &&
        (!inv?.value || inv.value.conv !== convId ||
          (inv.value.expiresAt !== null && inv.value.expiresAt <= deps.now()))
      ) {
        fail(404, "invite_invalid", "This invite link is invalid, revoked or expired");
      }
      const w = await joinWrites(deps, conv.value, userId);
      return { checks: [conv, ...(inv ? [inv] : []), ...w.checks], apply: w.apply };
    },
  });
}
