/** /login: the login form (?activated=1 and ?reset=1 say what just happened). */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { guestPage } from "../lib/http/access.ts";
import { t } from "../lib/i18n/i18n.ts";
import { formPage, Links } from "./_auth_form.tsx";
import { FIELDS } from "./_form.tsx";

export const loginPage = new Hono<Env>();

loginPage.get("/", guestPage, (c) => {
  const l = c.var.locale;
  const note = c.req.query("activated")
    ? "activate.done"
    : c.req.query("reset")
    ? "reset.done"
    : null;
  return formPage(c, "login.title", {
    name: "login",
    action: "/api/auth/login",
    fields: [FIELDS.login, FIELDS.password],
    submit: "login.submit",
    redirect: "/",
    nextFromHash: true,
  }, {
    before: note && <p class="alert ok" role="status">{t(l, note)}</p>,
    after: (
      <Links
        c={c}
        items={[["/register", "login.noAccount"], ["/forgot", "login.forgot"], [
          "/resend",
          "login.resend",
        ]]}
      />
    ),
  });
});
