/**
 * The chat client's state and the pure reducer that applies server frames and local actions to
 * it. Shared by the browser client and the tests (replaying events onto an old state must equal
 * a fresh load).
 */
import type {
  ConvSummary,
  FriendView,
  Message,
  RequestView,
  ServerFrame,
  UserCard,
} from "../wire/protocol.ts";
import type { FriendsSnapshot } from "../wire/api.ts";
import { reduceFriends } from "./friends.ts";

export { seenName } from "./friends.ts";

export interface Pending {
  cid: string;
  text: string;
  at: number;
  state: "pending" | "failed";
}

export interface ConvState {
  summary: ConvSummary;
  /** Loaded messages, ascending by seq, no duplicates. */
  messages: Message[];
  /** Older messages exist on the server before messages[0]. */
  hasMore: boolean;
  /** Whether the newest page has been loaded at least once. */
  loaded: boolean;
  pending: Pending[];
  /** Read cursors of members (groups: read counts; DMs: the peer's). */
  reads: Record<string, number>;
  /** user → ms until which they are shown typing. */
  typing: Record<string, number>;
}

export interface ChatState {
  me: UserCard | null;
  convs: Record<string, ConvState>;
  users: Record<string, UserCard>;
  presence: Record<string, { online: boolean; lastSeen: number | null }>;
  /** Friends by user id, with this user's remarks. */
  friends: Record<string, FriendView>;
  /** Friend requests waiting for this user's answer, newest first. */
  requests: RequestView[];
  /** Requests this user sent that are still pending, newest first. */
  outgoing: RequestView[];
  /** Users this user blocked. */
  blocked: string[];
  /** Whether friends were loaded (until then, nobody counts as "not a friend"). */
  friendsLoaded: boolean;
}

export type Action =
  | ServerFrame
  | { type: "local_send"; conv: string; cid: string; text: string; at: number }
  | { type: "local_failed"; conv: string; cid: string }
  | { type: "local_retry"; conv: string; cid: string }
  | { type: "local_read"; conv: string; seq: number }
  | ({ type: "local_friends" } & FriendsSnapshot)
  | { type: "local_outgoing"; request: RequestView }
  | { type: "typing_expire"; now: number };

export const TYPING_SHOW_MS = 4000;

export function emptyState(): ChatState {
  return {
    me: null,
    convs: {},
    users: {},
    presence: {},
    friends: {},
    requests: [],
    outgoing: [],
    blocked: [],
    friendsLoaded: false,
  };
}

function convState(summary: ConvSummary, prev?: ConvState): ConvState {
  return {
    summary,
    messages: prev?.messages ?? [],
    hasMore: prev?.hasMore ?? summary.lastSeq > 0,
    loaded: prev?.loaded ?? false,
    pending: prev?.pending ?? [],
    reads: prev?.reads ??
      (summary.peer && summary.peerReadSeq ? { [summary.peer.id]: summary.peerReadSeq } : {}),
    typing: prev?.typing ?? {},
  };
}

/** Merges messages into an ascending, duplicate-free list. */
export function mergeMessages(list: Message[], add: Message[]): Message[] {
  if (!add.length) return list;
  const bySeq = new Map(list.map((m) => [m.seq, m]));
  for (const m of add) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function withConv(s: ChatState, id: string, f: (c: ConvState) => ConvState): ChatState {
  const c = s.convs[id];
  return c ? { ...s, convs: { ...s.convs, [id]: f(c) } } : s;
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

function applyMessage(c: ConvState, m: Message, me: string | undefined): ConvState {
  const summary = { ...c.summary };
  if (m.seq > summary.lastSeq) {
    summary.lastSeq = m.seq;
    summary.lastAt = m.at;
    summary.last = {
      from: m.from,
      kind: m.kind,
      text: m.text.slice(0, 120),
      ...(m.meta ? { meta: m.meta } : {}),
    };
    applyGroupEvent(summary, m, me);
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
  return {
    ...c,
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
  return m.seq > last ? [...c.messages, m] : c.messages;
}

/** Applies one server frame or local action. Never mutates the input state. */
export function reduce(s: ChatState, a: Action, now = Date.now()): ChatState {
  switch (a.type) {
    case "welcome": {
      const convs: Record<string, ConvState> = {};
      const users = { ...s.users, [a.me.id]: a.me };
      const presence = { ...s.presence };
      for (const sum of a.convs) {
        convs[sum.id] = convState(sum, s.convs[sum.id]);
        if (sum.peer) {
          users[sum.peer.id] = {
            id: sum.peer.id,
            username: sum.peer.username,
            nickname: sum.peer.nickname,
            avatarUrl: sum.peer.avatarUrl,
          };
          if (sum.peer.online !== undefined) {
            presence[sum.peer.id] = {
              online: sum.peer.online,
              lastSeen: sum.peer.lastSeen ?? null,
            };
          }
        }
      }
      return { ...s, me: a.me, convs, users, presence };
    }
    case "conv": {
      const sum = a.conv;
      const users = sum.peer
        ? {
          ...s.users,
          [sum.peer.id]: {
            id: sum.peer.id,
            username: sum.peer.username,
            nickname: sum.peer.nickname,
            avatarUrl: sum.peer.avatarUrl,
          },
        }
        : s.users;
      return { ...s, users, convs: { ...s.convs, [sum.id]: convState(sum, s.convs[sum.id]) } };
    }
    case "conv_removed": {
      const convs = { ...s.convs };
      delete convs[a.conv];
      return { ...s, convs };
    }
    case "msg":
      return withConv(s, a.msg.conv, (c) => applyMessage(c, a.msg, s.me?.id));
    case "ack":
      return withConv(s, a.conv, (c) => ({
        ...c,
        pending: c.pending.filter((p) => p.cid !== a.cid),
        summary: a.seq > c.summary.readSeq ? { ...c.summary, readSeq: a.seq } : c.summary,
      }));
    case "history":
      return withConv(s, a.conv, (c) => {
        const isNewest = !c.loaded;
        const merged = mergeMessages(c.messages, a.messages);
        // Live messages kept before the first page may be older than it (more came meanwhile than
        // a page holds): keep what the page reaches, so the window has no hole.
        const from = a.messages[0]?.seq;
        const messages = isNewest && from !== undefined
          ? merged.filter((m) => m.seq >= from)
          : merged;
        const oldestBefore = c.messages[0]?.seq;
        const gotOlder = a.messages.length &&
          (oldestBefore === undefined || a.messages[0].seq < oldestBefore);
        return {
          ...c,
          messages,
          loaded: true,
          // An empty older page means there is nothing more, whatever was said before.
          hasMore: isNewest || gotOlder || !a.messages.length
            ? a.hasMore || messages.length < merged.length
            : c.hasMore,
          summary: messages.length && messages[messages.length - 1].seq > c.summary.lastSeq
            ? { ...c.summary, lastSeq: messages[messages.length - 1].seq }
            : c.summary,
        };
      });
    case "gap":
      // Too much was missed to replay: drop the window; the view pages the newest history again.
      return withConv(
        s,
        a.conv,
        (c) => ({
          ...c,
          messages: [],
          loaded: false,
          hasMore: true,
          summary: { ...c.summary, lastSeq: Math.max(c.summary.lastSeq, a.lastSeq) },
        }),
      );
    case "read":
      return withConv(s, a.conv, (c) => {
        const reads = { ...c.reads, [a.user]: Math.max(c.reads[a.user] ?? 0, a.seq) };
        let summary = c.summary;
        if (a.user === s.me?.id && a.seq > summary.readSeq) {
          summary = { ...summary, readSeq: a.seq };
        }
        if (summary.peer?.id === a.user) {
          summary = { ...summary, peerReadSeq: Math.max(summary.peerReadSeq ?? 0, a.seq) };
        }
        return { ...c, reads, summary };
      });
    case "receipts":
      return withConv(s, a.conv, (c) => ({ ...c, reads: { ...c.reads, ...a.reads } }));
    case "members": {
      const users = { ...s.users };
      for (const m of a.members) {
        users[m.id] = {
          id: m.id,
          username: m.username,
          nickname: m.nickname,
          avatarUrl: m.avatarUrl,
        };
      }
      return { ...s, users };
    }
    case "typing":
      return withConv(
        s,
        a.conv,
        (c) => ({ ...c, typing: { ...c.typing, [a.user]: now + TYPING_SHOW_MS } }),
      );
    case "typing_expire": {
      let changed = false;
      const convs: Record<string, ConvState> = {};
      for (const [id, c] of Object.entries(s.convs)) {
        const live = Object.entries(c.typing).filter(([, until]) => until > a.now);
        if (live.length !== Object.keys(c.typing).length) {
          changed = true;
          convs[id] = { ...c, typing: Object.fromEntries(live) };
        } else convs[id] = c;
      }
      return changed ? { ...s, convs } : s;
    }
    case "presence":
      return {
        ...s,
        presence: { ...s.presence, [a.user]: { online: a.online, lastSeen: a.lastSeen } },
      };
    case "local_send":
      return withConv(
        s,
        a.conv,
        (c) => ({
          ...c,
          pending: [...c.pending, { cid: a.cid, text: a.text, at: a.at, state: "pending" }],
        }),
      );
    case "local_failed":
      return withConv(
        s,
        a.conv,
        (c) => ({
          ...c,
          pending: c.pending.map((p) => p.cid === a.cid ? { ...p, state: "failed" } : p),
        }),
      );
    case "local_retry":
      return withConv(
        s,
        a.conv,
        (c) => ({
          ...c,
          pending: c.pending.map((p) => p.cid === a.cid ? { ...p, state: "pending" } : p),
        }),
      );
    case "friend":
    case "friend_removed":
    case "friend_request":
    case "friend_request_gone":
    case "blocked":
    case "local_friends":
    case "local_outgoing":
      return reduceFriends(s, a);
    case "local_read":
      return withConv(
        s,
        a.conv,
        (c) => a.seq > c.summary.readSeq ? { ...c, summary: { ...c.summary, readSeq: a.seq } } : c,
      );
    default:
      return s;
  }
}

/** Unread messages in a conversation for this user. */
export function unreadCount(c: ConvState): number {
  return Math.max(0, c.summary.lastSeq - c.summary.readSeq);
}

/** Conversations, newest activity first. */
export function sortedConvs(s: ChatState): ConvState[] {
  return Object.values(s.convs).sort((a, b) =>
    b.summary.lastAt - a.summary.lastAt || a.summary.id.localeCompare(b.summary.id)
  );
}

/** How many members (other than the sender) have read message `seq`. */
export function readCount(c: ConvState, seq: number, senderId: string): number {
  return Object.entries(c.reads).filter(([u, r]) => u !== senderId && r >= seq).length;
}
