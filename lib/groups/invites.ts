/**
 * Ways into a private group: invite links (revocable, optionally expiring; the token travels in
 * the link's #fragment and is stored hashed) and join requests that an admin approves.
 *
 * Blocking stays silent here too: a join request from someone an admin blocked is neither shown
 * to that admin nor answerable by them; the other admins see it as usual.
 */
import { keys } from "../kv/keys.ts";
import { HttpError } from "../errors.ts";
import { newId, newToken, sha256 } from "../ids.ts";
import { type Conversation, getManyChunked, type Member } from "../chat/conversations.ts";
import { fail } from "../errors.ts";
import { readCtx, validId } from "./groups.ts";
import { addMember, joinPublic, selfJoin } from "./join.ts";
import { userCard } from "../chat/conv_list.ts";
import { lineProblem } from "../wire/validate.ts";
import type { Ack, DomainDeps } from "../chat/events.ts";
import type { RequestView } from "../wire/protocol.ts";
import type { User } from "../accounts/users.ts";

export interface Invite {
  id: string;
  conv: string;
  by: string;
  createdAt: number;
  /** null: never expires. */
  expiresAt: number | null;
}

export interface JoinRequest {
  userId: string;
  note: string;
  at: number;
}

export const INVITE_MAX_HOURS = 24 * 30;
export const MAX_INVITES = 20;
export const JOIN_NOTE_MAX = 60;
const JOIN_REQUEST_TTL_MS = 7 * 24 * 3600_000;
const TOKEN_RE = /^[A-Za-z0-9_-]{20,100}$/;

function invalid(): never {
  fail(404, "invite_invalid", "This invite link is invalid, revoked or expired");
}

function isLive(inv: Invite, now: number): boolean {
  return inv.expiresAt === null || inv.expiresAt > now;
}

/** Makes an invite link token for the group (admins). Returns the token once; only its hash is kept. */
export async function createInvite(
  deps: DomainDeps,
  actor: User,
  convId: string,
  hours: number | null,
): Promise<{ invite: Invite; token: string }> {
  const ctx = await readCtx(deps, convId, actor.id, "admin");
  if (hours !== null && (!Number.isInteger(hours) || hours < 1 || hours > INVITE_MAX_HOURS)) {
    fail(400, "bad_input", `Expiry must be 1–${INVITE_MAX_HOURS} hours, or none`, "hours");
  }
  const now = deps.now();
  // expireIn is only a hint: links past their time are dropped here and do not count.
  const live = (await listAll(deps, convId)).filter((i) => i.invite && isLive(i.invite, now));
  if (live.length >= MAX_INVITES) {
    fail(
      409,
      "too_many_invites",
      `A group has at most ${MAX_INVITES} live invite links: revoke one first`,
    );
  }
  const token = newToken(24);
  const hash = sha256(token);
  const invite: Invite = {
    id: newId(now),
    conv: convId,
    by: actor.id,
    createdAt: now,
    expiresAt: hours ? now + hours * 3600_000 : null,
  };
  const ttl = hours ? { expireIn: hours * 3600_000 } : undefined;
  // Checked against the role and the group in the same write: a demoted admin makes no link.
  const res = await deps.kv.atomic().check(ctx.conv).check(ctx.actor)
    .set(keys.invite(hash), invite, ttl).set(keys.groupInvite(convId, invite.id), hash, ttl)
    .commit();
  if (!res.ok) fail(409, "busy", "The group changed meanwhile; try again");
  return { invite, token };
}

/** Every listing entry with its invite (null when the invite itself is gone). */
async function listAll(
  deps: DomainDeps,
  convId: string,
): Promise<{ key: Deno.KvKey; hash: string; invite: Invite | null }[]> {
  const idx: { key: Deno.KvKey; hash: string }[] = [];
  for await (const e of deps.kv.list<string>({ prefix: keys.groupInvites(convId) })) {
    idx.push({ key: e.key, hash: e.value });
  }
  const got = await getManyChunked<Invite>(deps.kv, idx.map((i) => keys.invite(i.hash)));
  return idx.map((i, n) => ({ ...i, invite: got[n].value }));
}

/** The group's live invite links, oldest first (admins). */
export async function listInvites(
  deps: DomainDeps,
  actor: User,
  convId: string,
): Promise<Invite[]> {
  await readCtx(deps, convId, actor.id, "admin");
  const now = deps.now();
  return (await listAll(deps, convId)).flatMap((
    i,
  ) => (i.invite && isLive(i.invite, now) ? [i.invite] : []));
}

export async function revokeInvite(
  deps: DomainDeps,
  actor: User,
  convId: string,
  inviteId: string,
): Promise<void> {
  const ctx = await readCtx(deps, convId, actor.id, "admin");
  const idx = validId(inviteId)
    ? await deps.kv.get<string>(keys.groupInvite(convId, inviteId))
    : null;
  if (!idx?.value) fail(404, "invite_not_found", "No such invite link");
  const res = await deps.kv.atomic().check(ctx.conv).check(ctx.actor).check(idx).delete(
    keys.invite(idx.value),
  ).delete(idx.key).commit();
  if (!res.ok) fail(409, "busy", "The group changed meanwhile; try again");
}

/** The invite behind a token, if it is live. */
async function liveInvite(
  deps: DomainDeps,
  token: string,
): Promise<{ invite: Invite; key: Deno.KvKey }> {
  if (typeof token !== "string" || !TOKEN_RE.test(token)) invalid();
  const key = keys.invite(sha256(token));
  const inv = (await deps.kv.get<Invite>(key)).value;
  // expireIn is only a hint: the expiry is checked here.
  if (!inv || !isLive(inv, deps.now())) invalid();
  return { invite: inv, key };
}

/** What the join page shows before joining. */
export async function previewInvite(
  deps: DomainDeps,
  token: string,
): Promise<{ id: string; title: string; memberCount: number; avatar: string | null }> {
  const { invite } = await liveInvite(deps, token);
  const [conv, count] = await deps.kv.getMany<[Conversation, number]>([
    keys.conv(invite.conv),
    keys.memberCount(invite.conv),
  ]);
  if (!conv.value || conv.value.dissolved) invalid();
  return {
    id: conv.value.id,
    title: conv.value.title,
    memberCount: count.value ?? 0,
    avatar: conv.value.avatar ?? null,
  };
}

/** Joins through a link; the link is checked again in the joining write (a revoke in between wins). */
export async function joinByInvite(deps: DomainDeps, user: User, token: string): Promise<Ack> {
  const { invite, key } = await liveInvite(deps, token);
  try {
    return await selfJoin(deps, invite.conv, user.id, "link", key);
  } catch (err) {
    // A dissolved group's links are dead links.
    if (err instanceof HttpError && err.code === "group_not_found") invalid();
    throw err;
  }
}

/** Joins a public group at once, or asks to join a private one. */
export async function joinOrAsk(
  deps: DomainDeps,
  user: User,
  convId: string,
  note: string,
): Promise<"joined" | "requested"> {
  const conv = validId(convId) ? (await deps.kv.get<Conversation>(keys.conv(convId))).value : null;
  if (!conv || conv.kind !== "group" || conv.dissolved) {
    fail(404, "group_not_found", "No such group");
  }
  if (conv.public) {
    await joinPublic(deps, user, convId);
    return "joined";
  }
  await requestJoin(deps, user, convId, note);
  return "requested";
}

/** Asks to join a private group; its owner and admins see the request live. */
export async function requestJoin(
  deps: DomainDeps,
  user: User,
  convId: string,
  noteRaw: string,
): Promise<void> {
  const note = noteRaw.trim();
  const p = lineProblem(note, JOIN_NOTE_MAX, false);
  if (p) {
    throw new HttpError(400, p, `Invalid note: ${p}`, {
      field: "note",
      params: { max: JOIN_NOTE_MAX },
    });
  }
  if (!validId(convId)) fail(404, "group_not_found", "No such group");
  const [conv, member] = await deps.kv.getMany<[Conversation, Member]>([
    keys.conv(convId),
    keys.member(convId, user.id),
  ]);
  if (!conv.value || conv.value.kind !== "group" || conv.value.dissolved) {
    fail(404, "group_not_found", "No such group");
  }
  if (member.value) fail(409, "already_member", "Already in the group");
  const req: JoinRequest = { userId: user.id, note, at: deps.now() };
  const res = await deps.kv.atomic().check(conv).check(member).set(
    keys.joinReq(convId, user.id),
    req,
    { expireIn: JOIN_REQUEST_TTL_MS },
  ).commit();
  if (!res.ok) fail(409, "busy", "The group changed meanwhile; try again");
  const request: RequestView = { user: userCard(user), note, at: req.at };
  const admins: string[] = [];
  for await (const e of deps.kv.list<Member>({ prefix: keys.members(convId) })) {
    if (e.value.role !== "member") admins.push(e.value.userId);
  }
  const blocks = await getManyChunked(deps.kv, admins.map((a) => keys.block(a, user.id)));
  await deps.events.toUsers(admins.filter((_, i) => !blocks[i].value), {
    frame: { type: "join_request", conv: convId, request },
  });
}

/** Pending requests, oldest first, without those from people this admin blocked. */
export async function listJoinRequests(
  deps: DomainDeps,
  actor: User,
  convId: string,
): Promise<RequestView[]> {
  await readCtx(deps, convId, actor.id, "admin");
  const now = deps.now();
  const reqs: JoinRequest[] = [];
  for await (const e of deps.kv.list<JoinRequest>({ prefix: keys.joinReqs(convId) })) {
    if (now - e.value.at < JOIN_REQUEST_TTL_MS) reqs.push(e.value);
  }
  const [users, blocks] = await Promise.all([
    getManyChunked<User>(deps.kv, reqs.map((r) => keys.user(r.userId))),
    getManyChunked(deps.kv, reqs.map((r) => keys.block(actor.id, r.userId))),
  ]);
  return reqs.flatMap((
    r,
    i,
  ) => (users[i].value && !blocks[i].value
    ? [{ user: userCard(users[i].value!), note: r.note, at: r.at }]
    : [])
  )
    .sort((a, b) => a.at - b.at);
}

/** The pending request of `userId`, as this admin may see it. */
async function visibleRequest(deps: DomainDeps, actor: User, convId: string, userId: string) {
  const ctx = await readCtx(deps, convId, actor.id, "admin");
  if (!validId(userId)) fail(404, "join_request_not_found", "No such join request");
  const [req, blocked] = await deps.kv.getMany<[JoinRequest, unknown]>([
    keys.joinReq(convId, userId),
    keys.block(actor.id, userId),
  ]);
  if (!req.value || blocked.value || deps.now() - req.value.at >= JOIN_REQUEST_TTL_MS) {
    fail(404, "join_request_not_found", "No such join request");
  }
  return { ctx, req };
}

export async function approveJoin(
  deps: DomainDeps,
  actor: User,
  convId: string,
  userId: string,
): Promise<Ack> {
  await visibleRequest(deps, actor, convId, userId);
  return await addMember(deps, convId, userId, actor.id, { minRole: "admin", via: "request" });
}

export async function declineJoin(
  deps: DomainDeps,
  actor: User,
  convId: string,
  userId: string,
): Promise<void> {
  const { ctx, req } = await visibleRequest(deps, actor, convId, userId);
  if ((await deps.kv.atomic().check(ctx.actor).check(req).delete(req.key).commit()).ok) return;
  const again = await deps.kv.get(req.key);
  if (again.versionstamp !== req.versionstamp) {
    fail(409, "join_request_not_found", "This request was already answered");
  }
  fail(409, "busy", "The group changed meanwhile; try again");
}
