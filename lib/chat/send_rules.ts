/**
 * Who may send what where: the rules of a user's message, checked inside the write that commits
 * it (lib/chat/events.ts MsgInput), so that a rule changed at the same moment (a mute, a deleted
 * friend, a block) makes the commit retry instead of being missed.
 */
import { keys } from "../kv/keys.ts";
import { HttpError } from "../errors.ts";
import { BOT_ID, type Member, type UserConv } from "./conversations.ts";
import type { MsgInput, Prepared } from "./events.ts";

/** A user's text message; `peer` is the other person of a DM (its friendship and block rules). */
export function textMessage(
  m: { conv: string; sender: string; cid: string; text: string },
  peer?: string,
): MsgInput {
  return {
    ...m,
    kind: "text",
    checkMember: true,
    admit: notMuted,
    reads: peer ? [keys.friend(m.sender, peer), keys.block(peer, m.sender)] : undefined,
    prepare: peer
      ? ([friend, blocked]) => dmRules(m.conv, m.sender, peer, friend, blocked)
      : undefined,
  };
}

/**
 * The other person of `conv` if it is `userId`'s DM, from the store: for a sender whose socket
 * has not learned of the conversation yet (added a moment ago), so that the DM rules still hold.
 */
export async function dmPeerOf(
  kv: Deno.Kv,
  userId: string,
  conv: string,
): Promise<string | undefined> {
  if (typeof conv !== "string" || conv.length > 40) return undefined;
  const uc = (await kv.get<UserConv>(keys.userConv(userId, conv))).value;
  return uc?.kind === "dm" ? uc.peerId : undefined;
}

/** The bot's answer to the message with seq `seq` (one per message: a retry is a duplicate). */
export function botMessage(conv: string, seq: number, text: string): MsgInput {
  return { conv, sender: BOT_ID, cid: `re-${seq}`, kind: "text", text, checkMember: false };
}

/** A group member muted by an admin cannot send until the mute ends. */
export function notMuted(member: Member, now: number): void {
  if (!member.mutedUntil || member.mutedUntil <= now) return;
  const minutes = Math.ceil((member.mutedUntil - now) / 60_000);
  throw new HttpError(403, "muted", `You are muted in this group for ${minutes} more min`, {
    params: { minutes },
  });
}

/**
 * A DM needs a friendship (after "delete friend" nobody can send in it). A message to someone
 * who blocked the sender is stored for the sender only: it looks sent, and never arrives.
 */
// deno-lint-ignore require-await
async function dmRules(
  conv: string,
  sender: string,
  peer: string,
  friend: Deno.KvEntryMaybe<unknown>,
  blocked: Deno.KvEntryMaybe<unknown>,
): Promise<Prepared> {
  if (!friend.value) {
    throw new HttpError(403, "not_friends", "You are not friends: send a friend request first");
  }
  if (!blocked.value) return { checks: [friend, blocked], apply: () => {} };
  return {
    checks: [friend, blocked],
    // The blocker never sees it, so it must not count as unread for them either.
    apply: (op, seq) => op.max(keys.read(conv, peer), BigInt(seq)),
    only: sender,
  };
}
