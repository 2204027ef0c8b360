/**
 * Ways into a group: POST /api/groups/:id/join (public: at once; private: a request for the
 * admins), join requests, invite links, and /api/invites/* for the /join page. Thin: the rules
 * are in lib/groups/invites.ts and lib/groups/groups.ts.
 */
import { Hono } from "hono";
import type { Ctx, Env } from "../../lib/http/state.ts";
import { body, readJson, readOptionalJson, requireUser, str } from "../../lib/http/body.ts";
import { enforce } from "../../lib/accounts/accounts.ts";
import { fail, LIMITS_GROUP_RATE, validId } from "../../lib/groups/groups.ts";
import {
  approveJoin,
  createInvite,
  declineJoin,
  joinByInvite,
  joinOrAsk,
  listInvites,
  listJoinRequests,
  previewInvite,
  revokeInvite,
} from "../../lib/groups/invites.ts";
import { groupAfterChange } from "../../lib/groups/view.ts";
import { avatarUrl } from "../../lib/accounts/users.ts";
import { intField } from "./groups.ts";

export const groupInvitesApi = new Hono<Env>();

function joinLimit(c: Ctx, userId: string) {
  const { kv, rt } = c.var.deps;
  return enforce(kv, "group_join", `user:${userId}`, LIMITS_GROUP_RATE.joinUser, rt.now());
}

/** Public group: join now (200 with the group). Private group: ask the admins (202). */
groupInvitesApi.post("/groups/:id/join", body.json, async (c) => {
  const { user } = requireUser(c);
  const rt = c.var.deps.rt;
  const id = c.req.param("id");
  const note = str(readOptionalJson(c), "note");
  // Unknown ids are refused before they count against the limit.
  if (!validId(id)) fail(404, "group_not_found", "No such group");
  await joinLimit(c, user.id);
  if (await joinOrAsk(rt, user, id, note) === "joined") {
    return c.json({ group: await groupAfterChange(rt, id, user.id) });
  }
  return c.json({ status: "requested" }, 202);
});

groupInvitesApi.get("/groups/:id/requests", async (c) => {
  const { user } = requireUser(c);
  return c.json({ requests: await listJoinRequests(c.var.deps.rt, user, c.req.param("id")) });
});

groupInvitesApi.post("/groups/:id/requests/:userId/approve", body.none, async (c) => {
  const { user } = requireUser(c);
  const rt = c.var.deps.rt;
  await approveJoin(rt, user, c.req.param("id"), c.req.param("userId"));
  return c.json({ group: await groupAfterChange(rt, c.req.param("id"), user.id) });
});

groupInvitesApi.post("/groups/:id/requests/:userId/decline", body.none, async (c) => {
  const { user } = requireUser(c);
  await declineJoin(c.var.deps.rt, user, c.req.param("id"), c.req.param("userId"));
  return c.json({ ok: true });
});

/** Body: `hours` (1–720) or null / absent for a link that does not expire. */
groupInvitesApi.post("/groups/:id/invites", body.json, async (c) => {
  const { user } = requireUser(c);
  const { rt, config } = c.var.deps;
  const b = readOptionalJson(c);
  const hours = b.hours === undefined || b.hours === null ? null : intField(b, "hours");
  const { invite, token } = await createInvite(rt, user, c.req.param("id"), hours);
  const url = `${config.appOrigin}/join#token=${token}`;
  return c.json({
    invite: { id: invite.id, createdAt: invite.createdAt, expiresAt: invite.expiresAt },
    url,
  }, 201);
});

groupInvitesApi.get("/groups/:id/invites", async (c) => {
  const { user } = requireUser(c);
  const invites = await listInvites(c.var.deps.rt, user, c.req.param("id"));
  return c.json({
    invites: invites.map((i) => ({
      id: i.id,
      createdAt: i.createdAt,
      expiresAt: i.expiresAt,
      by: i.by,
    })),
  });
});

groupInvitesApi.delete("/groups/:id/invites/:inviteId", body.none, async (c) => {
  const { user } = requireUser(c);
  await revokeInvite(c.var.deps.rt, user, c.req.param("id"), c.req.param("inviteId"));
  return c.json({ ok: true });
});

groupInvitesApi.post("/invites/preview", body.json, async (c) => {
  const { user } = requireUser(c);
  const { kv, rt } = c.var.deps;
  const b = readJson(c);
  await enforce(kv, "invite_preview", `user:${user.id}`, LIMITS_GROUP_RATE.previewUser, rt.now());
  const g = await previewInvite(rt, str(b, "token"));
  return c.json({
    group: { id: g.id, title: g.title, avatarUrl: avatarUrl(g.avatar), memberCount: g.memberCount },
  });
});

groupInvitesApi.post("/invites/join", body.json, async (c) => {
  const { user } = requireUser(c);
  const rt = c.var.deps.rt;
  const b = readJson(c);
  await joinLimit(c, user.id);
  const ack = await joinByInvite(rt, user, str(b, "token"));
  return c.json({ group: await groupAfterChange(rt, ack.conv, user.id) });
});
