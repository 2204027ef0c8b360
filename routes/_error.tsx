/** The HTML error page: lib/http/app.ts answers every error with it, except under /api/. */
import { t } from "../lib/i18n/i18n.ts";
import { page } from "./_render.tsx";
import type { Ctx } from "../lib/http/state.ts";

export function errorPage(c: Ctx, status: number, message: string): Response {
  const locale = c.var.locale ?? "en";
  const title = status === 404 ? t(locale, "error.notFound") : t(locale, "error.title");
  return page(
    c,
    title,
    <section class="card narrow error-page">
      <p class="error-code" aria-hidden="true">{status}</p>
      <h1>{title}</h1>
      <p class="muted" data-error-status={status}>{message}</p>
      <p>
        <a class="button primary" href="/">{t(locale, "error.back")}</a>
      </p>
    </section>,
    { status },
  );
}
