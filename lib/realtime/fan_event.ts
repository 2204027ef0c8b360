/**
 * What travels through the fan-out streams, and which lane carries it. Each isolate commits through
 * LANES writers (lib/realtime/shard_writer.ts), each the only writer of its own stream
 * `[fan, isolate, lane, n]`; this isolate delivers its own events at once, the others read them
 * back (lib/realtime/watcher.ts). A conversation's messages always take the same lane here, so one
 * writer gives out its seqs and batches them.
 */
import type { Message, ServerFrame } from "../wire/protocol.ts";
import type { Control } from "../chat/events.ts";

/**
 * Writer lanes per isolate (at most 10: the keys one `kv.watch` call takes, its stream heads).
 * Each commit has a fixed cost in the store (about 0.2 ms of CPU on SQLite), so fewer lanes make
 * bigger batches and cost less per message; two keep one lane's cold reads (a conversation not
 * kept yet) from holding up every send.
 */
export const LANES = 2;

/** Which lane carries a conversation's or a user's events (FNV-1a). */
export function laneOf(id: string, lanes = LANES): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % lanes;
}

/** What travels through the fan-out log. */
export type FanEvent =
  | { t: "msg"; msg: Message }
  | { t: "conv"; conv: string; frame: ServerFrame; except?: string }
  | { t: "user"; user: string; frame?: ServerFrame; control?: Control }
  | { t: "presence"; user: string; online: boolean; lastSeen: number | null };

/**
 * A lane's stream head: the last entry's number and, when the last commit wrote that one entry
 * only, its events as well.
 */
export interface FanHead {
  n: number;
  evs?: FanEvent[];
}

/** Whatever hands events to this isolate's sockets (lib/realtime/hub.ts). */
export interface Dispatcher {
  dispatch(ev: FanEvent): void;
}

/** A small write committed with a shard's next batch: a set, or a delete when there is no value. */
export interface Write {
  key: Deno.KvKey;
  value?: unknown;
  expireIn?: number;
}
