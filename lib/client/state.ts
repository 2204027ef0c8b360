/**
 * The chat client's state and the pure reducer that applies server frames and local actions to
 * it. Shared by the browser client and the tests (replaying events onto an old state must equal
 * a fresh load).
 */
import { reduceFriends } from "./friends.ts";
import { applyMessage, convState, mergeMessages } from "./messages.ts";
import type { Action, ChatState, ConvState } from "./types.ts";
import { unreadOf, unreadTotal } from "../wire/protocol.ts";

export type * from "./types.ts";
export { applyGroupEvent, mergeMessages } from "./messages.ts";

export { seenName } from "./friends.ts";

export const TYPING_SHOW_MS = 4000;
/** How long a draft stays without a renewal (the server renews it at least every few seconds). */
export const DRAFT_SHOW_MS = 30_000;

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

function withConv(s: ChatState, id: string, f: (c: ConvState) => ConvState): ChatState {
  const c = s.convs[id];
  return c ? { ...s, convs: { ...s.convs, [id]: f(c) } } : s;
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
        // A replayed message of mine was stored: it is no longer pending (and is not sent again).
        const mine = new Set(
          a.messages.flatMap((m) => (m.from === s.me?.id && m.cid ? [m.cid] : [])),
        );
        return {
          ...c,
          messages,
          pending: mine.size ? c.pending.filter((p) => !mine.has(p.cid)) : c.pending,
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
    case "draft":
      return withConv(s, a.conv, (c) => {
        // Already stored (a late draft frame): nothing to show.
        if (c.messages.some((m) => m.cid === a.cid && m.from === a.from)) return c;
        const typing = { ...c.typing };
        delete typing[a.from];
        const draft = { from: a.from, cid: a.cid, text: a.text, until: now + DRAFT_SHOW_MS };
        return { ...c, typing, drafts: { ...c.drafts, [a.cid]: draft } };
      });
    case "typing_expire": {
      let changed = false;
      const convs: Record<string, ConvState> = {};
      for (const [id, c] of Object.entries(s.convs)) {
        const live = Object.entries(c.typing).filter(([, until]) => until > a.now);
        const drafts = Object.values(c.drafts ?? {});
        const liveDrafts = drafts.filter((d) => d.until > a.now);
        if (live.length !== Object.keys(c.typing).length || liveDrafts.length !== drafts.length) {
          changed = true;
          convs[id] = {
            ...c,
            typing: Object.fromEntries(live),
            drafts: Object.fromEntries(liveDrafts.map((d) => [d.cid, d])),
          };
        } else convs[id] = c;
      }
      return changed ? { ...s, convs } : s;
    }
    case "profile": {
      // A new name or picture: everywhere it shows (cards, DM titles, friends, my own).
      const u = a.user;
      const convs: Record<string, ConvState> = {};
      for (const [id, c] of Object.entries(s.convs)) {
        convs[id] = c.summary.peer?.id === u.id
          ? { ...c, summary: { ...c.summary, peer: { ...c.summary.peer, ...u } } }
          : c;
      }
      const f = s.friends[u.id];
      return {
        ...s,
        convs,
        me: s.me?.id === u.id ? { ...s.me, ...u } : s.me,
        users: { ...s.users, [u.id]: { ...s.users[u.id], ...u } },
        friends: f ? { ...s.friends, [u.id]: { ...f, user: { ...f.user, ...u } } } : s.friends,
      };
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
          pending: [...c.pending, {
            cid: a.cid,
            text: a.text,
            at: a.at,
            state: "pending",
            ...(a.reply !== undefined ? { reply: a.reply } : {}),
            ...(a.media ? { media: a.media } : {}),
            ...(a.mentions ? { mentions: a.mentions } : {}),
          }],
        }),
      );
    case "local_media":
      return withConv(s, a.conv, (c) => ({
        ...c,
        pending: c.pending.map((p) =>
          p.cid === a.cid && p.media
            ? { ...p, media: { ...p.media, progress: a.progress, ...(a.id ? { id: a.id } : {}) } }
            : p
        ),
      }));
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
  return unreadOf(c.summary);
}

/** Unread messages in all conversations but the muted ones: the tab title's and the Chats badge's. */
export function unreadAll(s: ChatState, muted: ReadonlySet<string>): number {
  return unreadTotal(Object.values(s.convs).map((c) => c.summary), muted);
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
