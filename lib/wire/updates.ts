/**
 * What an "update" entry (a recall or a reaction) does to the message it targets. Pure, and the
 * same on both sides: the server rewrites the stored message with it, and each client applies the
 * entries it receives to the copy it holds, so a device that resumes ends where a fresh load does.
 */
import { MAX_REACTIONS, type Message } from "./protocol.ts";

/** A message with what its sender wrote taken out (what a recall keeps). */
export function withoutContent(t: Message): Message {
  const { reply: _r, reactions: _x, cid: _c, media: _m, ...rest } = t;
  return { ...rest, text: "" };
}

/**
 * The reactions after `user` adds or takes back `emoji`; null when adding would pass
 * MAX_REACTIONS distinct emoji.
 */
export function applyReaction(
  reactions: Message["reactions"],
  user: string,
  emoji: string,
  on: boolean,
): Record<string, string[]> | null {
  const out: Record<string, string[]> = { ...reactions };
  const users = out[emoji] ?? [];
  if (on) {
    if (!out[emoji] && Object.keys(out).length >= MAX_REACTIONS) return null;
    if (!users.includes(user)) out[emoji] = [...users, user];
  } else {
    const left = users.filter((u) => u !== user);
    if (left.length) out[emoji] = left;
    else delete out[emoji];
  }
  return out;
}

/**
 * `target` with the update entry `u` applied, or `target` itself when `u` is not about it or it
 * already has it (its `upd` is at or past u's seq).
 */
export function applyUpdate(target: Message, u: Message): Message {
  const meta = u.meta;
  if (u.kind !== "update" || !meta || meta.target !== target.seq) return target;
  if ((target.upd ?? 0) >= u.seq) return target;
  if (meta.event === "recall") {
    return { ...withoutContent(target), recalled: { by: u.from, at: u.at }, upd: u.seq };
  }
  if (meta.event === "react" && meta.emoji && !target.recalled) {
    const reactions = applyReaction(target.reactions, u.from, meta.emoji, meta.on !== false);
    if (!reactions) return target;
    const out: Message = { ...target, upd: u.seq, reactions };
    if (!Object.keys(reactions).length) delete out.reactions;
    return out;
  }
  return target;
}
