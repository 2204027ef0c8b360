/** Pages for signing up, activating, logging in and resetting a password. Forms post to /api/auth. */
import { Hono } from "hono";
import type { ComponentChildren } from "preact";
import type { Ctx, Env } from "../lib/http/state.ts";
import { type MessageKey, t } from "../lib/i18n/i18n.ts";
import { page } from "../lib/http/render.tsx";
import { Island } from "../components/Island.tsx";
import ApiForm, { type ApiFormProps, type FieldDef } from "../islands/ApiForm.tsx";

export const authPages = new Hono<Env>();

const F = {
  login: {
    name: "login",
    label: "field.login",
    autocomplete: "username",
    required: true,
    maxLength: 254,
  },
  username: {
    name: "username",
    label: "field.username",
    autocomplete: "username",
    required: true,
    hint: "hint.username",
    maxLength: 20,
  },
  email: {
    name: "email",
    label: "field.email",
    type: "email",
    autocomplete: "email",
    required: true,
    maxLength: 254,
  },
  nickname: { name: "nickname", label: "field.nickname", autocomplete: "nickname", maxLength: 32 },
  password: {
    name: "password",
    label: "field.password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  },
  signupPassword: {
    name: "password",
    label: "field.password",
    type: "password",
    autocomplete: "new-password",
    required: true,
    hint: "hint.password",
  },
  newPassword: {
    name: "password",
    label: "field.newPassword",
    type: "password",
    autocomplete: "new-password",
    required: true,
    hint: "hint.password",
  },
} satisfies Record<string, FieldDef>;

function formPage(
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
      <Island of={ApiForm} props={{ locale, ...form }} />
      {extra?.after}
    </section>,
  );
}

/** The app's mark and the page title, centred above the card. */
function AuthHead({ title }: { title: string }) {
  return (
    <div class="auth-head">
      <img src="/static/icon.svg" alt="" width={56} height={56} />
      <h1>{title}</h1>
    </div>
  );
}

function Links({ c, items }: { c: Ctx; items: [string, MessageKey][] }) {
  return (
    <p class="links">
      {items.map(([href, key]) => <a key={href} href={href}>{t(c.var.locale, key)}</a>)}
    </p>
  );
}

/** Pages for people who are not logged in send logged-in people home. */
authPages.use("/login", async (c, next) => {
  if (c.var.user) return c.redirect("/", 303);
  await next();
});
authPages.use("/register", async (c, next) => {
  if (c.var.user) return c.redirect("/", 303);
  await next();
});

authPages.get("/login", (c) => {
  const l = c.var.locale;
  const note = c.req.query("activated")
    ? "activate.done"
    : c.req.query("reset")
    ? "reset.done"
    : null;
  return formPage(c, "login.title", {
    name: "login",
    action: "/api/auth/login",
    fields: [F.login, F.password],
    submit: "login.submit",
    redirect: "/",
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

authPages.get("/register", (c) =>
  formPage(c, "register.title", {
    name: "register",
    action: "/api/auth/register",
    fields: [F.username, F.email, F.nickname, F.signupPassword],
    submit: "register.submit",
  }, { after: <Links c={c} items={[["/login", "register.haveAccount"]]} /> }));

authPages.get("/register/sent", (c) => {
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

authPages.get("/activate", (c) =>
  formPage(c, "activate.title", {
    name: "activate",
    action: "/api/auth/activate",
    fields: [],
    submit: "activate.submit",
    tokenFromHash: true,
  }, { before: <p class="lead">{t(c.var.locale, "activate.intro")}</p> }));

authPages.get("/resend", (c) =>
  formPage(c, "resend.title", {
    name: "resend",
    action: "/api/auth/resend",
    fields: [F.login],
    submit: "resend.submit",
    done: "resend.done",
  }));

authPages.get("/forgot", (c) =>
  formPage(c, "forgot.title", {
    name: "forgot",
    action: "/api/auth/forgot",
    fields: [F.email],
    submit: "forgot.submit",
    done: "forgot.done",
  }));

authPages.get("/reset", (c) =>
  formPage(c, "reset.title", {
    name: "reset",
    action: "/api/auth/reset",
    fields: [F.newPassword],
    submit: "reset.submit",
    tokenFromHash: true,
  }));
