/** The chat client's state and the actions its reducer takes (lib/client/state.ts). */
import type { ConvSummary, Message, RequestView, ServerFrame, UserCard } from "../wire/protocol.ts";
import type { FriendView } from "../wire/protocol.ts";
import type { FriendsSnapshot } from "../wire/api.ts";

export interface Pending {
  cid: string;
  text: string;
  /** The seq of the message it answers. */
  reply?: number;
  /** Who it calls by @name. */
  mentions?: string[];
  /** A picture or file on its way: uploaded first (progress 0–1, then its id), then sent. */
  media?: PendingMedia;
  at: number;
  state: "pending" | "failed";
}

export interface PendingMedia {
  kind: "image" | "file";
  name: string;
  size: number;
  /** A picture's local preview (an object URL). */
  preview?: string;
  progress: number;
  /** Set once uploaded. */
  id?: string;
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
  /** Messages being written (the bot's streamed answers) by cid, until stored or stale. */
  drafts?: Record<string, Draft>;
}

/** A streamed message not stored yet (a "draft" frame). */
export interface Draft {
  from: string;
  cid: string;
  text: string;
  /** ms until which it is shown without a renewal. */
  until: number;
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
  | {
    type: "local_send";
    conv: string;
    cid: string;
    text: string;
    at: number;
    reply?: number;
    media?: PendingMedia;
    mentions?: string[];
  }
  | { type: "local_media"; conv: string; cid: string; progress: number; id?: string }
  | { type: "local_failed"; conv: string; cid: string }
  | { type: "local_retry"; conv: string; cid: string }
  | { type: "local_read"; conv: string; seq: number }
  | ({ type: "local_friends" } & FriendsSnapshot)
  | { type: "local_outgoing"; request: RequestView }
  | { type: "typing_expire"; now: number };
