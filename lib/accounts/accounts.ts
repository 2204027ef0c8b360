/** Account flows: register, activate, resend, reset and change password (login is lib/accounts/login.ts). */
import { badRequest, conflict, HttpError } from "../errors.ts";
import {
  hashPassword,
  passwordProblem,
  refuseWhenPasswordWorkFull,
  verifyPassword,
} from "./password.ts";
import { findUserByLogin, getUser, updateUser, type User } from "./users.ts";
import { activateAccount, claimSignup, liveAccount, usernameFree } from "./signup.ts";
import { consumeToken } from "./tokens.ts";
import { revokeAllSessions } from "./sessions.ts";
import { addressKey, enforce, type Limit } from "../kv/rate_limit.ts";
import { mailAccount } from "./mail.ts";
import { rememberAddress } from "./login.ts";
import { keys } from "../kv/keys.ts";
import { sha256 } from "../ids.ts";
import type { Mailer } from "../mail/mail.ts";
import type { Locale } from "../i18n/i18n.ts";
import {
  emailProblem,
  LIMITS,
  nameProblem,
  reservedName,
  usernameProblem,
} from "../wire/validate.ts";
import { log } from "../log.ts";

export { enforce } from "../kv/rate_limit.ts";
export { backgroundMailSettled } from "./mail.ts";

export interface AccountDeps {
  kv: Deno.Kv;
  mailer: Mailer;
  appOrigin: string;
  now?: () => number;
}

/** Limits per IP and per user; the login limits are LOGIN_LIMITS in lib/accounts/login.ts. */
export const LIMITS_RATE = {
  registerIp: { max: 10, windowMs: 60 * 60_000 },
  mailIp: { max: 20, windowMs: 60 * 60_000 },
  passwordChangeUser: { max: 5, windowMs: 15 * 60_000 },
  feedbackUser: { max: 10, windowMs: 60 * 60_000 },
  /** Friend requests sent (to anyone, by id or e-mail). */
  friendRequestUser: { max: 30, windowMs: 60 * 60_000 },
  /** People searches (the contacts page searches as the user types, debounced). */
  peopleSearchUser: { max: 120, windowMs: 10 * 60_000 },
} satisfies Record<string, Limit>;

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
export function validateRegistration(input: RegisterInput): void {
  check(usernameProblem(input.username), "username");
  if (reservedName(input.username)) check("name_reserved", "username");
  check(emailProblem(input.email), "email", { max: LIMITS.email });
  check(passwordProblem(input.password, input), "password");
  if (input.nickname) {
    check(nameProblem(input.nickname, LIMITS.nickname, false), "nickname", {
      max: LIMITS.nickname,
    });
  }
}

/**
 * Signs up. The answer is the same whether or not the e-mail has an account, and so is the work
 * behind it (one password hash, one write); the mail, an activation link or a note to the owner,
 * goes out in the background. A taken username is said (usernames are public at /u/:username).
 */
export async function register(
  deps: AccountDeps,
  input: RegisterInput & { locale: Locale; ip: string },
): Promise<void> {
  const now = deps.now?.() ?? Date.now();
  const username = input.username.trim();
  const email = input.email.trim();
  const nickname = (input.nickname ?? "").trim() || username;
  validateRegistration({ username, email, password: input.password, nickname });
  refuseWhenPasswordWorkFull();
  await enforce(deps.kv, "register", `ip:${addressKey(input.ip)}`, LIMITS_RATE.registerIp, now);
  // Before the hash, so a taken username costs no hashing.
  if (!(await usernameFree(deps.kv, username, now))) {
    throw conflict("username_taken", "Username is taken", "username");
  }
  const passwordHash = await hashPassword(input.password);
  const r = await claimSignup(deps.kv, {
    username,
    email,
    passwordHash,
    nickname,
    locale: input.locale,
  }, now);
  if (r.kind === "created") {
    log.info("user.registered", { userId: r.user.id });
    mailAccount(deps, r.user, "activate", now);
  } else {
    log.info("user.signup_email_taken", { ownerId: r.owner.id });
    mailAccount(deps, r.owner, "notice", now);
  }
}

function tokenInvalid(): HttpError {
  return badRequest("token_invalid", "This link is invalid, used or expired");
}

/** Activates the account behind a single-use token. */
export async function activate(deps: AccountDeps, token: string): Promise<User> {
  const now = deps.now?.() ?? Date.now();
  const userId = await consumeToken(deps.kv, "activate", token, now);
  if (!userId) throw tokenInvalid();
  const user = await activateAccount(deps.kv, userId, now);
  log.info("user.activated", { userId });
  return user;
}

/**
 * Sends a new activation link when the account exists and is not active. The answer is the
 * same either way, so it does not tell whether an account exists. Only the per-IP limit answers
 * 429, the same for every address; the per-account limits skip the mail silently.
 */
export async function resendActivation(
  deps: AccountDeps,
  login: string,
  ip: string,
): Promise<void> {
  const now = deps.now?.() ?? Date.now();
  await enforce(deps.kv, "mail_activate", `ip:${addressKey(ip)}`, LIMITS_RATE.mailIp, now);
  const user = liveAccount(await findUserByLogin(deps.kv, login), now);
  if (user && !user.activatedAt) mailAccount(deps, user, "activate", now);
}

/** Sends a reset link if the e-mail belongs to an account; same answer either way. */
export async function requestPasswordReset(
  deps: AccountDeps,
  email: string,
  ip: string,
): Promise<void> {
  const now = deps.now?.() ?? Date.now();
  check(emailProblem(email.trim()), "email", { max: LIMITS.email });
  await enforce(deps.kv, "mail_reset", `ip:${addressKey(ip)}`, LIMITS_RATE.mailIp, now);
  const user = liveAccount(await findUserByLogin(deps.kv, email.trim()), now);
  if (user) mailAccount(deps, user, "reset", now);
}

/**
 * Sets a new password from a reset token; ends every session of the account. The reset proves
 * control of the mailbox, so it also activates the account and makes `ip` a known login address.
 */
export async function resetPassword(
  deps: AccountDeps,
  input: { token: string; password: string; ip: string },
): Promise<string> {
  const now = deps.now?.() ?? Date.now();
  const { token, password } = input;
  if (password.length > 1024) check("password_long", "password");
  // Validate before using the token, so a weak password does not burn the link.
  const peek = await peekToken(deps, token);
  if (!peek) throw tokenInvalid();
  check(passwordProblem(password, peek), "password");
  const userId = await consumeToken(deps.kv, "reset", token, now);
  if (!userId) throw tokenInvalid();
  const passwordHash = await hashPassword(password);
  await activateAccount(deps.kv, userId, now, (u) => ({ ...u, passwordHash }));
  await revokeAllSessions(deps.kv, userId);
  await rememberAddress(deps.kv, userId, input.ip, now);
  log.info("user.password_reset", { userId });
  return userId;
}

async function peekToken(deps: AccountDeps, token: string): Promise<User | null> {
  if (typeof token !== "string" || token.length < 20 || token.length > 100) return null;
  const v = (await deps.kv.get<{ purpose: string; userId: string; expiresAt: number }>(
    keys.emailToken(sha256(token)),
  )).value;
  if (!v || v.purpose !== "reset" || v.expiresAt <= (deps.now?.() ?? Date.now())) return null;
  return await getUser(deps.kv, v.userId);
}

/** Changes the password (needs the current one) and ends the user's other sessions. */
export async function changePassword(
  deps: AccountDeps,
  user: User,
  sessionId: string,
  input: { current: string; password: string },
): Promise<void> {
  const now = deps.now?.() ?? Date.now();
  await enforce(
    deps.kv,
    "password_change",
    `user:${user.id}`,
    LIMITS_RATE.passwordChangeUser,
    now,
  );
  if (!(await verifyPassword(input.current ?? "", user.passwordHash))) {
    throw new HttpError(400, "wrong_password", "Current password is wrong", { field: "current" });
  }
  check(passwordProblem(input.password, user), "password");
  const passwordHash = await hashPassword(input.password);
  await updateUser(deps.kv, user.id, (u) => ({ ...u, passwordHash }));
  await revokeAllSessions(deps.kv, user.id, sessionId);
  log.info("user.password_changed", { userId: user.id });
}
