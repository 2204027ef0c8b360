/**
 * Mail to account owners (activation, reset, sign-up notice). It always goes out after the answer,
 * in the background, so a request that mails answers as fast as one that does not, however slow
 * the SMTP server is: talking to it would tell whether an account exists.
 */
import { keys } from "../kv/keys.ts";
import { hitLimit, type Limit } from "../kv/rate_limit.ts";
import { issueToken } from "./tokens.ts";
import { activationMail, resetMail, signupNoticeMail } from "../mail/templates.ts";
import type { Mail, Mailer } from "../mail/mail.ts";
import type { User } from "./users.ts";
import { log } from "../log.ts";

export type MailPurpose = "activate" | "reset" | "notice";

export interface MailDeps {
  kv: Deno.Kv;
  mailer: Mailer;
  appOrigin: string;
}

/** Between two mails of one purpose to one account. */
export const MAIL_COOLDOWN_MS = 60_000;
/** Mails of one purpose to one account. */
export const MAIL_ACCOUNT_LIMIT: Limit = { max: 5, windowMs: 60 * 60_000 };

const background = new Set<Promise<unknown>>();

function inBackground(p: Promise<unknown>): void {
  background.add(p);
  p.finally(() => background.delete(p));
}

/** Resolves when every mail started in the background has been handed over (for tests). */
export async function backgroundMailSettled(): Promise<void> {
  while (background.size) await Promise.allSettled([...background]);
}

interface Claim {
  cooldown: { key: Deno.KvKey; versionstamp: string };
}

/**
 * Claims the right to mail this account now: first the cooldown, in a checked write, so of two
 * requests at the same moment only one mails (the cooldown used to be written after the SMTP
 * handoff, and a quick second request slipped through); then a slot in the hourly limit.
 */
async function claim(
  kv: Deno.Kv,
  user: User,
  purpose: MailPurpose,
  now: number,
): Promise<Claim | null> {
  const key = keys.mailCooldown(purpose, user.id);
  const cur = await kv.get<number>(key);
  if (cur.value && now - cur.value < MAIL_COOLDOWN_MS) return null;
  const res = await kv.atomic().check(cur).set(key, now, { expireIn: MAIL_COOLDOWN_MS }).commit();
  if (!res.ok) return null;
  const cooldown = { key, versionstamp: res.versionstamp };
  const hour = await hitLimit(kv, `mail_${purpose}`, `user:${user.id}`, MAIL_ACCOUNT_LIMIT, now);
  if (hour.ok) return { cooldown };
  await releaseCooldown(kv, cooldown);
  return null;
}

/** Ends a cooldown that is still ours, so that asking again works at once. */
async function releaseCooldown(kv: Deno.Kv, c: Claim["cooldown"]): Promise<void> {
  await kv.atomic().check(c).delete(c.key).commit();
}

async function compose(
  deps: MailDeps,
  user: User,
  purpose: MailPurpose,
  now: number,
): Promise<Mail> {
  if (purpose === "notice") {
    return signupNoticeMail(user.locale, { to: user.email, origin: deps.appOrigin });
  }
  const token = await issueToken(deps.kv, purpose, user.id, now);
  const link = `${deps.appOrigin}/${purpose}#token=${token}`;
  return (purpose === "activate" ? activationMail : resetMail)(user.locale, {
    to: user.email,
    link,
  });
}

async function deliver(deps: MailDeps, user: User, purpose: MailPurpose, now: number) {
  const c = await claim(deps.kv, user, purpose, now);
  if (!c) return;
  try {
    await deps.mailer.send(await compose(deps, user, purpose, now));
  } catch (err) {
    log.error("mail.failed", { purpose, userId: user.id, err });
    // The send failed: a new request may try again at once. The hourly count stays, which bounds
    // the tries against a failing mail server.
    await releaseCooldown(deps.kv, c.cooldown);
  }
}

/**
 * Mails the account in the background, unless it was mailed for this purpose within the cooldown
 * or 5 times this hour. Skips are silent: a different answer would tell whether it exists.
 */
export function mailAccount(
  deps: MailDeps,
  user: User,
  purpose: MailPurpose,
  now: number,
): void {
  inBackground(
    deliver(deps, user, purpose, now).catch((err) =>
      log.error("mail.background_failed", { purpose, userId: user.id, err })
    ),
  );
}
