/** /api/groups/:id/invites: invite links (made, listed and revoked by those who may invite). */
import { Hono } from "hono";
import type { Env } from "../../../lib/http/state.ts";
import { body, readOptionalJson } from "../../../lib/http/body.ts";
import { requireUser } from "../../../lib/http/access.ts";
import { intField } from "../../../lib/http/fields.ts";
import { createInvite, listInvites, revokeInvite } from "../../../lib/groups/invites.ts";
import { groupId } from "./_group.ts";
import type { InviteView } from "../../../lib/wire/api.ts";

export const invitesApi = new Hono<Env>();

/** Body: `hours` (1–720) or null / absent for a link that does not expire. */
invitesApi.post("/", body.json, async (c) => {
  const { user } = requireUser(c);
  const { rt, config } = c.var.deps;
  const b = readOptionalJson(c);
  const hours = b.hours === undefined || b.hours === null ? null : intField(b, "hours");
  const { invite, token } = await createInvite(rt, user, groupId(c), hours);
  const url = `${config.appOrigin}/join#token=${token}`;
  return c.json({
    invite: { id: invite.id, createdAt: invite.createdAt, expiresAt: invite.expiresAt },
    url,
  }, 201);
});

invitesApi.get("/", async (c) => {
  const { user } = requireUser(c);
  const invites = await listInvites(c.var.deps.rt, user, groupId(c));
  return c.json({
    invites: invites.map((i): InviteView => ({
      id: i.id,
      createdAt: i.createdAt,
      expiresAt: i.expiresAt,
      by: i.by,
    })),
  });
});

invitesApi.delete("/:inviteId", body.none, async (c) => {
  const { user } = requireUser(c);
  await revokeInvite(c.var.deps.rt, user, groupId(c), c.req.param("inviteId"));
  return c.json({ ok: true });
});
