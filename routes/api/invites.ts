/** /api/invites: what the /join page does with an invite link's token (preview, join). */
import { Hono } from "hono";
import type { Env } from "../../lib/http/state.ts";
import { body, readJson } from "../../lib/http/body.ts";
import { requireUser } from "../../lib/http/access.ts";
import { str } from "../../lib/http/fields.ts";
import { enforce } from "../../lib/accounts/accounts.ts";
import { LIMITS_GROUP_RATE } from "../../lib/groups/groups.ts";
import { joinByInvite, previewInvite } from "../../lib/groups/invites.ts";
import { groupAfterChange } from "../../lib/groups/view.ts";
import { avatarUrl } from "../../lib/accounts/users.ts";

export const inviteLinksApi = new Hono<Env>();

inviteLinksApi.post("/preview", body.json, async (c) => {
  const { user } = requireUser(c);
  const { kv, rt } = c.var.deps;
  const b = readJson(c);
  await enforce(kv, "invite_preview", `user:${user.id}`, LIMITS_GROUP_RATE.previewUser, rt.now());
  const g = await previewInvite(rt, str(b, "token"));
  return c.json({
    group: { id: g.id, title: g.title, avatarUrl: avatarUrl(g.avatar), memberCount: g.memberCount },
  });
});

inviteLinksApi.post("/join", body.json, async (c) => {
  const { user } = requireUser(c);
  const { kv, rt } = c.var.deps;
  const b = readJson(c);
  await enforce(kv, "group_join", `user:${user.id}`, LIMITS_GROUP_RATE.joinUser, rt.now());
  const ack = await joinByInvite(rt, user, str(b, "token"));
  return c.json({ group: await groupAfterChange(rt, ack.conv, user.id) });
});
