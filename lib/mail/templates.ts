/**
 * The mails we send to people who sign up, in their language: plain text plus HTML. They hold only
 * text we wrote and links we made. Anyone can make the server mail any address (sign-up, forgot),
 * so a mail must never carry words a stranger chose, such as a nickname, where they would read as
 * ours.
 */
import { type Locale, type MessageKey, t } from "../i18n/i18n.ts";
import { escapeHtml } from "./html.ts";
import type { Mail } from "./mail.ts";

function render(
  locale: Locale,
  keys: { subject: MessageKey; body: MessageKey },
  to: string,
  links: Record<string, string>,
): Mail {
  const text = t(locale, keys.body, links);
  const anchors = Object.fromEntries(
    Object.entries(links).map(([k, v]) => [k, `<a href="${escapeHtml(v)}">${escapeHtml(v)}</a>`]),
  );
  const htmlBody = t(locale, keys.body, anchors).split("\n\n").map((p) =>
    `<p>${p.replaceAll("\n", "<br>")}</p>`
  ).join("\n");
  const html =
    `<!doctype html><html lang="${locale}"><meta charset="utf-8"><body style="font-family:sans-serif;line-height:1.5">${htmlBody}</body></html>`;
  return { to, subject: t(locale, keys.subject), text, html };
}

export function activationMail(locale: Locale, m: { to: string; link: string }): Mail {
  return render(locale, { subject: "mail.activate.subject", body: "mail.activate.body" }, m.to, {
    link: m.link,
  });
}

export function resetMail(locale: Locale, m: { to: string; link: string }): Mail {
  return render(locale, { subject: "mail.reset.subject", body: "mail.reset.body" }, m.to, {
    link: m.link,
  });
}

/** To the owner of an address someone tried to sign up with: where to log in or reset. */
export function signupNoticeMail(locale: Locale, m: { to: string; origin: string }): Mail {
  return render(locale, { subject: "mail.notice.subject", body: "mail.notice.body" }, m.to, {
    login: `${m.origin}/login`,
    forgot: `${m.origin}/forgot`,
  });
}
