/**
 * Checks of the content of answers, against docs/protocol.md. Each returns a sentence saying
 * what is wrong, or null. The fuzz world has no blocks, so every message is visible to every
 * member and pages and ranges are exact.
 */
import {
  HISTORY_PAGE_MAX_CHARS,
  MAX_TEXT_CHARS,
  type Message,
  RESUME_MAX_PER_CONV,
} from "../../lib/wire/protocol.ts";
import { keys } from "../../lib/kv/keys.ts";
import type { Expect } from "./oracle.ts";

type HistoryExpect = Extract<Expect, { k: "history" }>;
type SyncExpect = Extract<Expect, { k: "sync" }>;

function consecutive(seqs: number[]): boolean {
  return seqs.every((s, i) => i === 0 || s === seqs[i - 1] + 1);
}

/** A message as the protocol describes it; `members` may send, and the bot and system. */
export function checkMessage(m: Message, conv: string, members: Set<string>): string | null {
  if (m.conv !== conv) return `message of "${m.conv}" in an answer about "${conv}"`;
  if (!Number.isSafeInteger(m.seq) || m.seq < 1) return `message seq ${m.seq}`;
  if (!members.has(m.from) && m.from !== "bot" && m.from !== "system") {
    return `message from "${m.from}", not a member`;
  }
  if (m.kind === "text") {
    if (m.text !== m.text.trim() || !m.text) {
      return `text not trimmed or empty: ${JSON.stringify(m.text)}`;
    }
    if ([...m.text].length > MAX_TEXT_CHARS) return `text of ${[...m.text].length} code points`;
  } else if (m.kind !== "system") return `message kind "${m.kind}"`;
  return null;
}

/**
 * What a message weighs against the text bound of a page (docs/protocol.md "Limits"): its text
 * (a system message's notice or group name), plus 200 for its other fields.
 */
export function textCost(m: Message): number {
  return m.text.length + (m.meta?.text?.length ?? 0) + (m.meta?.title?.length ?? 0) + 200;
}

/** The text cost of the messages of `conv` with seq in (after, upTo], as stored. */
export async function storedCost(
  kv: Deno.Kv,
  conv: string,
  after: number,
  upTo: number,
): Promise<number> {
  let n = 0;
  const sel = { start: keys.msg(conv, after + 1), end: keys.msg(conv, upTo + 1) };
  for await (const e of kv.list<Message>(sel)) n += textCost(e.value);
  return n;
}

/**
 * A `history` page: newest first cut, oldest first order, never below the join, within the
 * text bound. `short` is set to the seq before the page when the page ends early, which only the
 * text bound allows: the caller checks against the store that that message did not fit.
 */
export function checkPage(
  e: HistoryExpect,
  seqs: number[],
  hasMore: boolean,
  cost: number,
  short: { before?: number },
): string | null {
  if (seqs.length > 1 && cost > HISTORY_PAGE_MAX_CHARS) {
    return `page of ${cost} units of text, over ${HISTORY_PAGE_MAX_CHARS}`;
  }
  if (!consecutive(seqs)) return `page seqs not consecutive: ${seqs}`;
  if (seqs.length > e.limit) return `page of ${seqs.length} over the limit ${e.limit}`;
  if (seqs.length && seqs[0] <= e.floor) return `page reaches seq ${seqs[0]}, joined at ${e.floor}`;
  if (hasMore !== (seqs.length > 0 && seqs[0] > e.floor + 1)) {
    return `hasMore ${hasMore} with seqs ${seqs[0]}…${seqs.at(-1)} above the join seq ${e.floor}`;
  }
  const top = seqs.at(-1);
  if (e.before !== undefined) {
    if (top !== undefined && top >= e.before) return `page reaches ${top}, not below ${e.before}`;
    // Everything below `before` up to what was seen already exists: the page must end there.
    const want = Math.min(e.before - 1, e.seen);
    if (want > e.floor && (top ?? 0) < want) return `page ends at ${top}, seq ${want} exists`;
  } else if (e.seen > e.floor && (top ?? 0) < e.seen) {
    return `newest page ends at ${top}, seq ${e.seen} exists`;
  }
  if (top !== undefined && seqs.length < e.limit && seqs[0] !== e.floor + 1) {
    short.before = seqs[0] - 1;
  }
  return null;
}

/**
 * The `history` part of a `sync` answer and its `synced`: everything after `after`, exactly, and
 * no more text than a page holds (the answer's history part checks that).
 */
export function checkSync(e: SyncExpect, seqs: number[], lastSeq: number): string | null {
  const from = Math.max(e.after, e.floor);
  if (lastSeq < e.seen) return `synced.lastSeq ${lastSeq}, seq ${e.seen} exists`;
  if (lastSeq - from > RESUME_MAX_PER_CONV) {
    return `sync answered ${seqs.length} messages, not a gap`;
  }
  const want = Array.from({ length: Math.max(0, lastSeq - from) }, (_, i) => from + 1 + i);
  if (JSON.stringify(seqs) !== JSON.stringify(want)) {
    return `sync after ${e.after} (joined ${e.floor}) to ${lastSeq} gave ${seqs[0]}…${
      seqs.at(-1)
    } (${seqs.length})`;
  }
  return null;
}

/**
 * A `gap` answering `sync`: from where it was asked (or the join), up to at least what was seen.
 * A gap of 200 messages or fewer must hold more text than a page: the caller checks the store.
 */
export function checkSyncGap(e: SyncExpect, after: number, lastSeq: number): string | null {
  const from = Math.max(e.after, e.floor);
  if (after !== from) return `gap after ${after}, asked after ${e.after} (joined ${e.floor})`;
  if (lastSeq < e.seen) return `gap.lastSeq ${lastSeq}, seq ${e.seen} exists`;
  return null;
}

export function checkReceipts(reads: Record<string, number>, members: Set<string>): string | null {
  for (const [u, s] of Object.entries(reads)) {
    if (!members.has(u)) return `receipt of "${u}", not a member`;
    if (!Number.isSafeInteger(s) || s < 0) return `receipt seq ${s}`;
  }
  return null;
}

export function checkMembers(
  list: { id: string; role: string }[],
  members: Set<string>,
): string | null {
  const ids = list.map((m) => m.id).sort();
  if (JSON.stringify(ids) !== JSON.stringify([...members].sort())) {
    return `members ${ids} instead of ${[...members].sort()}`;
  }
  const bad = list.find((m) => !["owner", "admin", "member"].includes(m.role));
  return bad ? `role "${bad.role}"` : null;
}
