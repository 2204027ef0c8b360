/**
 * Group moderation: kick, leave, mute, roles, handing the group over, dissolving. Each is one
 * system message committed with the change after re-checking the actor's role in that write
 * (lib/groups/groups.ts groupChange), so two admins acting at once resolve in KV.
 *
 * Leaving, being kicked or the group being dissolved ends the membership in that write: the
 * user's sockets stop at that message (they get `conv_removed`), the group leaves their list,
 * and its history is no longer readable for them (history needs membership).
 */
import { keys } from "../kv/keys.ts";
import type { Conversation, Member } from "../chat/conversations.ts";
import type { Ack, DomainDeps } from "../chat/events.ts";
import type { User } from "../accounts/users.ts";
import { fail } from "../errors.ts";
import { groupChange, MUTE_MAX_MINUTES, readCtx, titleKey, validId } from "./groups.ts";
import { RANK } from "../wire/roles.ts";

function requireTarget(targetId: string, field = "userId"): void {
  if (!validId(targetId)) fail(404, "not_member", "Not in the group", field);
}

/** The target's membership as read in this attempt; 404 not_member when they are not in. */
async function readTarget(
  deps: DomainDeps,
  convId: string,
  targetId: string,
): Promise<Deno.KvEntry<Member>> {
  const target = await deps.kv.get<Member>(keys.member(convId, targetId));
  if (!target.value) fail(404, "not_member", "Not in the group");
  return target as Deno.KvEntry<Member>;
}

/** The writes that take a member out (used by kick and leave). */
async function removalExtra(deps: DomainDeps, convId: string, userId: string) {
  const [member, count] = await deps.kv.getMany<[Member, number]>([
    keys.member(convId, userId),
    keys.memberCount(convId),
  ]);
  if (!member.value) fail(404, "not_member", "Not in the group");
  return {
    member: member.value,
    checks: [member, count],
    apply: (op: Deno.AtomicOperation) => {
      op.delete(keys.member(convId, userId)).delete(keys.userConv(userId, convId))
        .set(keys.memberCount(convId), Math.max(0, (count.value ?? 1) - 1));
    },
  };
}

/** Removes a member. Admins may remove members; the owner may remove anyone but themself. */
export async function kick(
  deps: DomainDeps,
  actor: User,
  convId: string,
  targetId: string,
): Promise<Ack> {
  if (targetId === actor.id) fail(400, "bad_input", "Use leave to leave the group");
  requireTarget(targetId);
  return await groupChange(deps, convId, actor.id, {
    minRole: "admin",
    meta: { event: "member_removed", userId: targetId },
    extra: async ({ actor: a }) => {
      const r = await removalExtra(deps, convId, targetId);
      if (RANK[r.member.role] >= RANK[a.value.role]) {
        fail(403, "forbidden_role", "You can only remove members below your role");
      }
      return r;
    },
  });
}

/** Leaves the group. The owner hands the group over first (or dissolves it). */
export function leave(deps: DomainDeps, user: User, convId: string): Promise<Ack> {
  return groupChange(deps, convId, user.id, {
    minRole: "member",
    meta: { event: "member_left", userId: user.id },
    extra: async ({ actor }) => {
      if (actor.value.role === "owner") {
        fail(
          409,
          "owner_must_transfer",
          "Make someone else the owner first, or dissolve the group",
        );
      }
      return await removalExtra(deps, convId, user.id);
    },
  });
}

/** Mutes a member below the actor's role for `minutes` (0 lifts it). */
export async function mute(
  deps: DomainDeps,
  actor: User,
  convId: string,
  targetId: string,
  minutes: number,
): Promise<Ack> {
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > MUTE_MAX_MINUTES) {
    fail(
      400,
      "bad_input",
      `Minutes must be a whole number from 0 to ${MUTE_MAX_MINUTES}`,
      "minutes",
    );
  }
  requireTarget(targetId);
  const until = minutes ? deps.now() + minutes * 60_000 : 0;
  return await groupChange(deps, convId, actor.id, {
    minRole: "admin",
    meta: { event: minutes ? "muted" : "unmuted", userId: targetId, ...(minutes ? { until } : {}) },
    extra: async ({ actor: a }) => {
      const target = await readTarget(deps, convId, targetId);
      if (RANK[target.value.role] >= RANK[a.value.role]) {
        fail(403, "forbidden_role", "You can only mute members below your role");
      }
      return {
        checks: [target],
        apply: (op) => op.set(target.key, { ...target.value, mutedUntil: until || undefined }),
      };
    },
  });
}

/**
 * The owner makes a member an admin, or an admin a member again. Asking for the role someone has
 * already changes nothing (null). A new admin is no longer muted.
 */
export async function setRole(
  deps: DomainDeps,
  owner: User,
  convId: string,
  targetId: string,
  role: "admin" | "member",
): Promise<Ack | null> {
  if (role !== "admin" && role !== "member") {
    fail(400, "bad_input", 'Role must be "admin" or "member"', "role");
  }
  requireTarget(targetId);
  const ctx = await readCtx(deps, convId, owner.id, "owner");
  const cur = await deps.kv.get<Member>(keys.member(ctx.conv.value.id, targetId));
  if (cur.value?.role === role) return null;
  return await groupChange(deps, convId, owner.id, {
    minRole: "owner",
    meta: { event: role === "admin" ? "admin_added" : "admin_removed", userId: targetId },
    extra: async () => {
      const target = await readTarget(deps, convId, targetId);
      if (target.value.role === "owner") {
        fail(400, "bad_input", "The owner's role changes by handing the group over", "userId");
      }
      const next: Member = { ...target.value, role };
      if (role === "admin") delete next.mutedUntil;
      return { checks: [target], apply: (op) => op.set(target.key, next) };
    },
  });
}

/** The owner hands the group to another member and becomes an admin. */
export async function transferOwnership(
  deps: DomainDeps,
  owner: User,
  convId: string,
  targetId: string,
): Promise<Ack> {
  if (targetId === owner.id) fail(400, "bad_input", "You are the owner already", "userId");
  requireTarget(targetId);
  return await groupChange(deps, convId, owner.id, {
    minRole: "owner",
    meta: { event: "owner_changed", userId: targetId },
    extra: async ({ actor }) => {
      const target = await readTarget(deps, convId, targetId);
      const next: Member = { ...target.value, role: "owner" };
      delete next.mutedUntil;
      return {
        checks: [target],
        apply: (op) => {
          op.set(target.key, next);
          op.set(actor.key, { ...actor.value, role: "admin" });
        },
      };
    },
  });
}

/**
 * Dissolves the group: a last system message, then every membership ends (members' sockets
 * leave at that message; the group disappears from their lists and its history is gone for
 * them). Invite links and join requests go with it.
 */
export async function dissolve(deps: DomainDeps, owner: User, convId: string): Promise<void> {
  await groupChange(deps, convId, owner.id, {
    minRole: "owner",
    meta: { event: "dissolved" },
    extra: ({ conv }) => ({
      apply: (op) => {
        op.set(keys.conv(convId), { ...conv.value, dissolved: true } satisfies Conversation);
        if (conv.value.public) op.delete(keys.groupByName(titleKey(conv.value.title), convId));
      },
    }),
  });
  // From here on every change is refused (readCtx and selfJoin see `dissolved`): clean up in batches.
  const gone: Deno.KvKey[] = [];
  for await (const e of deps.kv.list<Member>({ prefix: keys.members(convId) })) {
    gone.push(e.key, keys.userConv(e.value.userId, convId));
  }
  for await (const e of deps.kv.list<string>({ prefix: keys.groupInvites(convId) })) {
    gone.push(e.key, keys.invite(e.value));
  }
  for await (const e of deps.kv.list({ prefix: keys.joinReqs(convId) })) gone.push(e.key);
  gone.push(keys.memberCount(convId), keys.convHead(convId));
  for (let i = 0; i < gone.length; i += 500) {
    const op = deps.kv.atomic();
    for (const k of gone.slice(i, i + 500)) op.delete(k);
    await op.commit();
  }
}
