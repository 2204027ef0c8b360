/** /api/users: finding people (/search) and public profile cards (never the e-mail). */
import { Hono } from "hono";
import type { Env } from "../../lib/http/state.ts";
import { requireUser } from "../../lib/http/access.ts";
import { findUserByUsername, toPublic } from "../../lib/accounts/users.ts";
import { enforce, LIMITS_RATE } from "../../lib/accounts/accounts.ts";
import { searchPeople } from "../../lib/social/contacts.ts";
import { HttpError } from "../../lib/errors.ts";

export const usersApi = new Hono<Env>();

// Before "/:username": "search" is a reserved username, never a user's.
usersApi.get("/search", async (c) => {
  const { user } = requireUser(c);
  const { kv, rt } = c.var.deps;
  await enforce(kv, "people_search", `user:${user.id}`, LIMITS_RATE.peopleSearchUser, rt.now());
  return c.json({ results: await searchPeople(kv, user, c.req.query("q") ?? "") });
});

usersApi.get("/:username", async (c) => {
  requireUser(c);
  const u = await findUserByUsername(c.var.deps.kv, c.req.param("username"));
  if (!u || !u.activatedAt) throw new HttpError(404, "not_found", "No such user");
  return c.json({ user: toPublic(u) });
});
