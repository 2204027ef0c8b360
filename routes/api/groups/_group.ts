/** What the /api/groups endpoints share: the group id of the URL, the answer to a change. */
import type { Ctx } from "../../../lib/http/state.ts";
import { requireUser } from "../../../lib/http/access.ts";
import { groupAfterChange } from "../../../lib/groups/view.ts";

/**
 * The group as the caller may see it now, never an error: they may have been removed, or the
 * group dissolved, since the commit.
 */
/** The :id of /api/groups/:id/… (a parameter of the mount, so the route's own type lacks it). */
export function groupId(c: Ctx): string {
  return c.req.param("id") ?? "";
}

export async function groupAnswer(c: Ctx): Promise<Response> {
  const { user } = requireUser(c);
  return c.json({ group: await groupAfterChange(c.var.deps.rt, groupId(c), user.id) });
}
