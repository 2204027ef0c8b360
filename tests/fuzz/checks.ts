/**
 * Checks of the content of answers, against docs/protocol.md. Each returns a sentence saying
 * what is wrong, or null. The fuzz world has no blocks, so every message is visible to every
 * member and pages and ranges are exact.
 */
import { MAX_TEXT_CHARS, type Message, RESUME_MAX_PER_CONV } from "../../lib/wire/protocol.ts";
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

/** A `history` page: newest first cut, oldest first order, never below the join. */
export function checkPage(
  e: HistoryExpect,
  seqs: number[],
  hasMore: boolean,
): string | null {
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
    return `short page starts at ${seqs[0]}, not at ${e.floor + 1}`;
  }
  return null;
}

/** The `history` part of a `sync` answer and its `synced`: everything after `after`, exactly. */
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

export function checkSyncGap(e: SyncExpect, after: number, lastSeq: number): string | null {
  const from = Math.max(e.after, e.floor);
  if (after !== from) return `gap after ${after}, asked after ${e.after} (joined ${e.floor})`;
  if (lastSeq - from <= RESUME_MAX_PER_CONV) return `gap of ${lastSeq - from} messages`;
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
