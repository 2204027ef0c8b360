/**
 * /api/friends, /api/blocks and /api/users/search: friends, requests, remarks, blocking and
 * finding people. Thin: the rules are in lib/social/friends.ts and lib/social/contacts.ts.
 */
import { Hono } from "hono";
import type { Env } from "../../lib/http/state.ts";
import { body, readJson, requireUser, str } from "../../lib/http/body.ts";
import { HttpError } from "../../lib/errors.ts";
import { enforce, LIMITS_RATE } from "../../lib/accounts/accounts.ts";
import { emailProblem, LIMITS } from "../../lib/wire/validate.ts";
import {
  accept,
  block,
  decline,
  removeFriend,
  sendRequest,
  setRemark,
  unblock,
} from "../../lib/social/friends.ts";
import { friendsSnapshot, searchPeople } from "../../lib/social/contacts.ts";

export const friendsApi = new Hono<Env>();

friendsApi.get("/friends", async (c) => {
  const { user } = requireUser(c);
  return c.json(await friendsSnapshot(c.var.deps.kv, user.id));
});

friendsApi.get("/users/search", async (c) => {
  const { user } = requireUser(c);
  const { kv, rt } = c.var.deps;
  await enforce(kv, "people_search", `user:${user.id}`, LIMITS_RATE.peopleSearchUser, rt.now());
  return c.json({ results: await searchPeople(kv, user, c.req.query("q") ?? "") });
});

/** Body: `to` (a user id) or `email`, and `note`. By e-mail the answer is the same for any address. */
friendsApi.post("/friends/requests", body.json, async (c) => {
  const { user } = requireUser(c);
  const { kv, rt } = c.var.deps;
  const b = readJson(c);
  const to = str(b, "to").trim();
  const email = str(b, "email").trim();
  const note = str(b, "note");
  if (!to && !email) {
    throw new HttpError(400, "field_required", 'Say whom to ask: "to" or "email"', { field: "to" });
  }
  if (email) {
    const p = emailProblem(email);
    if (p) {
      throw new HttpError(400, p, `Invalid email: ${p}`, {
        field: "email",
        params: { max: LIMITS.email },
      });
    }
  }
  await enforce(kv, "friend_request", `user:${user.id}`, LIMITS_RATE.friendRequestUser, rt.now());
  return c.json(await sendRequest(rt, user, email ? { email } : { toId: to }, note));
});

friendsApi.post("/friends/requests/:from/accept", body.none, async (c) => {
  const { user } = requireUser(c);
  return c.json(await accept(c.var.deps.rt, user, c.req.param("from")));
});

friendsApi.post("/friends/requests/:from/decline", body.none, async (c) => {
  const { user } = requireUser(c);
  await decline(c.var.deps.rt, user, c.req.param("from"));
  return c.json({ ok: true });
});

friendsApi.put("/friends/:id/remark", body.json, async (c) => {
  const { user } = requireUser(c);
  const b = readJson(c);
  return c.json(await setRemark(c.var.deps.rt, user, c.req.param("id"), str(b, "remark")));
});

friendsApi.delete("/friends/:id", body.none, async (c) => {
  const { user } = requireUser(c);
  await removeFriend(c.var.deps.rt, user, c.req.param("id"));
  return c.json({ ok: true });
});

friendsApi.post("/blocks/:id", body.none, async (c) => {
  const { user } = requireUser(c);
  await block(c.var.deps.rt, user, c.req.param("id"));
  return c.json({ ok: true });
});

friendsApi.delete("/blocks/:id", body.none, async (c) => {
  const { user } = requireUser(c);
  await unblock(c.var.deps.rt, user, c.req.param("id"));
  return c.json({ ok: true });
});
