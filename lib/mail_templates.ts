/** The mails we send, in the user's language: plain text plus HTML with every user value escaped. */
import { type Locale, type MessageKey, t } from "./i18n.ts";
import { escapeHtml } from "./html.ts";
import type { Mail } from "./mail.ts";

function render(
  locale: Locale,
  subjectKey: MessageKey,
  bodyKey: MessageKey,
  params: { name: string; link: string },
  to: string,
): Mail {
  const text = t(locale, bodyKey, params);
  const safe = {
    name: escapeHtml(params.name),
    link: `<a href="${escapeHtml(params.link)}">${escapeHtml(params.link)}</a>`,
  };
  const htmlBody = t(locale, bodyKey, safe).split("\n\n").map((p) =>
    `<p>${p.replaceAll("\n", "<br>")}</p>`
  ).join("\n");
  const html =
    `<!doctype html><html lang="${locale}"><meta charset="utf-8"><body style="font-family:sans-serif;line-height:1.5">${htmlBody}</body></html>`;
  return { to, subject: t(locale, subjectKey), text, html };
}

export function activationMail(locale: Locale, to: string, name: string, link: string): Mail {
  return render(locale, "mail.activate.subject", "mail.activate.body", { name, link }, to);
}

export function resetMail(locale: Locale, to: string, name: string, link: string): Mail {
  return render(locale, "mail.reset.subject", "mail.reset.body", { name, link }, to);
}
