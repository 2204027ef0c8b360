/**
 * The HTTP API's payloads (docs/api.md) that the server sends and the islands read: types only.
 * The WebSocket frames and the cards they carry (UserCard, FriendView, RequestView) are in
 * ./protocol.ts, roles in ./roles.ts.
 */
import type { FriendView, RequestView, UserCard } from "./protocol.ts";
import type { Role } from "./roles.ts";
import type { Gender } from "./validate.ts";

/** Every error answer: `{ error: ApiError }` (lib/http/app.ts toErrorResponse). */
export interface ApiError {
  code: string;
  message: string;
  field?: string;
  /** Seconds, with 429 (also in the Retry-After header). */
  retryAfter?: number;
}

/** What anyone logged in may see of a user: never the e-mail. */
export interface PublicUser extends UserCard {
  gender: Gender;
  region: string;
  bio: string;
  website: string;
}

/** GET /api/auth/sessions: one logged-in device. */
export interface SessionView {
  id: string;
  createdAt: number;
  lastSeenAt: number;
  userAgent: string;
  ip: string;
  /** The session of the request that asked. */
  current: boolean;
}

/** How the searcher stands with someone found by GET /api/users/search. */
export type Relation = "friend" | "pending" | "none";

/** One search result: never the e-mail. `remark` is the searcher's alias for a friend. */
export interface PersonResult {
  user: UserCard;
  remark: string;
  relation: Relation;
}

/** How the viewer stands with someone, as their profile page starts. */
export interface RelationView {
  friend: FriendView | null;
  incoming: RequestView | null;
  outgoing: boolean;
  blocked: boolean;
}

/** GET /api/friends: what the contacts pages start from. */
export interface FriendsSnapshot {
  friends: FriendView[];
  incoming: RequestView[];
  outgoing: RequestView[];
  blocked: string[];
}

export interface GroupMemberView {
  id: string;
  username: string;
  nickname: string;
  avatarUrl: string | null;
  role: Role;
  /** The member's own name in this group, or "". */
  displayName: string;
  /** While muted: until when (ms); otherwise null. */
  mutedUntil: number | null;
}

/** A public group as search results and non-members see it. */
export interface GroupCard {
  id: string;
  title: string;
  avatarUrl: string | null;
  memberCount: number;
  public: boolean;
}

/** The whole group, as its members see it. */
export interface GroupInfo extends GroupCard {
  notice: { text: string; by: string; at: number } | null;
  memberInvite: boolean;
  cap: number;
  myRole: Role;
  /** Owner, then admins, then members, each in the order they joined. */
  members: GroupMemberView[];
}

/** A group as the islands hold it: a non-member's preview has no role and no members. */
export type GroupView =
  & Omit<GroupInfo, "myRole" | "members">
  & Partial<Pick<GroupInfo, "myRole" | "members">>;

/** GET /api/groups/:id/invites: one invite link (the token is shown only once, when made). */
export interface InviteView {
  id: string;
  createdAt: number;
  expiresAt: number | null;
  /** Who made it. */
  by?: string;
}

/** What the owner sees of one of their bots (GET /api/bots, docs/api.md#bots). */
export interface BotView {
  id: string;
  username: string;
  name: string;
  description: string;
  avatarUrl: string | null;
  /** False after a revocation, until a new token is made. */
  hasToken: boolean;
  webhookUrl: string | null;
  /** The key of the webhooks' HMAC-SHA256 signature. */
  webhookSecret: string;
  createdAt: number;
}
