/**
 * Bots that users make (docs/bots.md): an account with no e-mail and no password, owned by the
 * user who made it, reached by its token. The token is shown once, stored only as its SHA-256
 * (like a session), and can be rotated or revoked; either closes the bot's open sockets. People
 * add a bot as a friend (it accepts at once) and to groups like a friend; it posts only where it
 * is a member, by the same rules as anyone (lib/chat/send_rules.ts).
 */
import { keys } from "../kv/keys.ts";
import { conflict, fail, HttpError } from "../errors.ts";
import { newToken, sha256 } from "../ids.ts";
import {
  LIMITS,
  lineProblem,
  nameProblem,
  reservedName,
  textProblem,
  usernameProblem,
} from "../wire/validate.ts";
import {
  type BotInfo,
  getUser,
  newUserRecord,
  nickKey,
  updateUser,
  type User,
} from "../accounts/users.ts";
import { isPublicAddress } from "./outbound.ts";
import type { BotView } from "../wire/api.ts";

export type { BotInfo };
export type BotUser = User & { bot: BotInfo };

/** An id as the server makes them: anything else names no bot (and no KV key). */
const BOT_ID = /^[0-9a-z]{1,40}$/;

/** Bots one user may own. */
export const BOTS_PER_OWNER = 10;
export const DESCRIPTION_MAX = 200;
export const WEBHOOK_URL_MAX = 500;
/** Tokens start with this, so that a leaked one is easy to recognize (and to scan for). */
export const TOKEN_PREFIX = "hcb_";

export function isBot(u: User | null | undefined): u is BotUser {
  return !!u?.bot;
}

export function botView(u: BotUser): BotView {
  return {
    id: u.id,
    username: u.username,
    name: u.nickname,
    description: u.bot.description,
    avatarUrl: u.avatar ? `/avatars/${u.avatar}` : null,
    hasToken: !!u.bot.tokenHash,
    webhookUrl: u.bot.webhookUrl,
    webhookSecret: u.bot.webhookSecret,
    createdAt: u.createdAt,
  };
}

function checkName(raw: string): string {
  const name = raw.trim();
  const p = nameProblem(name, LIMITS.nickname, true);
  if (p) fail(400, p, `Invalid name: ${p}`, "name");
  return name;
}

function checkDescription(raw: string): string {
  const d = raw.trim();
  const p = textProblem(d, DESCRIPTION_MAX, false);
  if (p) fail(400, p, `Invalid description: ${p}`, "description");
  return d;
}

/**
 * A webhook address: http(s), no credentials, and not a private, loopback or link-local address
 * written out (a name is resolved and checked again at every delivery: lib/bots/outbound.ts).
 */
export function checkWebhookUrl(raw: string, allowPrivate = false): string | null {
  const s = raw.trim();
  if (!s) return null;
  const p = lineProblem(s, WEBHOOK_URL_MAX, false);
  if (p) fail(400, p, `Invalid webhook address: ${p}`, "webhookUrl");
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    fail(
      400,
      "webhook_url",
      "The webhook address must be an http:// or https:// URL",
      "webhookUrl",
    );
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password) {
    fail(
      400,
      "webhook_url",
      "The webhook address must be an http:// or https:// URL",
      "webhookUrl",
    );
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!allowPrivate && (/^[\d.]+$/.test(host) || host.includes(":")) && !isPublicAddress(host)) {
    fail(
      400,
      "webhook_private",
      "The webhook address must be on the public internet",
      "webhookUrl",
    );
  }
  return url.href;
}

/** Makes a bot; returns it and its token (the only time the token is shown). */
export async function createBot(
  kv: Deno.Kv,
  owner: User,
  input: { username: string; name: string; description: string },
  now = Date.now(),
): Promise<{ bot: BotUser; token: string }> {
  if (isBot(owner)) fail(403, "forbidden", "Bots cannot make bots");
  const username = input.username.trim();
  const up = usernameProblem(username);
  if (up) fail(400, up, "Invalid username", "username");
  if (!/bot$/i.test(username)) {
    fail(400, "bot_username", 'A bot\'s username ends in "bot"', "username");
  }
  if (reservedName(username)) fail(400, "name_reserved", "This username is reserved", "username");
  const name = checkName(input.name);
  const description = checkDescription(input.description);
  const token = TOKEN_PREFIX + newToken(32);
  const base = newUserRecord({
    username,
    email: "",
    passwordHash: "",
    nickname: name,
    locale: owner.locale,
  }, now);
  const bot: BotUser = {
    ...base,
    bio: description,
    activatedAt: now,
    bot: {
      owner: owner.id,
      description,
      tokenHash: sha256(token),
      webhookUrl: null,
      webhookSecret: newToken(24),
    },
  };
  const nameKey = keys.userByName(username.toLowerCase());
  // The count is checked in the same write as the bot: a burst of parallel requests cannot pass it.
  // Each lost race is another bot made, so the count reaches the bound within this many tries.
  for (let attempt = 0; attempt <= BOTS_PER_OWNER; attempt++) {
    const count = await kv.get<number>(keys.ownerBotCount(owner.id));
    if ((count.value ?? 0) >= BOTS_PER_OWNER) {
      fail(409, "too_many_bots", `You can have at most ${BOTS_PER_OWNER} bots`);
    }
    const res = await kv.atomic()
      .check({ key: nameKey, versionstamp: null })
      .check(count)
      .set(keys.ownerBotCount(owner.id), (count.value ?? 0) + 1)
      .set(keys.user(bot.id), bot)
      .set(nameKey, bot.id)
      .set(keys.userByNick(nickKey(name), bot.id), true)
      .set(keys.ownerBot(owner.id, bot.id), true)
      .set(keys.botToken(bot.bot.tokenHash!), bot.id)
      .commit();
    if (res.ok) return { bot, token };
    if ((await kv.get(nameKey)).value) {
      throw conflict("username_taken", "Username is taken", "username");
    }
  }
  throw conflict("busy", "Try again");
}

async function ownedIds(kv: Deno.Kv, owner: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: keys.ownerBots(owner) }, { limit: 100 })) {
    out.push(e.key[2] as string);
  }
  return out;
}

/** The owner's bots, oldest first. */
export async function listBots(kv: Deno.Kv, owner: string): Promise<BotUser[]> {
  const ids = await ownedIds(kv, owner);
  if (!ids.length) return [];
  const got = await kv.getMany<User[]>(ids.map((id) => keys.user(id)));
  return got.flatMap((e) => (isBot(e.value) ? [e.value] : [])).sort((a, b) =>
    a.createdAt - b.createdAt
  );
}

/** One of the owner's bots, or 404 (someone else's bot is not found either). */
export async function ownBot(kv: Deno.Kv, owner: string, botId: string): Promise<BotUser> {
  const u = BOT_ID.test(botId) ? await getUser(kv, botId) : null;
  if (!isBot(u) || u.bot.owner !== owner) fail(404, "bot_not_found", "No such bot");
  return u;
}

/** Changes a bot's token (`rotate`) or removes it (`revoke`); the old one stops at once. */
export async function setToken(
  kv: Deno.Kv,
  owner: string,
  botId: string,
  action: "rotate" | "revoke",
): Promise<string | null> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const entry = await kv.get<User>(keys.user(botId));
    const u = entry.value;
    if (!isBot(u) || u.bot.owner !== owner) fail(404, "bot_not_found", "No such bot");
    const token = action === "rotate" ? TOKEN_PREFIX + newToken(32) : null;
    const tokenHash = token ? sha256(token) : null;
    const op = kv.atomic().check(entry).set(keys.user(botId), {
      ...u,
      bot: { ...u.bot, tokenHash },
    });
    if (u.bot.tokenHash) op.delete(keys.botToken(u.bot.tokenHash));
    if (tokenHash) op.set(keys.botToken(tokenHash), botId);
    if ((await op.commit()).ok) return token;
  }
  throw conflict("busy", "The bot is being changed elsewhere; try again");
}

/** Changes a bot's name, description or webhook address. */
export async function editBot(
  kv: Deno.Kv,
  owner: string,
  botId: string,
  patch: { name?: string; description?: string; webhookUrl?: string },
  allowPrivateWebhook = false,
): Promise<BotUser> {
  const name = patch.name !== undefined ? checkName(patch.name) : undefined;
  const description = patch.description !== undefined
    ? checkDescription(patch.description)
    : undefined;
  const webhookUrl = patch.webhookUrl !== undefined
    ? checkWebhookUrl(patch.webhookUrl, allowPrivateWebhook)
    : undefined;
  if (!BOT_ID.test(botId)) fail(404, "bot_not_found", "No such bot");
  // updateUser keeps the nickname index in step and retries a lost race.
  try {
    return await updateUser(kv, botId, (u) => {
      if (!isBot(u) || u.bot.owner !== owner) fail(404, "bot_not_found", "No such bot");
      return {
        ...u,
        nickname: name ?? u.nickname,
        bio: description ?? u.bio,
        bot: {
          ...u.bot,
          description: description ?? u.bot.description,
          webhookUrl: webhookUrl !== undefined ? webhookUrl : u.bot.webhookUrl,
        },
      };
    }) as BotUser;
  } catch (err) {
    if (err instanceof HttpError && err.code === "not_found") {
      fail(404, "bot_not_found", "No such bot");
    }
    throw err;
  }
}

/** The bot a token belongs to, or null (an unknown, revoked or malformed token). */
export async function botByToken(kv: Deno.Kv, token: string): Promise<BotUser | null> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 100) return null;
  const hash = sha256(token);
  const id = (await kv.get<string>(keys.botToken(hash))).value;
  const u = id ? await getUser(kv, id) : null;
  // The record says which token is live: an index entry left by a race is not enough.
  return isBot(u) && u.bot.tokenHash === hash ? u : null;
}

/** The token of an `Authorization: Bearer …` header, or null when there is none. */
export function bearerToken(header: string | undefined): string | null {
  const m = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return m ? m[1] : null;
}
