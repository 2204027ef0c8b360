/** /reset: the link in the reset mail; the page posts its #token and the new password. */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { formPage } from "./_auth_form.tsx";
import { FIELD_VARIANTS } from "./_form.tsx";

export const resetPage = new Hono<Env>();

resetPage.get("/", (c) =>
  formPage(c, "reset.title", {
    name: "reset",
    action: "/api/auth/reset",
    fields: [FIELD_VARIANTS.newPassword],
    submit: "reset.submit",
    tokenFromHash: true,
  }));
