/** Account flows: register, activate, resend, log in, reset and change password. */
import { badRequest, HttpError } from "./http_error.ts";
import { burnPasswordCheck, hashPassword, passwordProblem, verifyPassword } from "./password.ts";
import { createUser, findUserByLogin, getUser, updateUser, type User } from "./users.ts";
import { consumeToken, issueToken } from "./email_tokens.ts";
import { createSession, revokeAllSessions, type Session } from "./sessions.ts";
import { hitLimit, type Limit, peekLimit } from "./rate_limit.ts";
import { keys } from "./kv_keys.ts";
import { sha256 } from "./ids.ts";
import { activationMail, resetMail } from "./mail_templates.ts";
import type { Mailer } from "./mail.ts";
import type { Locale } from "./i18n.ts";
import { emailProblem, LIMITS, lineProblem, usernameProblem } from "./validate.ts";
import { log } from "./log.ts";

export interface AccountDeps {
  kv: Deno.Kv;
  mailer: Mailer;
  appOrigin: string;
  now?: () => number;
}

export const LIMITS_RATE = {
  loginAccount: { max: 5, windowMs: 15 * 60_000 },
  loginIp: { max: 30, windowMs: 15 * 60_000 },
  registerIp: { max: 10, windowMs: 60 * 60_000 },
  mailAccount: { max: 5, windowMs: 60 * 60_000 },
  mailIp: { max: 20, windowMs: 60 * 60_000 },
  feedbackUser: { max: 10, windowMs: 60 * 60_000 },
  /** Friend requests sent (to anyone, by id or e-mail). */
  friendRequestUser: { max: 30, windowMs: 60 * 60_000 },
  /** People searches (the contacts page searches as the user types, debounced). */
  peopleSearchUser: { max: 120, windowMs: 10 * 60_000 },
} satisfies Record<string, Limit>;

export const RESEND_COOLDOWN_MS = 60_000;

function tooMany(retryAfter: number): HttpError {
  return new HttpError(429, "rate_limited", `Too many attempts; try again in ${retryAfter} s`, {
    retryAfter,
    params: { seconds: retryAfter },
  });
}

/** Counts one event and throws 429 when over the limit. */
export async function enforce(
  kv: Deno.Kv,
  bucket: string,
  subject: string,
  limit: Limit,
  now: number,
): Promise<void> {
  const r = await hitLimit(kv, bucket, subject, limit, now);
  if (!r.ok) throw tooMany(r.retryAfter);
}

function check(problem: string | null, field: string, params?: Record<string, number>): void {
  if (problem) throw new HttpError(400, problem, `Invalid ${field}: ${problem}`, { field, params });
}

export interface RegisterInput {
  username: string;
  email: string;
  password: string;
  nickname?: string;
}

/** Validates without writing anything; throws the first problem with its field. */
const RESERVED_NAMES = new Set([
  "happybot",
  "bot",
  "admin",
  "administrator",
  "system",
  "root",
  "support",
  "happychat",
  "search",
]);

export function validateRegistration(input: RegisterInput): void {
  check(usernameProblem(input.username), "username");
  if (RESERVED_NAMES.has(input.username.toLowerCase())) check("username_taken", "username");
  check(emailProblem(input.email), "email", { max: LIMITS.email });
  check(passwordProblem(input.password, input), "password");
  if (input.nickname) {
    check(lineProblem(input.nickname, LIMITS.nickname, false), "nickname", {
      max: LIMITS.nickname,
    });
  }
}

const background = new Set<Promise<unknown>>();

/**
 * Mail for resend and forgot goes out after the answer, so the answer takes the same time
 * whether or not an account exists (talking to SMTP would give it away).
 */
function inBackground(p: Promise<unknown>): void {
  background.add(p);
  p.finally(() => background.delete(p));
}

/** Resolves when every mail started in the background has been handed over (for tests). */
export async function backgroundMailSettled(): Promise<void> {
  while (background.size) await Promise.allSettled([...background]);
}

async function sendTokenMail(
  deps: AccountDeps,
  user: User,
  purpose: "activate" | "reset",
): Promise<boolean> {
  const now = deps.now?.() ?? Date.now();
  const token = await issueToken(deps.kv, purpose, user.id, now);
  const path = purpose === "activate" ? "/activate" : "/reset";
  const link = `${deps.appOrigin}${path}#token=${token}`;
  const mail = purpose === "activate"
    ? activationMail(user.locale, user.email, user.nickname, link)
    : resetMail(user.locale, user.email, user.nickname, link);
  try {
    await deps.mailer.send(mail);
    await deps.kv.set(keys.mailCooldown(purpose, user.id), now, { expireIn: RESEND_COOLDOWN_MS });
    return true;
  } catch (err) {
    log.error("mail.failed", { purpose, userId: user.id, err });
    return false;
  }
}

/** Creates an unactivated account and mails the activation link. */
export async function register(
  deps: AccountDeps,
  input: RegisterInput & { locale: Locale; ip: string },
): Promise<{ user: User; mailSent: boolean }> {
  const now = deps.now?.() ?? Date.now();
  const username = input.username.trim();
  const email = input.email.trim();
  const nickname = (input.nickname ?? "").trim() || username;
  validateRegistration({ username, email, password: input.password, nickname });
  await enforce(deps.kv, "register", `ip:${input.ip}`, LIMITS_RATE.registerIp, now);
  const passwordHash = await hashPassword(input.password);
  const user = await createUser(deps.kv, {
    username,
    email,
    passwordHash,
    nickname,
    locale: input.locale,
  }, now);
  log.info("user.registered", { userId: user.id });
  const mailSent = await sendTokenMail(deps, user, "activate");
  return { user, mailSent };
}

/** Activates the account behind a single-use token. */
export async function activate(deps: AccountDeps, token: string): Promise<User> {
  const now = deps.now?.() ?? Date.now();
  const userId = await consumeToken(deps.kv, "activate", token, now);
  if (!userId) throw badRequest("token_invalid", "Activation link is invalid, used or expired");
  const user = await updateUser(
    deps.kv,
    userId,
    (u) => ({ ...u, activatedAt: u.activatedAt ?? now }),
  );
  log.info("user.activated", { userId });
  return user;
}

/**
 * Whether a mail may go to `user` now. Only the per-IP limit answers 429, the same for every
 * address; the per-account cooldown and limit skip the mail silently, because a different answer
 * would tell whether the account exists.
 */
async function mayMail(
  deps: AccountDeps,
  user: User | null,
  ip: string,
  purpose: "activate" | "reset",
  now: number,
): Promise<boolean> {
  await enforce(deps.kv, `mail_${purpose}`, `ip:${ip}`, LIMITS_RATE.mailIp, now);
  if (!user) return false;
  const last = (await deps.kv.get<number>(keys.mailCooldown(purpose, user.id))).value;
  if (last && now - last < RESEND_COOLDOWN_MS) return false;
  return (await hitLimit(
    deps.kv,
    `mail_${purpose}`,
    `user:${user.id}`,
    LIMITS_RATE.mailAccount,
    now,
  )).ok;
}

/**
 * Sends a new activation link when the account exists and is not active. The answer is the
 * same either way, so it does not tell whether an account exists.
 */
export async function resendActivation(
  deps: AccountDeps,
  login: string,
  ip: string,
): Promise<void> {
  const now = deps.now?.() ?? Date.now();
  const user = await findUserByLogin(deps.kv, login);
  const target = user && !user.activatedAt ? user : null;
  const ok = await mayMail(deps, target, ip, "activate", now);
  if (ok && target) inBackground(sendTokenMail(deps, target, "activate"));
}

/** Sends a reset link if the e-mail belongs to an account; same answer either way. */
export async function requestPasswordReset(
  deps: AccountDeps,
  email: string,
  ip: string,
): Promise<void> {
  const now = deps.now?.() ?? Date.now();
  check(emailProblem(email.trim()), "email", { max: LIMITS.email });
  const user = await findUserByLogin(deps.kv, email.trim());
  const ok = await mayMail(deps, user, ip, "reset", now);
  if (ok && user) inBackground(sendTokenMail(deps, user, "reset"));
}

/** Sets a new password from a reset token; ends every session of the account. */
export async function resetPassword(
  deps: AccountDeps,
  token: string,
  password: string,
): Promise<string> {
  const now = deps.now?.() ?? Date.now();
  if (password.length > 1024) check("password_long", "password");
  // Validate before using the token, so a weak password does not burn the link.
  const peek = await peekToken(deps, token);
  if (!peek) throw badRequest("token_invalid", "Reset link is invalid, used or expired");
  check(passwordProblem(password, peek), "password");
  const userId = await consumeToken(deps.kv, "reset", token, now);
  if (!userId) throw badRequest("token_invalid", "Reset link is invalid, used or expired");
  const passwordHash = await hashPassword(password);
  // A reset proves control of the mailbox, so it also activates the account.
  await updateUser(
    deps.kv,
    userId,
    (u) => ({ ...u, passwordHash, activatedAt: u.activatedAt ?? now }),
  );
  await revokeAllSessions(deps.kv, userId);
  log.info("user.password_reset", { userId });
  return userId;
}

async function peekToken(deps: AccountDeps, token: string): Promise<User | null> {
  if (typeof token !== "string" || token.length < 20 || token.length > 100) return null;
  const v = (await deps.kv.get<{ purpose: string; userId: string; expiresAt: number }>(
    keys.emailToken(await sha256(token)),
  )).value;
  if (!v || v.purpose !== "reset" || v.expiresAt <= (deps.now?.() ?? Date.now())) return null;
  return await getUser(deps.kv, v.userId);
}

/** Checks credentials and starts a new session. Same answer and similar time for unknown accounts. */
export async function login(
  deps: AccountDeps,
  input: { login: string; password: string; ip: string; userAgent: string },
): Promise<{ user: User; token: string; session: Session }> {
  const now = deps.now?.() ?? Date.now();
  const login = input.login.trim().toLowerCase();
  if (!login || !input.password || login.length > LIMITS.email || input.password.length > 1024) {
    throw new HttpError(401, "bad_login", "Wrong login or password");
  }
  const user = await findUserByLogin(deps.kv, login);
  // One limit per account, whether it is named by username or e-mail; unknown logins count as typed.
  const acct = user ? `user:${user.id}` : `login:${login}`;
  const ipState = await peekLimit(deps.kv, "login", `ip:${input.ip}`, LIMITS_RATE.loginIp, now);
  const acctState = await peekLimit(deps.kv, "login", acct, LIMITS_RATE.loginAccount, now);
  if (!ipState.ok || !acctState.ok) {
    throw tooMany(
      Math.max(ipState.ok ? 0 : ipState.retryAfter, acctState.ok ? 0 : acctState.retryAfter),
    );
  }
  const good = user
    ? await verifyPassword(input.password, user.passwordHash)
    : (await burnPasswordCheck(input.password), false);
  if (!user || !good) {
    await hitLimit(deps.kv, "login", `ip:${input.ip}`, LIMITS_RATE.loginIp, now);
    await hitLimit(deps.kv, "login", acct, LIMITS_RATE.loginAccount, now);
    throw new HttpError(401, "bad_login", "Wrong login or password");
  }
  if (!user.activatedAt) throw new HttpError(403, "not_activated", "Account is not activated");
  const { token, session } = await createSession(deps.kv, user.id, {
    userAgent: input.userAgent,
    ip: input.ip,
  }, now);
  log.info("user.login", { userId: user.id, sessionId: session.id });
  return { user, token, session };
}

/** Changes the password (needs the current one) and ends the user's other sessions. */
export async function changePassword(
  deps: AccountDeps,
  user: User,
  sessionId: string,
  input: { current: string; password: string },
): Promise<void> {
  const now = deps.now?.() ?? Date.now();
  await enforce(deps.kv, "password_change", `user:${user.id}`, LIMITS_RATE.loginAccount, now);
  if (!(await verifyPassword(input.current ?? "", user.passwordHash))) {
    throw new HttpError(400, "wrong_password", "Current password is wrong", { field: "current" });
  }
  check(passwordProblem(input.password, user), "password");
  const passwordHash = await hashPassword(input.password);
  await updateUser(deps.kv, user.id, (u) => ({ ...u, passwordHash }));
  await revokeAllSessions(deps.kv, user.id, sessionId);
  log.info("user.password_changed", { userId: user.id });
}
