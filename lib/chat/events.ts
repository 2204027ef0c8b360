/**
 * What the domain (friends, groups, chat) needs of the realtime engine, and nothing more: commit a
 * message together with the domain's own atomic writes, and notify users or a conversation's
 * sockets. It is defined here, on the domain side, so that the domain imports nothing from
 * lib/realtime (the layer rule: realtime may import the domain, never the other way round).
 * lib/realtime implements it (realtime.ts `events`); an engine with other log heads or more
 * isolates replaces that implementation without touching friends or groups. This is centrifuge's
 * broker/hub split: the domain sees a broker, never the hub, the log's shards or the sockets.
 */
import type { Member } from "./conversations.ts";
import type { Message, MsgKind, ServerFrame } from "../wire/protocol.ts";

/** What every domain command runs with: the store, the one clock, the engine's narrow face. */
export interface DomainDeps {
  readonly kv: Deno.Kv;
  now(): number;
  readonly events: Events;
}

export interface Events {
  /**
   * Commits a message with the writes of its prepare(), in one atomic write that gives it the
   * next seq of its conversation; resolves with its ack once durable. A retried cid resolves with
   * the first ack.
   */
  commit(input: MsgInput): Promise<Ack>;
  /** Tells every socket of each of these users, on every isolate (a frame, a control, or both). */
  toUsers(users: string[], signal: UserSignal): Promise<void>;
  /** Tells every socket subscribed to a conversation, but those of `except`. */
  toConv(conv: string, frame: ServerFrame, except?: string): Promise<void>;
}

/** What a user's sockets are told: a frame for the client, and/or a control for the socket. */
export interface UserSignal {
  frame?: ServerFrame;
  control?: Control;
}

/** Control signals for a user's sockets. */
export type Control =
  | { kind: "session_revoked"; sessionId: string }
  | { kind: "all_sessions_revoked"; keep?: string }
  | { kind: "conv_added"; conv: string }
  | { kind: "conv_removed"; conv: string };

export interface Ack {
  conv: string;
  seq: number;
  at: number;
  id: string;
  cid: string;
  duplicate: boolean;
}

/** A message to commit. The sender is always set by the server, never taken from a frame. */
export interface MsgInput {
  conv: string;
  sender: string;
  cid: string;
  kind: MsgKind;
  text: string;
  meta?: Message["meta"];
  /** Refuse unless the sender is a member (false for system messages). */
  checkMember: boolean;
  /**
   * With checkMember: may this member send now? Throws to refuse (e.g. muted). It sees the
   * membership that the commit checks, so a change to it makes the commit retry.
   */
  admit?: (member: Member, now: number) => void;
  /**
   * Extra writes committed with the message (e.g. a membership change), redone on every attempt.
   * It gets the entries of `reads`, read with the batch (one KV read for many messages).
   */
  prepare?: (read: Deno.KvEntryMaybe<unknown>[]) => Promise<Prepared>;
  /** Keys prepare() needs; with them given, it checks at most these (else up to 5 checks). */
  reads?: Deno.KvKey[];
  /**
   * Commit without any other message of the same conversation in the same write. Needed when
   * prepare() writes what later messages read (members, member count): prepares committed
   * together all read the state before that write, and KV checks in one commit all see that state
   * too, so two joins committed together would both pass a cap check, and a removed member's
   * message committed with their removal would still pass the membership check.
   */
  exclusive?: boolean;
}

/** What prepare() returns: checks and writes to commit with the message, and who may see it. */
export interface Prepared {
  checks: Deno.AtomicCheck[];
  apply: (op: Deno.AtomicOperation, seq: number) => void;
  /** Store the message visible to this user only (a blocked sender's message: sent, not delivered). */
  only?: string;
  /** Fields the rules decided for the new message (the message it answers, its upload). */
  fields?: Pick<Message, "reply" | "media" | "mentions">;
}
