/**
 * Who may send what where: the rules of a user's message, checked inside the write that commits
 * it (lib/chat/events.ts MsgInput), so that a rule changed at the same moment (a mute, a deleted
 * friend, a block) makes the commit retry instead of being missed.
 */
import { keys } from "../kv/keys.ts";
import { HttpError } from "../errors.ts";
import { BOT_ID, type Member, type UserConv } from "./conversations.ts";
import type { MsgInput, Prepared } from "./events.ts";
import { visibleTo } from "./history.ts";
import { type Message, RECALL_WINDOW_MS } from "../wire/protocol.ts";
import { applyReaction, applyUpdate } from "../wire/updates.ts";
import { mediaField, type MediaRecord } from "./media.ts";

/**
 * A user's text message; `peer` is the other person of a DM (its friendship and block rules),
 * `reply` the seq of the message it answers (which must exist and be visible to the sender).
 */
export function textMessage(
  m: {
    conv: string;
    sender: string;
    cid: string;
    text: string;
    reply?: number;
    media?: string;
    mentions?: string[];
  },
  peer?: string,
): MsgInput {
  const { reply, media, mentions: asked, ...fields } = m;
  // Calling oneself is no call; a DM has no one else to call.
  const mentions = peer ? [] : (asked ?? []).filter((u) => u !== m.sender);
  const all = mentions.includes("all");
  // What the rules read, each at its own place in `reads` (-1: not read).
  const reads: Deno.KvKey[] = [];
  const slot = (key: Deno.KvKey) => reads.push(key) - 1;
  const friendAt = peer ? slot(keys.friend(m.sender, peer)) : -1;
  const blockAt = peer ? slot(keys.block(peer, m.sender)) : -1;
  const mediaAt = media !== undefined ? slot(keys.media(m.conv, media)) : -1;
  // @all and a reply both need the sender's membership: read once.
  const memberAt = all || reply !== undefined ? slot(keys.member(m.conv, m.sender)) : -1;
  const targetAt = reply !== undefined ? slot(keys.msg(m.conv, reply)) : -1;
  return {
    ...fields,
    kind: "text",
    checkMember: true,
    admit: notMuted,
    reads: reads.length || mentions.length ? reads : undefined,
    prepare: reads.length || mentions.length
      ? async (got) => {
        let p: Prepared = peer
          ? await dmRules(m.conv, m.sender, peer, got[friendAt], got[blockAt])
          : { checks: [], apply: () => {} };
        if (media !== undefined) {
          p = attach(p, got[mediaAt] as Deno.KvEntryMaybe<MediaRecord>, m.sender);
        }
        const me = got[memberAt] as Deno.KvEntryMaybe<Member> | undefined;
        if (all) {
          const role = me?.value?.role;
          if (role !== "owner" && role !== "admin") {
            throw new HttpError(403, "not_allowed", "Only the group's owner and admins can @all");
          }
          p = { ...p, checks: [...p.checks, me!] };
        }
        if (mentions.length) p = { ...p, fields: { ...p.fields, mentions } };
        if (reply === undefined) return p;
        const target = got[targetAt] as Deno.KvEntryMaybe<Message>;
        const t = seenBy(target.value, me!.value, m.sender);
        if (!t || t.kind === "update") {
          throw new HttpError(404, "no_such_message", "The message you answer is not there");
        }
        // The quote names the original; its text stays there only (a recall takes it back).
        return { ...p, fields: { ...p.fields, reply: { seq: t.seq, from: t.from } } };
      }
      : undefined,
  };
}

/**
 * A message carrying an upload: the sender's own, of this conversation, not sent before. The
 * record learns the message's seq in the same write (from then on the members may read it).
 */
function attach(p: Prepared, entry: Deno.KvEntryMaybe<MediaRecord>, sender: string): Prepared {
  const rec = entry.value;
  if (!rec || rec.by !== sender || rec.seq !== undefined) {
    throw new HttpError(404, "no_such_media", "That upload is not there (upload it again)");
  }
  return {
    ...p,
    checks: [...p.checks, entry],
    fields: { ...p.fields, media: mediaField(rec) },
    apply: (op, seq) => {
      p.apply(op, seq);
      op.set(entry.key, { ...rec, seq });
      op.delete(keys.unsentMedia(rec.at, rec.conv, rec.id));
    },
  };
}

/**
 * Takes a message back: its sender within RECALL_WINDOW_MS, a group's owner any time, an admin
 * any member's message. The original is rewritten without its text in the same write that logs
 * the recall, so the words are gone from storage, not hidden; the log entry tells every device.
 */
export function recallMessage(
  kv: Deno.Kv,
  m: { conv: string; sender: string; target: number },
  now: () => number,
  /** Told of the recalled message's upload, whose bytes go once the recall is committed. */
  onMedia?: (rec: MediaRecord) => void,
): MsgInput {
  const meta = { event: "recall", target: m.target };
  return update(m, `recall-${m.target}`, "[recalled a message]", meta, now, async (t, member) => {
    if (t.recalled) throw new HttpError(409, "already_recalled", "It was already recalled");
    const checks = t.media ? [await kv.get<MediaRecord>(keys.media(m.conv, t.media.id))] : [];
    if (checks[0]?.value) onMedia?.(checks[0].value);
    const role = member.role;
    if (t.from === m.sender) {
      if (role !== "owner" && role !== "admin" && now() - t.at > RECALL_WINDOW_MS) {
        throw new HttpError(403, "recall_expired", "Messages can be recalled for 2 minutes", {
          params: { minutes: RECALL_WINDOW_MS / 60_000 },
        });
      }
      return checks;
    }
    if (role === "owner") return checks;
    if (role === "admin") {
      const author = await kv.get<Member>(keys.member(m.conv, t.from));
      if (!author.value || author.value.role === "member") return [...checks, author];
    }
    throw new HttpError(403, "not_allowed", "Only its sender or a group admin can recall it");
  });
}

/** Adds (`on`) or takes back the sender's reaction `emoji` on a message. */
export function reactMessage(
  m: { conv: string; sender: string; cid: string; target: number; emoji: string; on: boolean },
  now: () => number,
): MsgInput {
  const meta = { event: "react", target: m.target, emoji: m.emoji, on: m.on };
  // deno-lint-ignore require-await
  return update(m, m.cid, m.emoji, meta, now, async (t) => {
    if (t.recalled) throw new HttpError(404, "no_such_message", "That message is not there");
    if (!applyReaction(t.reactions, m.sender, m.emoji, m.on)) {
      throw new HttpError(400, "too_many_reactions", "This message has too many reactions");
    }
    return [];
  });
}

/**
 * An update entry (docs/protocol.md#updates-recall-and-reactions): it reads its target and the
 * sender's membership, lets `rule` refuse (or add checks), and rewrites the target in its write.
 */
function update(
  m: { conv: string; sender: string; target: number },
  cid: string,
  text: string,
  meta: NonNullable<Message["meta"]>,
  now: () => number,
  rule: (t: Message, member: Member) => Promise<Deno.AtomicCheck[]>,
): MsgInput {
  return {
    conv: m.conv,
    sender: m.sender,
    cid,
    kind: "update",
    text,
    meta,
    checkMember: true,
    exclusive: true,
    reads: [keys.msg(m.conv, m.target), keys.member(m.conv, m.sender)],
    prepare: async ([target, me]) => {
      const member = (me as Deno.KvEntryMaybe<Member>).value;
      const t = seenBy((target as Deno.KvEntryMaybe<Message>).value, member, m.sender);
      if (!t || t.kind !== "text") {
        throw new HttpError(404, "no_such_message", "That message is not there");
      }
      const checks = [target, me, ...await rule(t, member!)];
      return {
        checks,
        only: t.only,
        apply: (op, seq) => {
          const after = applyUpdate(t, {
            conv: t.conv,
            seq,
            id: "",
            from: m.sender,
            kind: "update",
            text: "",
            at: now(),
            meta,
          });
          op.set(keys.msg(t.conv, t.seq), after);
          // A recalled picture or file goes with its words: its record now, its bytes after.
          if (t.media && !after.media) op.delete(keys.media(t.conv, t.media.id));
        },
      };
    },
  };
}

/**
 * The message if `user` may see it: a member since before it (history has the same floor), and
 * not someone else's only; else null (to them it is not there).
 */
function seenBy(t: Message | null, member: Member | null, user: string): Message | null {
  if (!t || !member || t.seq <= member.joinedSeq || !visibleTo(t, user)) return null;
  return t;
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
