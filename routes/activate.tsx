/** /activate: the link in the sign-up mail; the page posts its #token to /api/auth/activate. */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { t } from "../lib/i18n/i18n.ts";
import { formPage } from "./_auth_form.tsx";

export const activatePage = new Hono<Env>();

activatePage.get("/", (c) =>
  formPage(c, "activate.title", {
    name: "activate",
    action: "/api/auth/activate",
    fields: [],
    submit: "activate.submit",
    tokenFromHash: true,
  }, { before: <p class="lead">{t(c.var.locale, "activate.intro")}</p> }));
