/** Users: creation with unique username and e-mail (one atomic write), lookup, profile. */
import { keys } from "../kv/keys.ts";
import { conflict, HttpError } from "../errors.ts";
import { newId } from "../ids.ts";
import { type Gender, LIMITS } from "../wire/validate.ts";
import type { Locale } from "../i18n/i18n.ts";
import type { PublicUser } from "../wire/api.ts";
import { botConversationWrites } from "../chat/conversations.ts";
import { botWelcome } from "../chat/bot.ts";

export interface User {
  id: string;
  username: string;
  email: string;
  passwordHash: string;
  nickname: string;
  /** Blob id of the avatar picture, or null. */
  avatar: string | null;
  gender: Gender;
  region: string;
  bio: string;
  website: string;
  locale: Locale;
  createdAt: number;
  activatedAt: number | null;
  /**
   * A sign-up made with an e-mail that already had an account (lib/accounts/signup.ts): it holds its
   * username like any sign-up waiting for activation, so nothing tells the two apart, and it can
   * never be activated. No e-mail index points to it.
   */
  decoy?: true;
  /** Set for a bot a user made (lib/bots/bots.ts): no e-mail, no password, a token instead. */
  bot?: BotInfo;
}

/** What makes a user a bot (lib/bots/bots.ts). */
export interface BotInfo {
  owner: string;
  description: string;
  /** SHA-256 of the live token; null after a revocation. */
  tokenHash: string | null;
  /** Where messages addressed to the bot are POSTed (lib/bots/webhook.ts), if anywhere. */
  webhookUrl: string | null;
  /** The key of the webhook's HMAC signature (the owner sees it on the settings page). */
  webhookSecret: string;
}

export interface NewUser {
  username: string;
  email: string;
  passwordHash: string;
  nickname: string;
  locale: Locale;
}

export type ProfilePatch = Partial<
  Pick<User, "nickname" | "gender" | "region" | "bio" | "website" | "avatar" | "locale">
>;

export function avatarUrl(blobId: string | null): string | null {
  return blobId ? `/avatars/${blobId}` : null;
}

export function toPublic(u: User): PublicUser {
  return {
    id: u.id,
    username: u.username,
    nickname: u.nickname,
    avatarUrl: avatarUrl(u.avatar),
    gender: u.gender,
    region: u.region,
    bio: u.bio,
    website: u.website,
  };
}

/** A user record, not yet stored and not yet activated. */
export function newUserRecord(input: NewUser, now: number): User {
  return {
    id: newId(now),
    username: input.username,
    email: input.email,
    passwordHash: input.passwordHash,
    nickname: input.nickname,
    avatar: null,
    gender: "unspecified",
    region: "",
    bio: "",
    website: "",
    locale: input.locale,
    createdAt: now,
    activatedAt: null,
  };
}

/**
 * Creates a user with its bot conversation at once (fixtures and seeds; sign-up goes through
 * lib/accounts/signup.ts). A taken username or e-mail (in any letter case) is a 409 and writes nothing.
 */
export async function createUser(kv: Deno.Kv, input: NewUser, now = Date.now()): Promise<User> {
  const user = newUserRecord(input, now);
  const nameKey = keys.userByName(input.username.toLowerCase());
  const emailKey = keys.userByEmail(input.email.toLowerCase());
  const op = kv.atomic()
    .check({ key: nameKey, versionstamp: null })
    .check({ key: emailKey, versionstamp: null })
    .set(keys.user(user.id), user)
    .set(nameKey, user.id)
    .set(emailKey, user.id)
    .set(keys.userByNick(nickKey(user.nickname), user.id), true);
  // Every user has the bot as a contact from the start.
  botConversationWrites(
    op,
    user.id,
    now,
    botWelcome({ locale: input.locale, name: input.nickname }),
  );
  const res = await op.commit();
  if (!res.ok) {
    const [byName] = await kv.getMany([nameKey]);
    if (byName.value) throw conflict("username_taken", "Username is taken", "username");
    throw conflict("email_taken", "E-mail is already registered", "email");
  }
  return user;
}

export async function getUser(kv: Deno.Kv, id: string): Promise<User | null> {
  return (await kv.get<User>(keys.user(id))).value;
}

/** Finds a user by username or e-mail, in any letter case. */
export async function findUserByLogin(kv: Deno.Kv, login: string): Promise<User | null> {
  const lower = login.trim().toLowerCase();
  // No account has a longer login; a longer one would also pass KV's 2 KiB key limit and throw.
  if (!lower || lower.length > LIMITS.email) return null;
  const index = lower.includes("@") ? keys.userByEmail(lower) : keys.userByName(lower);
  const id = (await kv.get<string>(index)).value;
  return id ? await getUser(kv, id) : null;
}

export async function findUserByUsername(kv: Deno.Kv, username: string): Promise<User | null> {
  if (!username || username.length > LIMITS.email) return null;
  const id = (await kv.get<string>(keys.userByName(username.toLowerCase()))).value;
  return id ? await getUser(kv, id) : null;
}

/** How a nickname is indexed for prefix search: lower case, normalized. */
export function nickKey(nickname: string): string {
  return nickname.normalize("NFKC").toLowerCase().slice(0, 64);
}

/** Users whose nickname starts with `prefix` (case-insensitive), at most `limit`. */
export async function findUsersByNickPrefix(
  kv: Deno.Kv,
  prefix: string,
  limit = 20,
): Promise<User[]> {
  const p = nickKey(prefix.trim());
  if (!p) return [];
  const ids: string[] = [];
  const iter = kv.list<boolean>({
    start: ["users_by_nick", p],
    end: ["users_by_nick", p + "\uffff"],
  }, { limit });
  for await (const e of iter) ids.push(e.key[2] as string);
  const users = await Promise.all(ids.map((id) => getUser(kv, id)));
  return users.filter((u): u is User => !!u && !!u.activatedAt);
}

/** Applies a change to a user with optimistic concurrency (retries on a concurrent write). */
export async function updateUser(
  kv: Deno.Kv,
  id: string,
  change: (u: User) => User,
): Promise<User> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const cur = await kv.get<User>(keys.user(id));
    if (!cur.value) throw new HttpError(404, "not_found", `User "${id}" not found`);
    const next = change(cur.value);
    const op = kv.atomic().check(cur).set(keys.user(id), next);
    // The nickname search index follows the nickname in the same write.
    if (nickKey(next.nickname) !== nickKey(cur.value.nickname)) {
      op.delete(keys.userByNick(nickKey(cur.value.nickname), id)).set(
        keys.userByNick(nickKey(next.nickname), id),
        true,
      );
    }
    const res = await op.commit();
    if (res.ok) return next;
  }
  throw conflict("busy", `User "${id}" is being changed elsewhere; try again`);
}
