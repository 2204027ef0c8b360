/** Editing one's profile: validation of every field, then one write. */
import { HttpError } from "../errors.ts";
import {
  type Gender,
  GENDERS,
  LIMITS,
  lineProblem,
  nameProblem,
  textProblem,
  websiteProblem,
} from "../wire/validate.ts";
import { type ProfilePatch, updateUser, type User } from "./users.ts";
import { makeAvatar } from "../media/images.ts";
import { deleteBlob, putBlob } from "../kv/blobs.ts";
import { hitLimit } from "../kv/rate_limit.ts";
import { listUserConvs } from "../chat/conversations.ts";
import { userCard } from "../chat/conv_list.ts";
import type { DomainDeps } from "../chat/events.ts";

export interface ProfileInput {
  nickname?: string;
  gender?: string;
  region?: string;
  bio?: string;
  website?: string;
}

function fail(code: string, field: string, params?: Record<string, number>): never {
  throw new HttpError(400, code, `Invalid ${field}: ${code}`, { field, params });
}

/** Checks a profile change; returns the clean patch or throws on the first bad field. */
export function validateProfile(input: ProfileInput): ProfilePatch {
  const patch: ProfilePatch = {};
  if (input.nickname !== undefined) {
    const v = input.nickname.trim();
    const p = nameProblem(v, LIMITS.nickname, true);
    if (p) fail(p, "nickname", { max: LIMITS.nickname });
    patch.nickname = v;
  }
  if (input.gender !== undefined) {
    if (!GENDERS.includes(input.gender as Gender)) fail("gender_value", "gender");
    patch.gender = input.gender as Gender;
  }
  if (input.region !== undefined) {
    const v = input.region.trim();
    const p = lineProblem(v, LIMITS.region, false);
    if (p) fail(p, "region", { max: LIMITS.region });
    patch.region = v;
  }
  if (input.bio !== undefined) {
    const v = input.bio.trim();
    const p = textProblem(v, LIMITS.bio, false);
    if (p) fail(p, "bio", { max: LIMITS.bio });
    patch.bio = v;
  }
  if (input.website !== undefined) {
    const v = input.website.trim();
    const p = websiteProblem(v);
    if (p) fail(p, "website", { max: LIMITS.website });
    patch.website = v ? new URL(v).href : "";
  }
  return patch;
}

export async function updateProfile(
  kv: Deno.Kv,
  userId: string,
  input: ProfileInput,
): Promise<User> {
  const patch = validateProfile(input);
  return await updateUser(kv, userId, (u) => ({ ...u, ...patch }));
}

/** Replaces the avatar with a processed copy of the upload; the old picture is deleted. */
export async function setAvatar(kv: Deno.Kv, userId: string, upload: Uint8Array): Promise<User> {
  const avatar = await makeAvatar(upload);
  const blob = await putBlob(kv, avatar.bytes, { type: avatar.type, owner: userId });
  let old: string | null = null;
  const user = await updateUser(kv, userId, (u) => {
    old = u.avatar;
    return { ...u, avatar: blob.id };
  });
  if (old) await deleteBlob(kv, old);
  return user;
}

export async function removeAvatar(kv: Deno.Kv, userId: string): Promise<User> {
  let old: string | null = null;
  const user = await updateUser(kv, userId, (u) => {
    old = u.avatar;
    return { ...u, avatar: null };
  });
  if (old) await deleteBlob(kv, old);
  return user;
}

/** Conversations a profile change is announced in, at most. */
const ANNOUNCE_MAX = 2000;
/** Announced changes per user; later ones show at the next page load. */
const ANNOUNCE_RATE = { max: 20, windowMs: 3600_000 };

/**
 * Tells everyone who can see `user` that their name or picture changed: one frame in each of the
 * user's conversations (friends share a DM with them, group members the group; the user's own
 * other devices are in all of them).
 */
export async function announceProfile(
  deps: DomainDeps,
  before: User,
  user: User,
): Promise<void> {
  if (before.nickname === user.nickname && before.avatar === user.avatar) return;
  // Each announcement is a frame per conversation: a script renaming itself in a loop gets a few.
  const live = await hitLimit(deps.kv, "profile_live", user.id, ANNOUNCE_RATE, deps.now());
  if (!live.ok) return;
  const convs = await listUserConvs(deps.kv, user.id);
  const frame = { type: "profile" as const, user: userCard(user) };
  for (const c of convs.slice(0, ANNOUNCE_MAX)) await deps.events.toConv(c.convId, frame);
}
