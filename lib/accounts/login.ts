/**
 * Logging in. Every attempt takes its slot in the limits before the password is checked (about
 * 100 ms of hashing), in one checked write per limit, so a burst of parallel guesses gets no more
 * checks than the limits allow. A check that succeeds gives its slots back: only failures count.
 *
 * The limits are per (account, address) pair, per address, and per account over the addresses it
 * has not logged in from lately. A stranger guessing from one address therefore runs into the pair
 * and address limits and does not lock the owner out anywhere else; guesses spread over many
 * addresses run into the account-wide limit, which the owner's known addresses do not count in.
 * See docs/api.md, "Rate limits".
 */
import { HttpError } from "../errors.ts";
import { burnPasswordCheck, refuseWhenPasswordWorkFull, verifyPassword } from "./password.ts";
import { findUserByLogin, type User } from "./users.ts";
import { signupExpired } from "./signup.ts";
import { createSession, type Session } from "./sessions.ts";
import { addressKey, type Limit, releaseSlots, takeSlots } from "../kv/rate_limit.ts";
import { keys } from "../kv/keys.ts";
import { LIMITS } from "../wire/validate.ts";
import { log } from "../log.ts";

export const LOGIN_LIMITS = {
  /** Failed checks for one account from one address. */
  pair: { max: 5, windowMs: 15 * 60_000 },
  /** Failed checks from one address, whatever the account. */
  address: { max: 30, windowMs: 15 * 60_000 },
  /** Failed checks for one account from addresses it has not logged in from in 30 days. */
  account: { max: 20, windowMs: 60 * 60_000 },
} satisfies Record<string, Limit>;

/** An address stays known to an account this long after a login or a password reset from it. */
export const KNOWN_ADDRESS_MS = 30 * 24 * 3600_000;

/** Makes `ip` a known address of the account (after a right password, or a reset by mail). */
export async function rememberAddress(
  kv: Deno.Kv,
  userId: string,
  ip: string,
  now: number,
): Promise<void> {
  await kv.set(keys.loginAddress(userId, addressKey(ip)), now, { expireIn: KNOWN_ADDRESS_MS });
}

async function knownAddress(kv: Deno.Kv, userId: string, address: string, now: number) {
  const at = (await kv.get<number>(keys.loginAddress(userId, address))).value;
  return at !== null && now - at < KNOWN_ADDRESS_MS;
}

function badLogin(): HttpError {
  return new HttpError(401, "bad_login", "Wrong login or password");
}

/**
 * Checks credentials and starts a new session. An unknown account, a wrong password and an account
 * not activated yet all answer 401 alike, count alike, and cost one password hash: otherwise
 * logging in right after a sign-up would tell whether its e-mail was new.
 */
export async function login(
  deps: { kv: Deno.Kv; now?: () => number },
  input: { login: string; password: string; ip: string; userAgent: string },
): Promise<{ user: User; token: string; session: Session }> {
  const { kv } = deps;
  const now = deps.now?.() ?? Date.now();
  const name = input.login.trim().toLowerCase();
  if (!name || !input.password || name.length > LIMITS.email || input.password.length > 1024) {
    throw badLogin();
  }
  refuseWhenPasswordWorkFull();
  const found = await findUserByLogin(kv, name);
  // Decoys stay in: they answer like any sign-up waiting for activation.
  const user = found && !signupExpired(found, now) ? found : null;
  // One count per account, whether named by username or e-mail; unknown logins count as typed.
  const account = user ? `user:${user.id}` : `login:${name}`;
  const address = addressKey(input.ip);
  const known = user ? await knownAddress(kv, user.id, address, now) : false;
  const slots = await takeSlots(kv, [
    { bucket: "login_address", subject: address, limit: LOGIN_LIMITS.address },
    { bucket: "login_pair", subject: `${account}|${address}`, limit: LOGIN_LIMITS.pair },
    ...(known ? [] : [{ bucket: "login_account", subject: account, limit: LOGIN_LIMITS.account }]),
  ], now);
  let good: boolean;
  try {
    // A bot has no password: it signs in with its token only (lib/bots/bots.ts).
    good = user && !user.bot
      ? await verifyPassword(input.password, user.passwordHash)
      : (await burnPasswordCheck(input.password), false);
  } catch (err) {
    // No check happened (the password queue was full): the attempt counts nowhere.
    await releaseSlots(kv, slots);
    throw err;
  }
  if (!user || !good || !user.activatedAt) throw badLogin();
  await releaseSlots(kv, slots);
  await rememberAddress(kv, user.id, input.ip, now);
  const { token, session } = await createSession(kv, user.id, {
    userAgent: input.userAgent,
    ip: input.ip,
  }, now);
  log.info("user.login", { userId: user.id, sessionId: session.id });
  return { user, token, session };
}
