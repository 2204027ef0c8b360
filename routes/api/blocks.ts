/** /api/blocks/:id: block and unblock someone. The rules are in lib/social/friends.ts. */
import { Hono } from "hono";
import type { Env } from "../../lib/http/state.ts";
import { body } from "../../lib/http/body.ts";
import { requireUser } from "../../lib/http/access.ts";
import { block, unblock } from "../../lib/social/friends.ts";

export const blocksApi = new Hono<Env>();

blocksApi.post("/:id", body.none, async (c) => {
  const { user } = requireUser(c);
  await block(c.var.deps.rt, user, c.req.param("id"));
  return c.json({ ok: true });
});

blocksApi.delete("/:id", body.none, async (c) => {
  const { user } = requireUser(c);
  await unblock(c.var.deps.rt, user, c.req.param("id"));
  return c.json({ ok: true });
});
