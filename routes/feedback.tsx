/** /feedback: a message to the operator (ADMIN_EMAIL), posted to /api/me/feedback. */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { pageLogin } from "../lib/http/access.ts";
import { t } from "../lib/i18n/i18n.ts";
import { page } from "./_render.tsx";
import { apiForm } from "./_form.tsx";
import { LIMITS } from "../lib/wire/validate.ts";

export const feedbackPage = new Hono<Env>();

feedbackPage.get("/", pageLogin, (c) => {
  const l = c.var.locale;
  return page(
    c,
    t(l, "feedback.title"),
    <section class="narrow">
      <h1>{t(l, "feedback.title")}</h1>
      <p>{t(l, "feedback.intro")}</p>
      {apiForm(l, {
        name: "feedback",
        action: "/api/me/feedback",
        submit: "feedback.submit",
        done: "feedback.done",
        fields: [{
          name: "message",
          label: "field.message",
          type: "textarea",
          required: true,
          maxLength: LIMITS.feedback,
        }],
      })}
    </section>,
  );
});
