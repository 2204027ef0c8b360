/**
 * /api/friends: the friends list, requests both ways, remarks, removing a friend. Thin: the rules
 * are in lib/social/friends.ts and lib/social/contacts.ts.
 */
import { Hono } from "hono";
import type { Env } from "../../lib/http/state.ts";
import { body, readJson } from "../../lib/http/body.ts";
import { requireUser } from "../../lib/http/access.ts";
import { str } from "../../lib/http/fields.ts";
import { HttpError } from "../../lib/errors.ts";
import { enforce, LIMITS_RATE } from "../../lib/accounts/accounts.ts";
import { emailProblem, LIMITS } from "../../lib/wire/validate.ts";
import { accept, decline, removeFriend, sendRequest, setRemark } from "../../lib/social/friends.ts";
import { friendsSnapshot } from "../../lib/social/contacts.ts";

export const friendsApi = new Hono<Env>();

friendsApi.get("/", async (c) => {
  const { user } = requireUser(c);
  return c.json(await friendsSnapshot(c.var.deps.kv, user.id));
});

/**
 * Body: `to` (a user id) or `email`, and `note`. By e-mail the answer is the same for any
 * address.
 */
friendsApi.post("/requests", body.json, async (c) => {
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

friendsApi.post("/requests/:from/accept", body.none, async (c) => {
  const { user } = requireUser(c);
  return c.json(await accept(c.var.deps.rt, user, c.req.param("from")));
});

friendsApi.post("/requests/:from/decline", body.none, async (c) => {
  const { user } = requireUser(c);
  await decline(c.var.deps.rt, user, c.req.param("from"));
  return c.json({ ok: true });
});

friendsApi.put("/:id/remark", body.json, async (c) => {
  const { user } = requireUser(c);
  const b = readJson(c);
  return c.json(await setRemark(c.var.deps.rt, user, c.req.param("id"), str(b, "remark")));
});

friendsApi.delete("/:id", body.none, async (c) => {
  const { user } = requireUser(c);
  await removeFriend(c.var.deps.rt, user, c.req.param("id"));
  return c.json({ ok: true });
});
