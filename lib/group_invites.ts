/**
 * Ways into a private group: invite links (revocable, optionally expiring; the token travels in
 * the link's #fragment and is stored hashed) and join requests that an admin approves.
 */
import { keys } from "./kv_keys.ts";
import { HttpError } from "./http_error.ts";
import { newId, newToken, sha256 } from "./ids.ts";
import { type Conversation, getManyChunked, type Member } from "./conversations.ts";
import { addMember, selfJoin } from "./groups.ts";
import { userCard } from "./conv_list.ts";
import { lineProblem } from "./validate.ts";
import type { Ack } from "./fanout.ts";
import type { Realtime } from "./realtime.ts";
import type { RequestView } from "./protocol.ts";
import type { User } from "./users.ts";

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
const MAX_INVITES = 20;

function fail(status: number, code: string, message: string, field?: string): never {
  throw new HttpError(status, code, message, { field });
}

async function requireRole(rt: Realtime, convId: string, userId: string, admin: boolean): Promise<{ conv: Conversation; member: Member }> {
  const ok = typeof convId === "string" && /^[0-9a-z]{1,40}$/.test(convId);
  const [conv, member] = ok ? await rt.kv.getMany<[Conversation, Member]>([keys.conv(convId), keys.member(convId, userId)]) : [null, null];
  if (!conv?.value || conv.value.kind !== "group" || conv.value.dissolved) fail(404, "group_not_found", "No such group");
  if (!member?.value) fail(403, "not_member", "You are not in this group");
  if (admin && member.value.role === "member") fail(403, "forbidden_role", "Only the owner and admins can do that");
  return { conv: conv.value, member: member.value };
}

/** Makes an invite link token for the group (admins). Returns the token once; only its hash is kept. */
export async function createInvite(rt: Realtime, actor: User, convId: string, hours: number | null): Promise<{ invite: Invite; token: string }> {
  await requireRole(rt, convId, actor.id, true);
  if (hours !== null && (!Number.isInteger(hours) || hours < 1 || hours > INVITE_MAX_HOURS)) {
    fail(400, "bad_input", `Expiry must be 1–${INVITE_MAX_HOURS} hours, or none`, "hours");
  }
  let n = 0;
  for await (const _ of rt.kv.list({ prefix: keys.groupInvites(convId) })) n++;
  if (n >= MAX_INVITES) fail(409, "too_many_invites", `At most ${MAX_INVITES} links per group: revoke one first`);
  const now = rt.now();
  const token = newToken(24);
  const hash = await sha256(token);
  const invite: Invite = { id: newId(now), conv: convId, by: actor.id, createdAt: now, expiresAt: hours ? now + hours * 3600_000 : null };
  const ttl = hours ? { expireIn: hours * 3600_000 } : undefined;
  await rt.kv.atomic().set(keys.invite(hash), invite, ttl).set(keys.groupInvite(convId, invite.id), hash, ttl).commit();
  return { invite, token };
}

export async function listInvites(rt: Realtime, actor: User, convId: string): Promise<Invite[]> {
  await requireRole(rt, convId, actor.id, true);
  const hashes: string[] = [];
  for await (const e of rt.kv.list<string>({ prefix: keys.groupInvites(convId) })) hashes.push(e.value);
  const now = rt.now();
  const got = await getManyChunked<Invite>(rt.kv, hashes.map((h) => keys.invite(h)));
  return got.flatMap((e) => (e.value && (e.value.expiresAt === null || e.value.expiresAt > now) ? [e.value] : []));
}

export async function revokeInvite(rt: Realtime, actor: User, convId: string, inviteId: string): Promise<void> {
  await requireRole(rt, convId, actor.id, true);
  const idx = typeof inviteId === "string" && inviteId.length <= 40 ? await rt.kv.get<string>(keys.groupInvite(convId, inviteId)) : null;
  if (!idx?.value) fail(404, "invite_not_found", "No such invite link");
  await rt.kv.atomic().delete(keys.invite(idx.value)).delete(idx.key).commit();
}

/** The invite behind a token, if it is live. */
async function liveInvite(rt: Realtime, token: string): Promise<Invite> {
  if (typeof token !== "string" || token.length < 20 || token.length > 100) fail(404, "invite_invalid", "This invite link is invalid, revoked or expired");
  const inv = (await rt.kv.get<Invite>(keys.invite(await sha256(token)))).value;
  // expireIn is only a hint: the expiry is checked here.
  if (!inv || (inv.expiresAt !== null && inv.expiresAt <= rt.now())) fail(404, "invite_invalid", "This invite link is invalid, revoked or expired");
  return inv;
}

/** What the join page shows before joining. */
export async function previewInvite(rt: Realtime, token: string): Promise<{ id: string; title: string; memberCount: number; avatar: string | null }> {
  const inv = await liveInvite(rt, token);
  const [conv, count] = await rt.kv.getMany<[Conversation, number]>([keys.conv(inv.conv), keys.memberCount(inv.conv)]);
  if (!conv.value || conv.value.dissolved) fail(404, "invite_invalid", "This invite link is invalid, revoked or expired");
  return { id: conv.value.id, title: conv.value.title, memberCount: count.value ?? 0, avatar: conv.value.avatar ?? null };
}

export async function joinByInvite(rt: Realtime, user: User, token: string): Promise<Ack> {
  const inv = await liveInvite(rt, token);
  return await selfJoin(rt, inv.conv, user.id, "link");
}

/** Asks to join a private group; its owner and admins see the request live. */
export async function requestJoin(rt: Realtime, user: User, convId: string, noteRaw: string): Promise<void> {
  const note = noteRaw.trim();
  const p = lineProblem(note, 60, false);
  if (p) throw new HttpError(400, p, `Invalid note: ${p}`, { field: "note", params: { max: 60 } });
  const ok = typeof convId === "string" && /^[0-9a-z]{1,40}$/.test(convId);
  const [conv, member] = ok ? await rt.kv.getMany<[Conversation, Member]>([keys.conv(convId), keys.member(convId, user.id)]) : [null, null];
  if (!conv?.value || conv.value.kind !== "group" || conv.value.dissolved) fail(404, "group_not_found", "No such group");
  if (member?.value) fail(409, "already_member", "Already in the group");
  const req: JoinRequest = { userId: user.id, note, at: rt.now() };
  await rt.kv.set(keys.joinReq(convId, user.id), req, { expireIn: 7 * 24 * 3600_000 });
  const request: RequestView = { user: userCard(user), note, at: req.at };
  for await (const e of rt.kv.list<Member>({ prefix: keys.members(convId) })) {
    if (e.value.role !== "member") await rt.log.publish({ t: "user", user: e.value.userId, frame: { type: "join_request", conv: convId, request } });
  }
}

export async function listJoinRequests(rt: Realtime, actor: User, convId: string): Promise<RequestView[]> {
  await requireRole(rt, convId, actor.id, true);
  const reqs: JoinRequest[] = [];
  for await (const e of rt.kv.list<JoinRequest>({ prefix: keys.joinReqs(convId) })) reqs.push(e.value);
  const users = await getManyChunked<User>(rt.kv, reqs.map((r) => keys.user(r.userId)));
  return reqs.flatMap((r, i) => (users[i].value ? [{ user: userCard(users[i].value!), note: r.note, at: r.at }] : []));
}

export async function approveJoin(rt: Realtime, actor: User, convId: string, userId: string): Promise<Ack> {
  await requireRole(rt, convId, actor.id, true);
  const req = typeof userId === "string" && userId.length <= 40 ? await rt.kv.get(keys.joinReq(convId, userId)) : null;
  if (!req?.value) fail(404, "request_not_found", "No such join request");
  return await addMember(rt, convId, userId, actor.id, { minRole: "admin", via: "request" });
}

export async function declineJoin(rt: Realtime, actor: User, convId: string, userId: string): Promise<void> {
  await requireRole(rt, convId, actor.id, true);
  const req = typeof userId === "string" && userId.length <= 40 ? await rt.kv.get(keys.joinReq(convId, userId)) : null;
  if (!req?.value) fail(404, "request_not_found", "No such join request");
  if (!(await rt.kv.atomic().check(req).delete(req.key).commit()).ok) fail(409, "request_not_found", "Already answered");
}
