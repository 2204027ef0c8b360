/** /api/users: public profile cards (never the e-mail). */
import { Hono } from "hono";
import type { Env } from "../../lib/http/state.ts";
import { requireUser } from "../../lib/http/body.ts";
import { findUserByUsername, toPublic } from "../../lib/accounts/users.ts";
import { HttpError } from "../../lib/errors.ts";

export const usersApi = new Hono<Env>();

usersApi.get("/:username", async (c) => {
  requireUser(c);
  const u = await findUserByUsername(c.var.deps.kv, c.req.param("username"));
  if (!u || !u.activatedAt) throw new HttpError(404, "not_found", "No such user");
  return c.json({ user: toPublic(u) });
});
