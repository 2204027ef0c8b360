/**
 * What the pages for people without a session share (/login, /register, /activate, /resend,
 * /forgot, /reset): the mark and title above the card, the form fields, the links below. Each
 * form posts to /api/auth through the ApiForm island.
 */
import type { ComponentChildren } from "preact";
import type { Ctx } from "../lib/http/state.ts";
import { type MessageKey, t } from "../lib/i18n/i18n.ts";
import { page } from "./_render.tsx";
import type { ApiFormProps } from "../islands/ApiForm.tsx";
import { apiForm } from "./_form.tsx";

/** A page with one form: the title, the form island, and what goes before and after it. */
export function formPage(
  c: Ctx,
  title: MessageKey,
  form: Omit<ApiFormProps, "locale">,
  extra?: { before?: ComponentChildren; after?: ComponentChildren },
): Response {
  const locale = c.var.locale;
  return page(
    c,
    t(locale, title),
    <section class="narrow auth">
      <AuthHead title={t(locale, title)} />
      {extra?.before}
      {apiForm(locale, form)}
      {extra?.after}
    </section>,
  );
}

/** The app's mark and the page title, centred above the card. */
export function AuthHead({ title }: { title: string }) {
  return (
    <div class="auth-head">
      <img src="/static/icon.svg" alt="" width={56} height={56} />
      <h1>{title}</h1>
    </div>
  );
}

export function Links({ c, items }: { c: Ctx; items: [string, MessageKey][] }) {
  return (
    <p class="links">
      {items.map(([href, key]) => <a key={href} href={href}>{t(c.var.locale, key)}</a>)}
    </p>
  );
}
