/** /reset: the link in the reset mail; the page posts its #token and the new password. */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { FIELDS, formPage } from "./_auth_form.tsx";

export const resetPage = new Hono<Env>();

resetPage.get("/", (c) =>
  formPage(c, "reset.title", {
    name: "reset",
    action: "/api/auth/reset",
    fields: [FIELDS.newPassword],
    submit: "reset.submit",
    tokenFromHash: true,
  }));
