/** How messages and group events change one conversation's client state. */
import type { ConvSummary, Message } from "../wire/protocol.ts";
import type { ConvState } from "./types.ts";
import { applyUpdate } from "../wire/updates.ts";

export function convState(summary: ConvSummary, prev?: ConvState): ConvState {
  return {
    summary,
    messages: prev?.messages ?? [],
    hasMore: prev?.hasMore ?? summary.lastSeq > 0,
    loaded: prev?.loaded ?? false,
    pending: prev?.pending ?? [],
    reads: prev?.reads ??
      (summary.peer && summary.peerReadSeq ? { [summary.peer.id]: summary.peerReadSeq } : {}),
    typing: prev?.typing ?? {},
    ...(prev?.drafts ? { drafts: prev.drafts } : {}),
  };
}

/**
 * Merges messages into an ascending, duplicate-free list, with every update entry in it applied
 * to its target: a target read from the log before an update (a page that crossed it) still ends
 * as the log has it now, and one that already had it is left as it is (lib/wire/updates.ts).
 */
export function mergeMessages(list: Message[], add: Message[]): Message[] {
  if (!add.length) return list;
  const bySeq = new Map(list.map((m) => [m.seq, m]));
  for (const m of add) bySeq.set(m.seq, m);
  return withUpdates([...bySeq.values()].sort((a, b) => a.seq - b.seq));
}

/** Applies the list's update entries, oldest first, to their targets in the list. */
function withUpdates(list: Message[]): Message[] {
  let index: Map<number, number> | undefined;
  for (const u of list) {
    const target = u.kind === "update" ? u.meta?.target : undefined;
    if (target === undefined) continue;
    index ??= new Map(list.map((m, i) => [m.seq, i]));
    const i = index.get(target);
    if (i !== undefined) list[i] = applyUpdate(list[i], u);
  }
  return list;
}

/** What a new group system message changes in the conversation's summary. */
export function applyGroupEvent(summary: ConvSummary, m: Message, me: string | undefined): void {
  const meta = m.meta;
  if (m.kind !== "system" || !meta) return;
  switch (meta.event) {
    case "renamed":
      if (meta.title) summary.title = meta.title;
      break;
    case "notice":
      summary.notice = meta.text ? { text: meta.text, by: meta.by ?? "", at: m.at } : null;
      break;
    case "avatar":
      summary.avatarUrl = meta.text ? `/avatars/${meta.text}` : null;
      break;
    case "settings": {
      const s = meta.text
        ? JSON.parse(meta.text) as { public?: boolean; memberInvite?: boolean }
        : {};
      if (s.public !== undefined) summary.public = s.public;
      if (s.memberInvite !== undefined) summary.memberInvite = s.memberInvite;
      break;
    }
    case "member_added":
      if (meta.userId !== me) summary.memberCount = (summary.memberCount ?? 0) + 1;
      break;
    case "member_left":
    case "member_removed":
      summary.memberCount = Math.max(0, (summary.memberCount ?? 1) - 1);
      break;
    case "admin_added":
    case "admin_removed":
      if (meta.userId === me) summary.role = meta.event === "admin_added" ? "admin" : "member";
      break;
    case "owner_changed":
      if (meta.userId === me) summary.role = "owner";
      else if (meta.by === me) summary.role = "admin";
      break;
  }
}

export function applyMessage(c: ConvState, m: Message, me: string | undefined): ConvState {
  const summary = { ...c.summary };
  if (m.kind === "update" && m.seq > summary.readSeq && !summary.updates?.includes(m.seq)) {
    summary.updates = [...(summary.updates ?? []), m.seq].slice(-64);
  }
  if (m.seq > summary.lastSeq && m.kind === "update" && m.meta?.event === "react") {
    // A reaction is read with the rest but is not the list's preview, nor moves it up.
    summary.lastSeq = m.seq;
  } else if (m.seq > summary.lastSeq) {
    summary.lastSeq = m.seq;
    summary.lastAt = m.at;
    summary.last = {
      from: m.from,
      kind: m.kind,
      text: m.text.slice(0, 120),
      ...(m.meta ? { meta: m.meta } : {}),
      ...(m.media ? { media: m.media.kind } : {}),
    };
    applyGroupEvent(summary, m, me);
  }
  if (m.from !== me && m.mentions?.some((u) => u === me || u === "all")) {
    summary.mentionSeq = Math.max(summary.mentionSeq ?? 0, m.seq);
  }
  if (m.from === me && m.seq > summary.readSeq) summary.readSeq = m.seq;
  // Whoever sends a message has read the conversation up to it.
  if (summary.peer?.id === m.from && m.seq > (summary.peerReadSeq ?? 0)) {
    summary.peerReadSeq = m.seq;
  }
  const reads = m.kind === "system" || (c.reads[m.from] ?? 0) >= m.seq
    ? c.reads
    : { ...c.reads, [m.from]: m.seq };
  const typing = { ...c.typing };
  delete typing[m.from];
  // The stored message replaces its draft.
  let drafts: Pick<ConvState, "drafts"> = {};
  if (m.cid && c.drafts?.[m.cid]?.from === m.from) {
    drafts = { drafts: { ...c.drafts } };
    delete drafts.drafts![m.cid];
  }
  return {
    ...c,
    ...drafts,
    summary,
    messages: c.loaded ? extendWindow(c.messages, m) : extendLive(c, m),
    pending: m.cid && m.from === me ? c.pending.filter((p) => p.cid !== m.cid) : c.pending,
    reads,
    typing,
  };
}

/**
 * Takes a live message into the loaded window unless it is older than the window (a late delivery
 * from another isolate: paging brings it). The server sends each socket every message it may see
 * in seq order, filling what it skipped from the log, so a jump in seq is messages this user may
 * not see (a blocked sender's), not a loss.
 */
function extendWindow(list: Message[], m: Message): Message[] {
  return !list.length || m.seq >= list[0].seq ? mergeMessages(list, [m]) : list;
}

/**
 * Before the first page arrives, keeps the new messages (past what the summary or the buffer has):
 * the page, which may have been read before they were committed, then joins them.
 */
function extendLive(c: ConvState, m: Message): Message[] {
  const last = c.messages[c.messages.length - 1]?.seq ?? c.summary.lastSeq;
  return m.seq > last ? withUpdates([...c.messages, m]) : c.messages;
}
