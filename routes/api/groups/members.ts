/** /api/groups/:id/members: add friends, kick or leave, roles, mutes. Rules: lib/groups/. */
import { Hono } from "hono";
import type { Env } from "../../../lib/http/state.ts";
import { body, readJson } from "../../../lib/http/body.ts";
import { requireUser } from "../../../lib/http/access.ts";
import { idList, intField, str } from "../../../lib/http/fields.ts";
import { inviteFriends } from "../../../lib/groups/join.ts";
import { kick, leave, mute, setRole } from "../../../lib/groups/moderation.ts";
import { groupAnswer, groupId } from "./_group.ts";

export const membersApi = new Hono<Env>();

membersApi.post("/", body.json, async (c) => {
  const { user } = requireUser(c);
  const b = readJson(c);
  await inviteFriends(c.var.deps.rt, user, groupId(c), idList(b, "userIds"));
  return await groupAnswer(c);
});

/** Kick someone, or (with one's own id) leave. */
membersApi.delete("/:userId", body.none, async (c) => {
  const { user } = requireUser(c);
  const rt = c.var.deps.rt;
  if (c.req.param("userId") === user.id) {
    await leave(rt, user, groupId(c));
    return c.json({ ok: true });
  }
  await kick(rt, user, groupId(c), c.req.param("userId"));
  return await groupAnswer(c);
});

membersApi.put("/:userId/role", body.json, async (c) => {
  const { user } = requireUser(c);
  const b = readJson(c);
  await setRole(
    c.var.deps.rt,
    user,
    groupId(c),
    c.req.param("userId"),
    str(b, "role") as "admin",
  );
  return await groupAnswer(c);
});

membersApi.post("/:userId/mute", body.json, async (c) => {
  const { user } = requireUser(c);
  const b = readJson(c);
  await mute(c.var.deps.rt, user, groupId(c), c.req.param("userId"), intField(b, "minutes"));
  return await groupAnswer(c);
});
