/**
 * Blocking is silent: the blocked person's requests and messages look sent to them and never
 * reach the blocker (lib/chat/send_rules.ts keeps a blocked sender's DM for the sender only).
 */
import { keys } from "../kv/keys.ts";
import type { User } from "../accounts/users.ts";
import type { DomainDeps } from "../chat/events.ts";
import { fail } from "../errors.ts";
import { requireUser } from "./friend_views.ts";

export async function isBlocked(kv: Deno.Kv, blocker: string, blocked: string): Promise<boolean> {
  return (await kv.get(keys.block(blocker, blocked))).value !== null;
}

/** Blocks a user: they can no longer reach this user, and are not told. Pending requests from them go. */
export async function block(deps: DomainDeps, me: User, otherId: string): Promise<void> {
  const kv = deps.kv;
  const other = await requireUser(kv, otherId);
  if (other.id === me.id) fail(400, "block_self", "You cannot block yourself");
  await kv.atomic().set(keys.block(me.id, other.id), deps.now()).delete(
    keys.friendReq(me.id, other.id),
  ).commit();
  await deps.events.toUsers([me.id], { frame: { type: "blocked", user: other.id, blocked: true } });
}

export async function unblock(deps: DomainDeps, me: User, otherId: string): Promise<void> {
  const kv = deps.kv;
  if (typeof otherId !== "string" || otherId.length > 40) {
    fail(404, "user_not_found", "No such user");
  }
  await kv.delete(keys.block(me.id, otherId));
  await deps.events.toUsers([me.id], { frame: { type: "blocked", user: otherId, blocked: false } });
}

/** The ids this user has blocked. */
export async function listBlocked(kv: Deno.Kv, me: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: keys.blocks(me) })) out.push(e.key[2] as string);
  return out;
}
