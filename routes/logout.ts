/** POST /logout: the header's log-out button (a form; the API's is POST /api/auth/logout). */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { revokeSession } from "../lib/accounts/sessions.ts";
import { clearSessionCookie } from "../lib/http/cookies.ts";
import { body } from "../lib/http/body.ts";

export const logout = new Hono<Env>();

logout.post("/", body.none, async (c) => {
  if (c.var.user && c.var.session) {
    await revokeSession(c.var.deps.kv, c.var.user.id, c.var.session.id);
    await c.var.deps.rt.endSessions(c.var.user.id, c.var.session.id);
  }
  clearSessionCookie(c, c.var.deps.config);
  return c.redirect("/login", 303);
});
