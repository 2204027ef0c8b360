/** /forgot: asks for a password reset link. */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { formPage } from "./_auth_form.tsx";
import { FIELDS } from "./_form.tsx";

export const forgotPage = new Hono<Env>();

forgotPage.get("/", (c) =>
  formPage(c, "forgot.title", {
    name: "forgot",
    action: "/api/auth/forgot",
    fields: [FIELDS.email],
    submit: "forgot.submit",
    done: "forgot.done",
  }));
