/** /api/groups/:id/requests: asks to join a private group, for its admins to approve or decline. */
import { Hono } from "hono";
import type { Env } from "../../../lib/http/state.ts";
import { body } from "../../../lib/http/body.ts";
import { requireUser } from "../../../lib/http/access.ts";
import { approveJoin, declineJoin, listJoinRequests } from "../../../lib/groups/invites.ts";
import { groupAnswer, groupId } from "./_group.ts";

export const requestsApi = new Hono<Env>();

requestsApi.get("/", async (c) => {
  const { user } = requireUser(c);
  return c.json({ requests: await listJoinRequests(c.var.deps.rt, user, groupId(c)) });
});

requestsApi.post("/:userId/approve", body.none, async (c) => {
  const { user } = requireUser(c);
  await approveJoin(c.var.deps.rt, user, groupId(c), c.req.param("userId"));
  return await groupAnswer(c);
});

requestsApi.post("/:userId/decline", body.none, async (c) => {
  const { user } = requireUser(c);
  await declineJoin(c.var.deps.rt, user, groupId(c), c.req.param("userId"));
  return c.json({ ok: true });
});
