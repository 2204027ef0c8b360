/** /api/auth: register, activate, resend, login, logout, sessions, password reset and change. */
import { Hono } from "hono";
import type { Env } from "../../lib/http/state.ts";
import { body, readJson } from "../../lib/http/body.ts";
import { requireUser } from "../../lib/http/access.ts";
import { str } from "../../lib/http/fields.ts";
import {
  activate,
  changePassword,
  register,
  requestPasswordReset,
  resendActivation,
  resetPassword,
} from "../../lib/accounts/accounts.ts";
import { login } from "../../lib/accounts/login.ts";
import { listSessions, revokeAllSessions, revokeSession } from "../../lib/accounts/sessions.ts";
import { clearSessionCookie, readSessionCookie, setSessionCookie } from "../../lib/http/cookies.ts";
import { getSession } from "../../lib/accounts/sessions.ts";
import { HttpError } from "../../lib/errors.ts";
import { toPublic } from "../../lib/accounts/users.ts";

export const authApi = new Hono<Env>();

function accountDeps(c: { var: Env["Variables"] }) {
  const { kv, mailer, config, now } = c.var.deps;
  return { kv, mailer, appOrigin: config.appOrigin, now };
}

authApi.post("/register", body.json, async (c) => {
  const b = readJson(c);
  const email = str(b, "email").trim();
  await register(accountDeps(c), {
    username: str(b, "username"),
    email,
    password: str(b, "password"),
    nickname: str(b, "nickname"),
    locale: c.var.locale,
    ip: c.var.ip,
  });
  // The same answer whether the e-mail was new (an activation link is on its way) or had an
  // account (its owner gets a note instead): nothing here may tell the two apart.
  return c.json({ ok: true, redirect: `/register/sent?email=${encodeURIComponent(email)}` }, 201);
});

authApi.post("/activate", body.json, async (c) => {
  const b = readJson(c);
  await activate(accountDeps(c), str(b, "token"));
  return c.json({ ok: true, redirect: "/login?activated=1" });
});

authApi.post("/resend", body.json, async (c) => {
  const b = readJson(c);
  await resendActivation(accountDeps(c), str(b, "login"), c.var.ip);
  return c.json({ ok: true });
});

authApi.post("/login", body.json, async (c) => {
  const b = readJson(c);
  const deps = c.var.deps;
  // Rotation: whatever session this browser had ends; the login makes a new one.
  const old = readSessionCookie(c, deps.config);
  const { user, token } = await login(accountDeps(c), {
    login: str(b, "login"),
    password: str(b, "password"),
    ip: c.var.ip,
    userAgent: c.req.header("User-Agent") ?? "",
  });
  if (old) {
    const prev = await getSession(deps.kv, old);
    if (prev) {
      await revokeSession(deps.kv, prev.userId, prev.id);
      await deps.rt.endSessions(prev.userId, prev.id);
    }
  }
  setSessionCookie(c, deps.config, token);
  return c.json({ ok: true, user: toPublic(user), redirect: "/" });
});

authApi.post("/logout", body.none, async (c) => {
  const { user, session } = requireUser(c);
  await revokeSession(c.var.deps.kv, user.id, session.id);
  await c.var.deps.rt.endSessions(user.id, session.id);
  clearSessionCookie(c, c.var.deps.config);
  return c.json({ ok: true, redirect: "/login" });
});

authApi.get("/sessions", async (c) => {
  const { user, session } = requireUser(c);
  const list = await listSessions(c.var.deps.kv, user.id, c.var.deps.now?.());
  return c.json({
    sessions: list.map((s) => ({
      id: s.id,
      createdAt: s.createdAt,
      lastSeenAt: s.lastSeenAt,
      userAgent: s.userAgent,
      ip: s.ip,
      current: s.id === session.id,
    })),
  });
});

authApi.delete("/sessions/:id", body.none, async (c) => {
  const { user, session } = requireUser(c);
  const id = c.req.param("id");
  if (!(await revokeSession(c.var.deps.kv, user.id, id))) {
    throw new HttpError(404, "not_found", `Session "${id}" not found`);
  }
  await c.var.deps.rt.endSessions(user.id, id);
  if (id === session.id) clearSessionCookie(c, c.var.deps.config);
  return c.json({ ok: true });
});

/** Ends every session of the account, this one included. */
authApi.post("/logout-everywhere", body.none, async (c) => {
  const { user } = requireUser(c);
  const ended = await revokeAllSessions(c.var.deps.kv, user.id);
  await c.var.deps.rt.endSessions(user.id);
  clearSessionCookie(c, c.var.deps.config);
  return c.json({ ok: true, ended, redirect: "/login" });
});

authApi.post("/forgot", body.json, async (c) => {
  const b = readJson(c);
  await requestPasswordReset(accountDeps(c), str(b, "email"), c.var.ip);
  return c.json({ ok: true });
});

authApi.post("/reset", body.json, async (c) => {
  const b = readJson(c);
  const userId = await resetPassword(accountDeps(c), {
    token: str(b, "token"),
    password: str(b, "password"),
    ip: c.var.ip,
  });
  await c.var.deps.rt.endSessions(userId);
  clearSessionCookie(c, c.var.deps.config);
  return c.json({ ok: true, redirect: "/login?reset=1" });
});

authApi.post("/password", body.json, async (c) => {
  const { user, session } = requireUser(c);
  const b = readJson(c);
  await changePassword(accountDeps(c), user, session.id, {
    current: str(b, "current"),
    password: str(b, "password"),
  });
  await c.var.deps.rt.endSessions(user.id, undefined, session.id);
  return c.json({ ok: true });
});
