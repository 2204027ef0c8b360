/**
 * Sign-ups in KV. A sign-up claims its username and e-mail in one checked write with the unique
 * indexes. When the e-mail already has an account, it becomes a decoy: it holds the username like
 * any sign-up, so neither the answer nor anything after it shows that the address was taken.
 * A sign-up not activated within 7 days expires: its link stops working, and its username and
 * e-mail go to the next sign-up that asks for them.
 */
import { keys } from "../kv/keys.ts";
import { badRequest, conflict } from "../errors.ts";
import { type NewUser, newUserRecord, nickKey, type User } from "./users.ts";
import { botConversationWrites } from "../chat/conversations.ts";
import { botWelcome } from "../chat/bot.ts";

export const SIGNUP_TTL_MS = 7 * 24 * 3600_000;

/** Whether a sign-up has outlived its 7 days without being activated. */
export function signupExpired(u: User, now: number): boolean {
  return !u.activatedAt && now - u.createdAt >= SIGNUP_TTL_MS;
}

/** An account someone can log in to, mail or activate: not a decoy, not an expired sign-up. */
export function liveAccount(u: User | null, now: number): User | null {
  return u && !u.decoy && !signupExpired(u, now) ? u : null;
}

export type SignupResult =
  | { kind: "created"; user: User }
  | { kind: "email_taken"; owner: User };

function usernameTaken() {
  return conflict("username_taken", "Username is taken", "username");
}

async function ownerOf(
  kv: Deno.Kv,
  index: Deno.KvEntryMaybe<string>,
): Promise<Deno.KvEntryMaybe<User> | null> {
  return index.value ? await kv.get<User>(keys.user(index.value)) : null;
}

/** False when a live account or a pending sign-up holds the username (usernames are public). */
export async function usernameFree(kv: Deno.Kv, username: string, now: number): Promise<boolean> {
  const owner = await ownerOf(kv, await kv.get<string>(keys.userByName(username.toLowerCase())));
  return !owner?.value || signupExpired(owner.value, now);
}

/** Removes an expired sign-up and its indexes, except the keys the same write sets anew. */
function dropExpired(op: Deno.AtomicOperation, entry: Deno.KvEntry<User>, keep: string[]): void {
  const u = entry.value;
  op.check(entry).delete(keys.user(u.id)).delete(keys.userByNick(nickKey(u.nickname), u.id));
  const name = keys.userByName(u.username.toLowerCase());
  if (!keep.includes(JSON.stringify(name))) op.delete(name);
  const email = keys.userByEmail(u.email.toLowerCase());
  if (!u.decoy && !keep.includes(JSON.stringify(email))) op.delete(email);
}

/**
 * Stores a sign-up. A username held by a live account or pending sign-up is a 409; otherwise the
 * username is claimed, and the e-mail too when it is free. Expired sign-ups in the way are removed
 * in the same write. Concurrent sign-ups for one name or address: exactly one gets it.
 */
export async function claimSignup(kv: Deno.Kv, input: NewUser, now: number): Promise<SignupResult> {
  const nameKey = keys.userByName(input.username.toLowerCase());
  const emailKey = keys.userByEmail(input.email.toLowerCase());
  const keep = [JSON.stringify(nameKey), JSON.stringify(emailKey)];
  for (let attempt = 0; attempt < 10; attempt++) {
    const [nameIndex, emailIndex] = await kv.getMany<[string, string]>([nameKey, emailKey]);
    const nameOwner = await ownerOf(kv, nameIndex);
    const emailOwner = emailIndex.value === nameIndex.value
      ? nameOwner
      : await ownerOf(kv, emailIndex);
    if (nameOwner?.value && !signupExpired(nameOwner.value, now)) throw usernameTaken();
    const owner = emailOwner?.value && !signupExpired(emailOwner.value, now)
      ? emailOwner.value
      : null;
    const user: User = { ...newUserRecord(input, now), ...(owner ? { decoy: true } : {}) };
    const op = kv.atomic().check(nameIndex).check(emailIndex);
    for (const e of new Set([nameOwner, emailOwner])) {
      if (e?.value && signupExpired(e.value, now)) dropExpired(op, e as Deno.KvEntry<User>, keep);
    }
    op.set(keys.user(user.id), user).set(nameKey, user.id);
    if (!owner) {
      op.set(emailKey, user.id).set(keys.userByNick(nickKey(user.nickname), user.id), true);
    }
    if ((await op.commit()).ok) {
      return owner ? { kind: "email_taken", owner } : { kind: "created", user };
    }
  }
  throw conflict(
    "busy",
    `Username "${input.username}" is being signed up for elsewhere; try again`,
  );
}

/**
 * Activates an account (by activation or reset link), applying `change` in the same write. Its
 * first activation opens its conversation with the bot, whose welcome then waits unread. Decoys
 * and expired sign-ups cannot be activated: their links answer as invalid.
 */
export async function activateAccount(
  kv: Deno.Kv,
  userId: string,
  now: number,
  change: (u: User) => User = (u) => u,
): Promise<User> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const [cur, bot] = await kv.getMany<[User, string]>([keys.user(userId), keys.botConv(userId)]);
    if (!liveAccount(cur.value, now)) {
      throw badRequest("token_invalid", "This link is invalid, used or expired");
    }
    const u = cur.value!;
    const next: User = { ...change(u), activatedAt: u.activatedAt ?? now };
    const op = kv.atomic().check(cur).set(keys.user(userId), next);
    if (!bot.value) {
      botConversationWrites(op, userId, now, botWelcome({ locale: u.locale, name: u.nickname }));
    }
    if ((await op.commit()).ok) return next;
  }
  throw conflict("busy", `User "${userId}" is being changed elsewhere; try again`);
}
