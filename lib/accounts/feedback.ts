/** Feedback from logged-in users: stored in KV and mailed to ADMIN_EMAIL when set. */
import { keys } from "../kv/keys.ts";
import { newId } from "../ids.ts";
import { HttpError } from "../errors.ts";
import { LIMITS, textProblem } from "../wire/validate.ts";
import { escapeHtml } from "../mail/html.ts";
import { t } from "../i18n/i18n.ts";
import { log } from "../log.ts";
import type { Mailer } from "../mail/mail.ts";
import type { User } from "./users.ts";

export interface Feedback {
  id: string;
  userId: string;
  message: string;
  createdAt: number;
  userAgent: string;
}

export async function submitFeedback(
  deps: { kv: Deno.Kv; mailer: Mailer; adminEmail?: string },
  user: User,
  input: { message: string; userAgent: string },
): Promise<Feedback> {
  const message = input.message.trim();
  const p = textProblem(message, LIMITS.feedback, true);
  if (p) {
    throw new HttpError(400, p, `Invalid message: ${p}`, {
      field: "message",
      params: { max: LIMITS.feedback },
    });
  }
  const fb: Feedback = {
    id: newId(),
    userId: user.id,
    message,
    createdAt: Date.now(),
    userAgent: input.userAgent.slice(0, 300),
  };
  await deps.kv.set(keys.feedback(fb.id), fb);
  log.info("feedback.received", { id: fb.id, userId: user.id });
  if (deps.adminEmail) {
    const subject = t("en", "mail.feedback.subject", {
      name: `${user.nickname} (@${user.username})`,
    });
    const text = `${message}\n\n— ${user.username} · ${fb.userAgent}`;
    const html = `<p>${escapeHtml(message).replaceAll("\n", "<br>")}</p><p>— ${
      escapeHtml(user.username)
    }</p>`;
    await deps.mailer.send({ to: deps.adminEmail, subject, text, html }).catch((err) =>
      log.error("feedback.mail_failed", { id: fb.id, err })
    );
  }
  return fb;
}
