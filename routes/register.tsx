/** /register: the sign-up form; /register/sent: "check your mail" after it. */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { guestPage } from "../lib/http/access.ts";
import { t } from "../lib/i18n/i18n.ts";
import { page } from "./_render.tsx";
import { AuthHead, formPage, Links } from "./_auth_form.tsx";
import { FIELDS } from "./_form.tsx";

export const registerPages = new Hono<Env>();

registerPages.get("/", guestPage, (c) =>
  formPage(c, "register.title", {
    name: "register",
    action: "/api/auth/register",
    fields: [FIELDS.username, FIELDS.email, FIELDS.nickname, FIELDS.signupPassword],
    submit: "register.submit",
  }, { after: <Links c={c} items={[["/login", "register.haveAccount"]]} /> }));

registerPages.get("/sent", (c) => {
  const l = c.var.locale;
  const email = c.req.query("email") ?? "";
  return page(
    c,
    t(l, "register.sentTitle"),
    <section class="narrow auth">
      <AuthHead title={t(l, "register.sentTitle")} />
      <div class="card">
        <p data-testid="sent">{t(l, "register.sent", { email })}</p>
        {c.var.deps.config.devOutbox && (
          <p class="alert info">
            <a href="/dev/outbox">{t(l, "register.devOutbox")}</a>
          </p>
        )}
      </div>
      <Links c={c} items={[["/resend", "login.resend"], ["/login", "nav.login"]]} />
    </section>,
  );
});
