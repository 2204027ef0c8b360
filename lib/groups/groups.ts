/**
 * Groups: create, settings, joining (public, invite link, approved request, added by a member).
 * Every change is a system message in the group's log committed in the same atomic write as the
 * change itself, after checking (in that write) that the actor still has the role it needs. So
 * changes resume and page like messages, and races (two admins, concurrent joins at the cap)
 * resolve in KV. Joining is in lib/groups/join.ts; removal, roles and dissolving in
 * lib/groups/moderation.ts.
 */
import { keys } from "../kv/keys.ts";
import { fail, HttpError } from "../errors.ts";
import {
  addConversationWrites,
  type Conversation,
  getManyChunked,
  type Member,
} from "../chat/conversations.ts";
import { newId } from "../ids.ts";
import type { Ack, DomainDeps, Prepared } from "../chat/events.ts";
import type { Message } from "../wire/protocol.ts";
import type { User } from "../accounts/users.ts";
import {
  checkNotice,
  checkTitle,
  CREATE_MEMBERS_MAX,
  DISPLAY_NAME_MAX,
  GROUP_CAP,
  titleKey,
  validId,
} from "./rules.ts";
import { nameProblem } from "../wire/validate.ts";
import { RANK, type Role } from "../wire/roles.ts";

// The limits and input checks have their own module; importers keep finding them here.
export * from "./rules.ts";

/** Per-user limits of the group endpoints (lib/kv/rate_limit.ts windows). */
export const LIMITS_GROUP_RATE = {
  createUser: { max: 20, windowMs: 60 * 60_000 },
  /** The find-groups page searches as the user types (debounced). */
  searchUser: { max: 120, windowMs: 10 * 60_000 },
  /** Join requests and joins by link or as a public group. */
  joinUser: { max: 60, windowMs: 60 * 60_000 },
  /** Invite link previews (the join page). */
  previewUser: { max: 120, windowMs: 10 * 60_000 },
};

type Meta = NonNullable<Message["meta"]>;
type Entry<T> = Deno.KvEntry<T>;
export interface Ctx {
  conv: Entry<Conversation>;
  actor: Entry<Member>;
}
type ExtraWrites = {
  checks?: Deno.AtomicCheck[];
  apply?: (op: Deno.AtomicOperation, seq: number) => void;
};
type Extra = (ctx: Ctx) => ExtraWrites | Promise<ExtraWrites>;

/** Reads the group and the actor's membership; refuses a missing or dissolved group, a non-member, a low role. */
export async function readCtx(
  deps: DomainDeps,
  convId: string,
  actorId: string,
  minRole: Role,
): Promise<Ctx> {
  if (!validId(convId)) fail(404, "group_not_found", "No such group");
  const [conv, actor] = await deps.kv.getMany<[Conversation, Member]>([
    keys.conv(convId),
    keys.member(convId, actorId),
  ]);
  if (!conv.value || conv.value.kind !== "group" || conv.value.dissolved) {
    fail(404, "group_not_found", "No such group");
  }
  if (!actor.value) fail(403, "not_member", "You are not in this group");
  if (RANK[actor.value.role] < RANK[minRole]) {
    fail(
      403,
      "forbidden_role",
      `Only the ${minRole === "owner" ? "owner" : "owner and admins"} can do that`,
    );
  }
  return { conv: conv as Entry<Conversation>, actor: actor as Entry<Member> };
}

/**
 * Commits one group change: a system message plus the change, checked against the group and the
 * actor's role as read in the same attempt (a concurrent change makes the write retry).
 */
export async function groupChange(
  deps: DomainDeps,
  convId: string,
  actorId: string,
  opts: { minRole: Role; meta: Meta; extra?: Extra },
): Promise<Ack> {
  // Read once up front too: a gone group or a missing role gets its own answer, not the log's.
  await readCtx(deps, convId, actorId, opts.minRole);
  return await deps.events.commit({
    conv: convId,
    sender: "system",
    cid: `${opts.meta.event}-${crypto.randomUUID()}`,
    kind: "system",
    text: "",
    meta: { ...opts.meta, by: actorId },
    checkMember: false,
    exclusive: true,
    prepare: async (): Promise<Prepared> => {
      const ctx = await readCtx(deps, convId, actorId, opts.minRole);
      const more = opts.extra ? await opts.extra(ctx) : {};
      return {
        checks: [ctx.conv, ctx.actor, ...(more.checks ?? [])],
        apply: (op, seq) => more.apply?.(op, seq),
      };
    },
  });
}

/**
 * The actor's friends among `ids`, refused as a whole (403 not_friends) when one is not a friend
 * or has blocked the actor: a block means the blocked person cannot reach the blocker, in a group
 * either.
 */
export async function requireFriends(
  deps: DomainDeps,
  actorId: string,
  ids: string[],
): Promise<void> {
  if (!ids.every(validId)) fail(400, "bad_input", "Unknown member ids", "members");
  const [friends, blocks] = await Promise.all([
    getManyChunked(deps.kv, ids.map((id) => keys.friend(actorId, id))),
    getManyChunked(deps.kv, ids.map((id) => keys.block(id, actorId))),
  ]);
  if (friends.some((f) => !f.value) || blocks.some((b) => b.value)) {
    fail(403, "not_friends", "You can only add your friends", "members");
  }
}

/** Creates a group with friends of the owner as first members; the owner is its owner. */
export async function createGroup(
  deps: DomainDeps,
  owner: User,
  titleRaw: string,
  memberIds: string[],
): Promise<Conversation> {
  const title = checkTitle(titleRaw);
  const ids = [...new Set(memberIds)].filter((id) => id !== owner.id);
  if (ids.length > CREATE_MEMBERS_MAX) {
    fail(
      400,
      "bad_input",
      `Add at most ${CREATE_MEMBERS_MAX} friends at creation, more afterwards`,
      "members",
    );
  }
  await requireFriends(deps, owner.id, ids);
  const now = deps.now();
  const conv: Conversation = {
    id: newId(now),
    kind: "group",
    title,
    createdAt: now,
    createdBy: owner.id,
    public: false,
    memberInvite: true,
    cap: GROUP_CAP,
    avatar: null,
    notice: null,
  };
  const op = deps.kv.atomic();
  addConversationWrites(op, conv, [
    { userId: owner.id, role: "owner" },
    ...ids.map((userId) => ({ userId, role: "member" as const })),
  ], now);
  if (!(await op.set(keys.memberCount(conv.id), ids.length + 1).commit()).ok) {
    fail(409, "busy", "Could not create the group; try again");
  }
  await groupChange(deps, conv.id, owner.id, {
    minRole: "owner",
    meta: { event: "created", title },
  });
  await deps.events.toUsers([owner.id, ...ids], { control: { kind: "conv_added", conv: conv.id } });
  return conv;
}

/** Changes the group record (name, notice, avatar, settings) with a system message. */
function updateGroup(
  deps: DomainDeps,
  convId: string,
  actorId: string,
  meta: Meta,
  change: (c: Conversation) => Conversation,
): Promise<Ack> {
  return groupChange(deps, convId, actorId, {
    minRole: "admin",
    meta,
    extra: ({ conv }) => ({
      apply: (op) => {
        const next = change(conv.value);
        op.set(keys.conv(convId), next);
        if (conv.value.public) op.delete(keys.groupByName(titleKey(conv.value.title), convId));
        if (next.public) op.set(keys.groupByName(titleKey(next.title), convId), true);
      },
    }),
  });
}

export async function rename(
  deps: DomainDeps,
  actor: User,
  convId: string,
  titleRaw: string,
): Promise<Ack> {
  const title = checkTitle(titleRaw);
  return await updateGroup(
    deps,
    convId,
    actor.id,
    { event: "renamed", title },
    (c) => ({ ...c, title }),
  );
}

export async function setNotice(
  deps: DomainDeps,
  actor: User,
  convId: string,
  textRaw: string,
): Promise<Ack> {
  const text = checkNotice(textRaw);
  const at = deps.now();
  return await updateGroup(
    deps,
    convId,
    actor.id,
    { event: "notice", text },
    (c) => ({ ...c, notice: text ? { text, by: actor.id, at } : null }),
  );
}

export function setSettings(
  deps: DomainDeps,
  actor: User,
  convId: string,
  s: { public?: boolean; memberInvite?: boolean },
): Promise<Ack> {
  const text = JSON.stringify({ public: s.public, memberInvite: s.memberInvite });
  return updateGroup(deps, convId, actor.id, { event: "settings", text }, (c) => ({
    ...c,
    public: s.public ?? c.public ?? false,
    memberInvite: s.memberInvite ?? c.memberInvite ?? true,
  }));
}

/** Sets the group picture (a blob id, or null); returns the blob it replaced, for the caller to delete. */
export async function setAvatar(
  deps: DomainDeps,
  actor: User,
  convId: string,
  blobId: string | null,
): Promise<{ ack: Ack; old: string | null }> {
  let old: string | null = null;
  const ack = await updateGroup(
    deps,
    convId,
    actor.id,
    { event: "avatar", text: blobId ?? "" },
    (c) => {
      old = c.avatar ?? null;
      return { ...c, avatar: blobId };
    },
  );
  return { ack, old };
}

/** A member's own name in this group ("" shows their nickname). */
export async function setDisplayName(
  deps: DomainDeps,
  user: User,
  convId: string,
  raw: string,
): Promise<void> {
  const name = raw.trim();
  const p = nameProblem(name, DISPLAY_NAME_MAX, false);
  if (p) {
    throw new HttpError(400, p, `Invalid name: ${p}`, {
      field: "displayName",
      params: { max: DISPLAY_NAME_MAX },
    });
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const ctx = await readCtx(deps, convId, user.id, "member");
    const next: Member = { ...ctx.actor.value, displayName: name || undefined };
    if (
      (await deps.kv.atomic().check(ctx.conv).check(ctx.actor).set(ctx.actor.key, next).commit()).ok
    ) {
      await deps.events.toConv(convId, { type: "members_changed", conv: convId });
      return;
    }
  }
  fail(409, "busy", "Try again");
}
