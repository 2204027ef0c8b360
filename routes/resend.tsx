/** /resend: asks for the activation mail again. */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { formPage } from "./_auth_form.tsx";
import { FIELDS } from "./_form.tsx";

export const resendPage = new Hono<Env>();

resendPage.get("/", (c) =>
  formPage(c, "resend.title", {
    name: "resend",
    action: "/api/auth/resend",
    fields: [FIELDS.login],
    submit: "resend.submit",
    done: "resend.done",
  }));
