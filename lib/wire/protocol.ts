/**
 * The WebSocket protocol (docs/protocol.md): frame types, validation of client frames, close
 * codes. Pure and shared by the server and the browser client.
 */
import type { Role } from "./roles.ts";

export const PROTOCOL_VERSION = 1;
/**
 * UTF-8 bytes of one client frame. A send frame with the longest text fits in any script and any
 * JSON escaping: at most 12 bytes per code point (an emoji as two \uXXXX escapes) is 48,000
 * bytes, plus under 300 bytes of fields at their longest.
 */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Code points of a message's text after trimming. */
export const MAX_TEXT_CHARS = 4000;
export const HISTORY_PAGE_MAX = 100;
/**
 * A history page (and a sync answer) holds at most this many UTF-16 units of text, counting 200
 * per message for its fields: about 25 messages of the longest kind, 100 of ordinary ones.
 */
export const HISTORY_PAGE_MAX_CHARS = 100_000;
/** At most this many missed messages per conversation are replayed on resume; past it, "gap". */
export const RESUME_MAX_PER_CONV = 200;

/** Close codes: 4000–4499 mean "reconnect (with backoff) and resume"; 4500–4999 mean "do not". */
export const CLOSE = {
  shutdown: 4000,
  idle: 4001,
  slowConsumer: 4002,
  flood: 4003,
  unauthorized: 4500,
  badVersion: 4501,
  badFrames: 4502,
  tooManySockets: 4503,
  frameTooLarge: 4504,
} as const;

export function shouldReconnect(code: number): boolean {
  return code < 4500 || code > 4999;
}

/**
 * "update" entries change an earlier message (meta.event "recall" or "react", meta.target its
 * seq); the server has already rewritten the target in storage, and clients apply them to the
 * copy they hold. A client that does not know a kind shows its `text` (docs/protocol.md).
 */
export type MsgKind = "text" | "system" | "update";

/** How long after sending the sender may recall a message (owners and admins of a group: any time). */
export const RECALL_WINDOW_MS = 2 * 60_000;
/** People one message may call by @name. */
export const MAX_MENTIONS = 20;

/** A conversation's unread messages (recalls and reactions above the read cursor do not count). */
export function unreadOf(s: Pick<ConvSummary, "lastSeq" | "readSeq" | "updates">): number {
  const notMessages = s.updates?.filter((seq) => seq > s.readSeq && seq <= s.lastSeq).length ?? 0;
  return Math.max(0, s.lastSeq - s.readSeq - notMessages);
}

/**
 * The unread messages of all conversations but the muted ones (免打扰): the tab's title and the
 * Chats tab's badge, from the server's first paint and the client's state alike.
 */
export function unreadTotal(
  convs: Iterable<Pick<ConvSummary, "id" | "lastSeq" | "readSeq" | "updates">>,
  muted: ReadonlySet<string>,
): number {
  let n = 0;
  for (const s of convs) if (!muted.has(s.id)) n += unreadOf(s);
  return n;
}
/** Characters of a search query. */
export const SEARCH_MAX_CHARS = 100;
/** Distinct reaction emoji one message holds at most. */
export const MAX_REACTIONS = 20;

export interface Message {
  conv: string;
  seq: number;
  id: string;
  from: string;
  kind: MsgKind;
  text: string;
  at: number;
  /** The sender's client message id (lets the sending tab match its pending message). */
  cid?: string;
  /** Set when only this user may see the message (sent by someone the other party blocked). */
  only?: string;
  /** For system messages: what happened; for updates: which message, and how it changed. */
  meta?: {
    event: string;
    userId?: string;
    by?: string;
    title?: string;
    text?: string;
    until?: number;
    role?: string;
    /** Updates: the seq of the message they change. */
    target?: number;
    /** "react": the emoji, and whether the sender adds (true) or takes back (false) theirs. */
    emoji?: string;
    on?: boolean;
  };
  /**
   * A picture (its size, and its thumbnail's) or a file (its name) sent with the message, served
   * at /media/<conv>/<id>/full and /thumb to members (docs/api.md#media); `text` is its caption.
   */
  media?: {
    id: string;
    kind: "image" | "file";
    size: number;
    name?: string;
    w?: number;
    h?: number;
    tw?: number;
    th?: number;
  };
  /** Groups: the members it calls by @name ("all": everyone, said by an owner or admin). */
  mentions?: string[];
  /** The message this one answers (its sender; the quote's text is read from the original). */
  reply?: { seq: number; from: string };
  /** Set when its sender (or a group owner or admin, `by`) took it back: its text is gone. */
  recalled?: { by: string; at: number };
  /** Reactions: emoji → the users who reacted with it, in order. */
  reactions?: Record<string, string[]>;
  /** The seq of the last update applied to this message (so applying one twice changes nothing). */
  upd?: number;
}

/** A conversation's newest message as its list entry shows it (the text cut to 120 characters). */
export type LastPreview = {
  from: string;
  kind: string;
  text: string;
  meta?: Message["meta"];
  /** A picture or file sent with it. */
  media?: "image" | "file";
} | null;

/** One conversation as the list shows it. */
export interface ConvSummary {
  id: string;
  kind: "dm" | "group" | "bot";
  title: string;
  /** DM/bot: the other party's profile. */
  peer?: {
    id: string;
    username: string;
    nickname: string;
    avatarUrl: string | null;
    online?: boolean;
    lastSeen?: number | null;
  };
  lastSeq: number;
  lastAt: number;
  last: LastPreview;
  /** The viewer's read cursor. */
  readSeq: number;
  /** Groups: the newest message that called this user by @name (or @all), if still remembered. */
  mentionSeq?: number;
  /** Seqs above `readSeq` that are recalls or reactions, not messages: not counted as unread. */
  updates?: number[];
  /** DM: how far the other person has read (for "read" marks). */
  peerReadSeq?: number;
  /** Groups: */
  memberCount?: number;
  role?: Role;
  avatarUrl?: string | null;
  notice?: { text: string; by: string; at: number } | null;
  public?: boolean;
  memberInvite?: boolean;
}

export interface UserCard {
  id: string;
  username: string;
  nickname: string;
  avatarUrl: string | null;
}

/** A friend as their friend sees them: with the private remark (alias) that replaces the nickname. */
export interface FriendView {
  user: UserCard;
  remark: string;
  since: number;
  /** The DM conversation. */
  dm: string;
  /** Index letter in contacts: "A"–"Z" (pinyin initial for Chinese names) or "#". */
  initial: string;
  /** A Chinese name as typed in pinyin, for search: "zhangsan zs" (absent for other names). */
  spell?: string;
}

export interface RequestView {
  user: UserCard;
  note: string;
  at: number;
}

// ---- client → server ----
export type ClientFrame =
  | { type: "hello"; v: number; resume?: Record<string, number>; tz?: string }
  | {
    type: "send";
    rid?: string;
    conv: string;
    cid: string;
    text: string;
    reply?: number;
    media?: string;
    mentions?: string[];
  }
  | { type: "recall"; rid?: string; conv: string; seq: number }
  | { type: "search"; rid?: string; q: string; conv?: string; before?: number }
  | {
    type: "react";
    rid?: string;
    conv: string;
    cid: string;
    seq: number;
    emoji: string;
    on: boolean;
  }
  | { type: "history"; rid?: string; conv: string; before?: number; limit?: number }
  | { type: "sync"; rid?: string; conv: string; after: number }
  | { type: "read"; conv: string; seq: number }
  | { type: "typing"; conv: string }
  | { type: "receipts"; rid?: string; conv: string }
  | { type: "members"; rid?: string; conv: string }
  | { type: "ping"; rid?: string };

/** Every client frame type, for tests and tools that generate frames. */
export const CLIENT_FRAME_TYPES = [
  "hello",
  "send",
  "recall",
  "react",
  "search",
  "history",
  "sync",
  "read",
  "typing",
  "receipts",
  "members",
  "ping",
] as const satisfies readonly ClientFrame["type"][];
// A client frame type missing above fails to compile here (a type check, nothing runs).
type Unlisted = Exclude<ClientFrame["type"], (typeof CLIENT_FRAME_TYPES)[number]>;
const _everyTypeListed: [Unlisted] extends [never] ? true : Unlisted = true;

// ---- server → client ----
export type ServerFrame =
  | { type: "welcome"; v: number; me: UserCard; convs: ConvSummary[]; isolate: string }
  | { type: "msg"; msg: Message }
  | { type: "ack"; rid?: string; cid: string; conv: string; seq: number; at: number; id: string }
  | { type: "error"; rid?: string; cid?: string; code: string; message: string }
  | { type: "history"; rid?: string; conv: string; messages: Message[]; hasMore: boolean }
  | { type: "gap"; conv: string; after: number; lastSeq: number }
  | { type: "synced"; rid?: string; conv: string; lastSeq: number }
  | { type: "read"; conv: string; user: string; seq: number }
  | { type: "typing"; conv: string; user: string }
  | {
    /**
     * A message being written (the bot's streamed answer): the whole text so far, again on every
     * step. The message stored with the same `cid` from the same sender replaces it; a draft not
     * renewed for DRAFT_SHOW_MS is dropped (docs/protocol.md#drafts).
     */
    type: "draft";
    conv: string;
    from: string;
    cid: string;
    text: string;
  }
  | { type: "presence"; user: string; online: boolean; lastSeen: number | null }
  /** Someone's name or picture changed: shown everywhere at once (docs/protocol.md). */
  | { type: "profile"; user: UserCard }
  | { type: "receipts"; rid?: string; conv: string; reads: Record<string, number> }
  | {
    type: "members";
    rid?: string;
    conv: string;
    /** With each member's own name in this group, when they set one. */
    members: (UserCard & { role: string; displayName?: string })[];
  }
  | { type: "conv"; conv: ConvSummary }
  | { type: "conv_removed"; conv: string }
  | { type: "resumed" }
  | { type: "friend"; friend: FriendView }
  | { type: "friend_removed"; user: string }
  | { type: "friend_request"; request: RequestView }
  | { type: "friend_request_gone"; user: string }
  | { type: "blocked"; user: string; blocked: boolean }
  | { type: "members_changed"; conv: string }
  | { type: "join_request"; conv: string; request: RequestView }
  | { type: "pong"; rid?: string }
  | {
    type: "search";
    rid?: string;
    q: string;
    /** Matching messages, newest first. */
    hits: Message[];
    /** In one conversation: where to go on (`before` of the next search); absent at its start. */
    next?: number;
  };

export type FrameError = { code: "bad_frame"; message: string };

const ID_RE = /^[0-9a-z]{1,40}$/;
const CID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const RID_RE = /^[A-Za-z0-9_-]{1,64}$/;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function isSeq(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}
function bad(message: string): FrameError {
  return { code: "bad_frame", message };
}

/** Parses and validates one client frame. Returns the frame, or an error saying what is wrong. */
export function parseClientFrame(raw: string): ClientFrame | FrameError {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return bad("Frame is not valid JSON");
  }
  if (!isObj(v)) return bad("Frame must be a JSON object");
  if (v.rid !== undefined && (typeof v.rid !== "string" || !RID_RE.test(v.rid))) {
    return bad('Field "rid" is invalid');
  }
  const conv = v.conv;
  const convOk = typeof conv === "string" && ID_RE.test(conv);
  const rid = v.rid as string | undefined;
  switch (v.type) {
    case "hello": {
      if (typeof v.v !== "number") return bad('Field "v" (protocol version) is required');
      if (v.resume !== undefined) {
        if (!isObj(v.resume)) return bad('Field "resume" must be an object of conversation → seq');
        const entries = Object.entries(v.resume);
        if (entries.length > 2000) return bad('Field "resume" has too many conversations');
        for (const [k, s] of entries) {
          if (!ID_RE.test(k) || !isSeq(s)) {
            return bad(`Resume entry "${k.slice(0, 40)}" is invalid`);
          }
        }
      }
      if (
        v.tz !== undefined && (typeof v.tz !== "string" || !/^[A-Za-z0-9_+\-/]{1,64}$/.test(v.tz))
      ) {
        return bad('Field "tz" must be a time zone name');
      }
      return {
        type: "hello",
        v: v.v,
        resume: v.resume as Record<string, number> | undefined,
        ...(v.tz !== undefined ? { tz: v.tz as string } : {}),
      };
    }
    case "send": {
      if (!convOk) return bad('Field "conv" is invalid');
      if (typeof v.cid !== "string" || !CID_RE.test(v.cid)) {
        return bad('Field "cid" (client message id) is invalid');
      }
      if (typeof v.text !== "string") return bad('Field "text" must be a string');
      if (
        v.mentions !== undefined &&
        (!Array.isArray(v.mentions) || v.mentions.length > MAX_MENTIONS ||
          !v.mentions.every((u) => typeof u === "string" && (u === "all" || ID_RE.test(u))))
      ) {
        return bad(`Field "mentions" must be up to ${MAX_MENTIONS} user ids or "all"`);
      }
      if (v.media !== undefined && (typeof v.media !== "string" || !ID_RE.test(v.media))) {
        return bad('Field "media" must be the id of an upload');
      }
      const text = v.text.trim();
      if (!text && v.media === undefined) return bad("Message is empty");
      if ([...text].length > MAX_TEXT_CHARS) {
        return bad(`Message is longer than ${MAX_TEXT_CHARS} characters`);
      }
      if (v.reply !== undefined && (!isSeq(v.reply) || v.reply < 1)) {
        return bad('Field "reply" must be the seq of a message');
      }
      return {
        type: "send",
        rid,
        conv: conv as string,
        cid: v.cid,
        text,
        ...(v.reply !== undefined ? { reply: v.reply as number } : {}),
        ...(v.media !== undefined ? { media: v.media as string } : {}),
        ...(v.mentions !== undefined ? { mentions: [...new Set(v.mentions as string[])] } : {}),
      };
    }
    case "search": {
      if (v.conv !== undefined && !convOk) return bad('Field "conv" is invalid');
      if (typeof v.q !== "string") return bad('Field "q" must be a string');
      const q = v.q.trim();
      if (!q || [...q].length > SEARCH_MAX_CHARS) {
        return bad(`Field "q" must be 1–${SEARCH_MAX_CHARS} characters`);
      }
      if (v.before !== undefined && (!isSeq(v.before) || v.conv === undefined)) {
        return bad('Field "before" must be a seq, with "conv"');
      }
      return {
        type: "search",
        rid,
        q,
        ...(v.conv !== undefined ? { conv: v.conv as string } : {}),
        ...(v.before !== undefined ? { before: v.before as number } : {}),
      };
    }
    case "recall":
      if (!convOk) return bad('Field "conv" is invalid');
      if (!isSeq(v.seq) || v.seq < 1) return bad('Field "seq" must be the seq of a message');
      return { type: "recall", rid, conv: conv as string, seq: v.seq };
    case "react": {
      if (!convOk) return bad('Field "conv" is invalid');
      if (typeof v.cid !== "string" || !CID_RE.test(v.cid)) {
        return bad('Field "cid" (client message id) is invalid');
      }
      if (!isSeq(v.seq) || v.seq < 1) return bad('Field "seq" must be the seq of a message');
      if (typeof v.emoji !== "string" || !isEmoji(v.emoji)) {
        return bad('Field "emoji" must be one emoji');
      }
      if (typeof v.on !== "boolean") return bad('Field "on" must be true or false');
      return {
        type: "react",
        rid,
        conv: conv as string,
        cid: v.cid,
        seq: v.seq,
        emoji: v.emoji,
        on: v.on,
      };
    }
    case "history": {
      if (!convOk) return bad('Field "conv" is invalid');
      if (v.before !== undefined && !isSeq(v.before)) return bad('Field "before" must be a seq');
      if (v.limit !== undefined && (!isSeq(v.limit) || v.limit < 1 || v.limit > HISTORY_PAGE_MAX)) {
        return bad(`Field "limit" must be 1–${HISTORY_PAGE_MAX}`);
      }
      return {
        type: "history",
        rid,
        conv: conv as string,
        before: v.before as number | undefined,
        limit: v.limit as number | undefined,
      };
    }
    case "sync":
      if (!convOk) return bad('Field "conv" is invalid');
      if (!isSeq(v.after)) return bad('Field "after" must be a seq');
      return { type: "sync", rid, conv: conv as string, after: v.after };
    case "read":
      if (!convOk) return bad('Field "conv" is invalid');
      if (!isSeq(v.seq)) return bad('Field "seq" must be a seq');
      return { type: "read", conv: conv as string, seq: v.seq };
    case "typing":
      if (!convOk) return bad('Field "conv" is invalid');
      return { type: "typing", conv: conv as string };
    case "receipts":
    case "members":
      if (!convOk) return bad('Field "conv" is invalid');
      return { type: v.type, rid, conv: conv as string };
    case "ping":
      return { type: "ping", rid };
    default:
      // Never String(v.type): a JSON object like {"toString":1} throws when converted.
      if (typeof v.type !== "string") return bad('Field "type" must be a string');
      return bad(`Unknown frame type "${v.type.slice(0, 30)}"`);
  }
}

/**
 * One emoji as people type it: a pictograph with its modifiers, joiners and variation selectors,
 * a flag, or a keycap; at most 32 UTF-16 units (the longest family and flag sequences fit).
 */
const EMOJI_RE =
  /^(?:\p{Regional_Indicator}\p{Regional_Indicator}|[#*0-9]\uFE0F?\u20E3|\p{Extended_Pictographic}[\p{Emoji_Modifier}\uFE0F\u20E3\u{E0020}-\u{E007F}]*(?:\u200D\p{Extended_Pictographic}[\p{Emoji_Modifier}\uFE0F]*)*)$/u;

export function isEmoji(s: string): boolean {
  return s.length > 0 && s.length <= 32 && EMOJI_RE.test(s);
}

export function isFrameError(v: ClientFrame | FrameError): v is FrameError {
  return (v as FrameError).code === "bad_frame";
}
