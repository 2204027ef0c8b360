/**
 * Groups: create, settings, roles (owner, admins, members), membership and moderation. Every
 * change is a system message in the group's log committed in the same atomic write as the change
 * itself, after checking (in that write) that the actor still has the role it needs. So changes
 * resume and page like messages, and races (two admins, concurrent joins at the cap) resolve in KV.
 */
import { keys } from "./kv_keys.ts";
import { HttpError } from "./http_error.ts";
import { type Conversation, createGroup as createGroupRecord, getManyChunked, type Member, type Role, type UserConv } from "./conversations.ts";
import type { Ack, Prepared } from "./fanout.ts";
import type { Realtime } from "./realtime.ts";
import type { Message } from "./protocol.ts";
import type { User } from "./users.ts";
import { lineProblem, textProblem } from "./validate.ts";

export const GROUP_CAP = 500;
export const TITLE_MAX = 30;
export const NOTICE_MAX = 500;
export const DISPLAY_NAME_MAX = 32;
export const MUTE_MAX_MINUTES = 30 * 24 * 60;
const RANK: Record<Role, number> = { owner: 3, admin: 2, member: 1 };

type Meta = NonNullable<Message["meta"]>;
type Entry<T> = Deno.KvEntry<T>;
export interface Ctx {
  conv: Entry<Conversation>;
  actor: Entry<Member>;
}
type Extra = (ctx: Ctx) => Promise<{ checks?: Deno.AtomicCheck[]; apply?: (op: Deno.AtomicOperation, seq: number) => void }>;

function fail(status: number, code: string, message: string, field?: string): never {
  throw new HttpError(status, code, message, { field });
}

function validId(id: unknown): id is string {
  return typeof id === "string" && /^[0-9a-z]{1,40}$/.test(id);
}

export function checkTitle(raw: string): string {
  const title = raw.trim();
  const p = lineProblem(title, TITLE_MAX, true);
  if (p) throw new HttpError(400, p, `Invalid group name: ${p}`, { field: "title", params: { max: TITLE_MAX } });
  return title;
}

export function titleKey(title: string): string {
  return title.normalize("NFKC").toLowerCase().slice(0, 64);
}

/** Reads the group and the actor's membership; refuses a missing group, a non-member, a low role. */
async function readCtx(rt: Realtime, convId: string, actorId: string, minRole: Role): Promise<Ctx> {
  if (!validId(convId)) fail(404, "group_not_found", "No such group");
  const [conv, actor] = await rt.kv.getMany<[Conversation, Member]>([keys.conv(convId), keys.member(convId, actorId)]);
  if (!conv.value || conv.value.kind !== "group") fail(404, "group_not_found", "No such group");
  if (!actor.value) fail(403, "not_member", "You are not in this group");
  if (RANK[actor.value.role] < RANK[minRole]) fail(403, "forbidden_role", `Only the ${minRole === "owner" ? "owner" : "owner and admins"} can do that`);
  return { conv: conv as Entry<Conversation>, actor: actor as Entry<Member> };
}

/**
 * Commits one group change: a system message plus the change, checked against the group and the
 * actor's role as read in the same attempt (a concurrent change makes the write retry).
 */
export function groupChange(
  rt: Realtime,
  convId: string,
  actorId: string,
  opts: { minRole: Role; meta: Meta; extra?: Extra },
): Promise<Ack> {
  return rt.log.append({
    conv: convId,
    sender: "system",
    cid: `${opts.meta.event}-${crypto.randomUUID()}`,
    kind: "system",
    text: "",
    meta: { ...opts.meta, by: actorId },
    checkMember: false,
    prepare: async (): Promise<Prepared> => {
      const ctx = await readCtx(rt, convId, actorId, opts.minRole);
      const more = opts.extra ? await opts.extra(ctx) : {};
      return { checks: [ctx.conv, ctx.actor, ...(more.checks ?? [])], apply: (op, seq) => more.apply?.(op, seq) };
    },
  });
}

/** Creates a group with friends of the owner as first members; the owner is its owner. */
export async function createGroup(rt: Realtime, owner: User, titleRaw: string, memberIds: string[]): Promise<Conversation> {
  const title = checkTitle(titleRaw);
  const ids = [...new Set(memberIds)].filter((id) => id !== owner.id);
  if (ids.length + 1 > GROUP_CAP) fail(400, "group_full", `A group has at most ${GROUP_CAP} members`);
  if (!ids.every(validId)) fail(400, "bad_input", "Unknown member ids", "members");
  const friends = await getManyChunked(rt.kv, ids.map((id) => keys.friend(owner.id, id)));
  if (friends.some((f) => !f.value)) fail(403, "not_friends", "You can only add your friends", "members");
  const conv = await createGroupRecord(rt.kv, owner.id, title, ids, rt.now());
  await rt.kv.set(keys.conv(conv.id), { ...conv, public: false, memberInvite: true, cap: GROUP_CAP, avatar: null, notice: null } satisfies Conversation);
  await groupChange(rt, conv.id, owner.id, { minRole: "owner", meta: { event: "created", title } });
  await Promise.all([owner.id, ...ids].map((user) => rt.log.publish({ t: "user", user, control: { kind: "conv_added", conv: conv.id } })));
  return (await rt.kv.get<Conversation>(keys.conv(conv.id))).value!;
}

/** Changes the group record (name, notice, avatar, settings) with a system message. */
function updateGroup(
  rt: Realtime,
  convId: string,
  actorId: string,
  meta: Meta,
  change: (c: Conversation) => Conversation,
): Promise<Ack> {
  return groupChange(rt, convId, actorId, {
    minRole: "admin",
    meta,
    extra: async ({ conv }) => ({
      apply: (op) => {
        const next = change(conv.value);
        op.set(keys.conv(convId), next);
        if (conv.value.public) op.delete(keys.groupByName(titleKey(conv.value.title), convId));
        if (next.public) op.set(keys.groupByName(titleKey(next.title), convId), true);
      },
    }),
  });
}

export function rename(rt: Realtime, actor: User, convId: string, titleRaw: string): Promise<Ack> {
  const title = checkTitle(titleRaw);
  return updateGroup(rt, convId, actor.id, { event: "renamed", title }, (c) => ({ ...c, title }));
}

export function setNotice(rt: Realtime, actor: User, convId: string, textRaw: string): Promise<Ack> {
  const text = textRaw.trim();
  const p = textProblem(text, NOTICE_MAX, false);
  if (p) throw new HttpError(400, p, `Invalid notice: ${p}`, { field: "notice", params: { max: NOTICE_MAX } });
  const at = rt.now();
  return updateGroup(rt, convId, actor.id, { event: "notice", text }, (c) => ({ ...c, notice: text ? { text, by: actor.id, at } : null }));
}

export function setSettings(rt: Realtime, actor: User, convId: string, s: { public?: boolean; memberInvite?: boolean }): Promise<Ack> {
  const text = JSON.stringify({ public: s.public, memberInvite: s.memberInvite });
  return updateGroup(rt, convId, actor.id, { event: "settings", text }, (c) => ({
    ...c,
    public: s.public ?? c.public ?? false,
    memberInvite: s.memberInvite ?? c.memberInvite ?? true,
  }));
}

export function setAvatar(rt: Realtime, actor: User, convId: string, blobId: string | null): Promise<Ack> {
  return updateGroup(rt, convId, actor.id, { event: "avatar", text: blobId ?? "" }, (c) => ({ ...c, avatar: blobId }));
}

/**
 * Adds `userId` to the group in the same write as a "joined" message. The member count is
 * checked there too, so concurrent joins never pass the cap.
 */
export function addMember(rt: Realtime, convId: string, userId: string, actorId: string, opts: { minRole?: Role; via?: string } = {}): Promise<Ack> {
  return groupChange(rt, convId, actorId, {
    minRole: opts.minRole ?? "member",
    meta: { event: "member_added", userId, ...(opts.via ? { text: opts.via } : {}) },
    extra: async ({ conv }) => {
      const [member, count, req] = await rt.kv.getMany<[Member, number, unknown]>([
        keys.member(convId, userId),
        keys.memberCount(convId),
        keys.joinReq(convId, userId),
      ]);
      if (member.value) fail(409, "already_member", "Already in the group");
      const n = count.value ?? 0;
      if (n >= (conv.value.cap ?? GROUP_CAP)) fail(409, "group_full", "The group is full");
      return {
        checks: [member, count],
        apply: (op, seq) => {
          const m: Member = { userId, role: "member", joinedAt: rt.now(), joinedSeq: seq - 1 };
          const idx: UserConv = { convId, kind: "group" };
          op.set(keys.member(convId, userId), m).set(keys.userConv(userId, convId), idx).set(keys.memberCount(convId), n + 1);
          if (req.value) op.delete(keys.joinReq(convId, userId));
        },
      };
    },
  });
}

/** The writes that take a member out (used by kick and leave). */
async function removalExtra(rt: Realtime, convId: string, userId: string) {
  const [member, count] = await rt.kv.getMany<[Member, number]>([keys.member(convId, userId), keys.memberCount(convId)]);
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

/** Invites friends into the group (admins always; members when the group allows it). */
export async function inviteFriends(rt: Realtime, actor: User, convId: string, userIds: string[]): Promise<Ack[]> {
  const ctx = await readCtx(rt, convId, actor.id, "member");
  if (ctx.actor.value.role === "member" && ctx.conv.value.memberInvite === false) fail(403, "forbidden_role", "Only admins can add members here");
  const ids = [...new Set(userIds)];
  if (!ids.length || !ids.every(validId)) fail(400, "bad_input", "Choose friends to add", "members");
  const friends = await getManyChunked(rt.kv, ids.map((id) => keys.friend(actor.id, id)));
  if (friends.some((f) => !f.value)) fail(403, "not_friends", "You can only add your friends", "members");
  const out: Ack[] = [];
  for (const id of ids) out.push(await addMember(rt, convId, id, actor.id));
  return out;
}

/** Removes a member. Admins may remove members; the owner may remove anyone but themself. */
export function kick(rt: Realtime, actor: User, convId: string, targetId: string): Promise<Ack> {
  if (targetId === actor.id) fail(400, "bad_input", "Use leave to leave the group");
  return groupChange(rt, convId, actor.id, {
    minRole: "admin",
    meta: { event: "member_removed", userId: targetId },
    extra: async ({ actor: a }) => {
      const r = await removalExtra(rt, convId, targetId);
      if (RANK[r.member.role] >= RANK[a.value.role]) fail(403, "forbidden_role", "You can only remove members below your role");
      return r;
    },
  });
}

/** Leaves the group. The owner hands the group over first (or dissolves it). */
export function leave(rt: Realtime, user: User, convId: string): Promise<Ack> {
  return groupChange(rt, convId, user.id, {
    minRole: "member",
    meta: { event: "member_left", userId: user.id },
    extra: async ({ actor }) => {
      if (actor.value.role === "owner") fail(409, "owner_must_transfer", "Make someone else the owner first, or dissolve the group");
      return await removalExtra(rt, convId, user.id);
    },
  });
}

/** Mutes a member below the actor's role for `minutes` (0 lifts it). */
export function mute(rt: Realtime, actor: User, convId: string, targetId: string, minutes: number): Promise<Ack> {
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > MUTE_MAX_MINUTES) {
    fail(400, "bad_input", `Minutes must be a whole number from 0 to ${MUTE_MAX_MINUTES}`, "minutes");
  }
  const until = minutes ? rt.now() + minutes * 60_000 : 0;
  return groupChange(rt, convId, actor.id, {
    minRole: "admin",
    meta: { event: minutes ? "muted" : "unmuted", userId: targetId, ...(minutes ? { until } : {}) },
    extra: async ({ actor: a }) => {
      const target = await rt.kv.get<Member>(keys.member(convId, targetId));
      if (!target.value) fail(404, "not_member", "Not in the group");
      if (RANK[target.value.role] >= RANK[a.value.role]) fail(403, "forbidden_role", "You can only mute members below your role");
      return { checks: [target], apply: (op) => op.set(target.key, { ...target.value, mutedUntil: until || undefined }) };
    },
  });
}

/** The owner makes a member an admin, or an admin a member again. */
export function setRole(rt: Realtime, owner: User, convId: string, targetId: string, role: "admin" | "member"): Promise<Ack> {
  if (role !== "admin" && role !== "member") fail(400, "bad_input", 'Role must be "admin" or "member"', "role");
  return groupChange(rt, convId, owner.id, {
    minRole: "owner",
    meta: { event: role === "admin" ? "admin_added" : "admin_removed", userId: targetId },
    extra: async () => {
      const target = await rt.kv.get<Member>(keys.member(convId, targetId));
      if (!target.value) fail(404, "not_member", "Not in the group");
      if (target.value.role === "owner") fail(400, "bad_input", "The owner's role changes by handing the group over");
      return { checks: [target], apply: (op) => op.set(target.key, { ...target.value, role }) };
    },
  });
}

/** The owner hands the group to another member and becomes an admin. */
export function transferOwnership(rt: Realtime, owner: User, convId: string, targetId: string): Promise<Ack> {
  if (targetId === owner.id) fail(400, "bad_input", "You are the owner already");
  return groupChange(rt, convId, owner.id, {
    minRole: "owner",
    meta: { event: "owner_changed", userId: targetId },
    extra: async ({ actor }) => {
      const target = await rt.kv.get<Member>(keys.member(convId, targetId));
      if (!target.value) fail(404, "not_member", "Not in the group");
      return {
        checks: [target],
        apply: (op) => {
          op.set(target.key, { ...target.value, role: "owner", mutedUntil: undefined });
          op.set(actor.key, { ...actor.value, role: "admin" });
        },
      };
    },
  });
}

/** A member's own name in this group ("" shows their nickname). */
export async function setDisplayName(rt: Realtime, user: User, convId: string, raw: string): Promise<void> {
  const name = raw.trim();
  const p = lineProblem(name, DISPLAY_NAME_MAX, false);
  if (p) throw new HttpError(400, p, `Invalid name: ${p}`, { field: "displayName", params: { max: DISPLAY_NAME_MAX } });
  for (let attempt = 0; attempt < 5; attempt++) {
    const ctx = await readCtx(rt, convId, user.id, "member");
    const next: Member = { ...ctx.actor.value, displayName: name || undefined };
    if ((await rt.kv.atomic().check(ctx.actor).set(ctx.actor.key, next).commit()).ok) {
      await rt.log.publish({ t: "conv", conv: convId, frame: { type: "members_changed", conv: convId } });
      return;
    }
  }
  fail(409, "busy", "Try again");
}

/**
 * Dissolves the group: a last system message, then every membership ends (members' sockets
 * leave at that message; the group disappears from their lists and its history is gone for them).
 */
export async function dissolve(rt: Realtime, owner: User, convId: string): Promise<void> {
  await groupChange(rt, convId, owner.id, {
    minRole: "owner",
    meta: { event: "dissolved" },
    extra: async ({ conv }) => ({
      apply: (op) => {
        op.set(keys.conv(convId), { ...conv.value, dissolved: true } satisfies Conversation);
        if (conv.value.public) op.delete(keys.groupByName(titleKey(conv.value.title), convId));
      },
    }),
  });
  const members: string[] = [];
  for await (const e of rt.kv.list<Member>({ prefix: keys.members(convId) })) members.push(e.value.userId);
  for (let i = 0; i < members.length; i += 200) {
    const op = rt.kv.atomic();
    for (const u of members.slice(i, i + 200)) op.delete(keys.member(convId, u)).delete(keys.userConv(u, convId));
    await op.commit();
  }
  await rt.kv.atomic().delete(keys.memberCount(convId)).delete(keys.convHead(convId)).commit();
}

/** Public groups whose name starts with `q`. */
export async function searchPublicGroups(kv: Deno.Kv, q: string, limit = 20): Promise<Conversation[]> {
  const p = titleKey(q.trim());
  if (!p) return [];
  const ids: string[] = [];
  for await (const e of kv.list({ start: ["groups_by_name", p], end: ["groups_by_name", p + "\uffff"] }, { limit })) ids.push(e.key[2] as string);
  const convs = await getManyChunked<Conversation>(kv, ids.map((id) => keys.conv(id)));
  return convs.flatMap((e) => (e.value && e.value.public ? [e.value] : []));
}

/** Joins a public group directly. */
export async function joinPublic(rt: Realtime, user: User, convId: string): Promise<Ack> {
  if (!validId(convId)) fail(404, "group_not_found", "No such group");
  const conv = (await rt.kv.get<Conversation>(keys.conv(convId))).value;
  if (!conv || conv.kind !== "group" || !conv.public) fail(404, "group_not_found", "No such public group");
  // The joiner acts on their own behalf: the actor check is the new member's own entry.
  return await selfJoin(rt, convId, user.id, "public");
}

/** Adds the user themself (public join, invite link): no actor role to check, only the cap. */
export function selfJoin(rt: Realtime, convId: string, userId: string, via: string): Promise<Ack> {
  return rt.log.append({
    conv: convId,
    sender: "system",
    cid: `join-${userId}-${crypto.randomUUID()}`,
    kind: "system",
    text: "",
    meta: { event: "member_added", userId, by: userId, text: via },
    checkMember: false,
    prepare: async () => {
      const [conv, member, count] = await rt.kv.getMany<[Conversation, Member, number]>([
        keys.conv(convId),
        keys.member(convId, userId),
        keys.memberCount(convId),
      ]);
      if (!conv.value || conv.value.kind !== "group" || conv.value.dissolved) fail(404, "group_not_found", "No such group");
      if (member.value) fail(409, "already_member", "Already in the group");
      const n = count.value ?? 0;
      if (n >= (conv.value.cap ?? GROUP_CAP)) fail(409, "group_full", "The group is full");
      return {
        checks: [conv, member, count],
        apply: (op, seq) => {
          const m: Member = { userId, role: "member", joinedAt: rt.now(), joinedSeq: seq - 1 };
          op.set(keys.member(convId, userId), m).set(keys.userConv(userId, convId), { convId, kind: "group" } satisfies UserConv)
            .set(keys.memberCount(convId), n + 1).delete(keys.joinReq(convId, userId));
        },
      };
    },
  });
}
