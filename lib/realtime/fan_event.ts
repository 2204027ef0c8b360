/**
 * What travels through the fan-out log, and which of its shards carries it. Every committed message
 * and event is an entry of one shard's log (lib/realtime/shard_writer.ts); this isolate delivers
 * its own at once, the others read them back (lib/realtime/watcher.ts).
 */
import type { Message, ServerFrame } from "../wire/protocol.ts";
import type { Control } from "../chat/events.ts";

export const SHARDS = 8;

/** Which shard carries a conversation's or a user's events (FNV-1a). */
export function shardOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SHARDS;
}

/** What travels through the fan-out log. */
export type FanEvent =
  | { t: "msg"; msg: Message }
  | { t: "conv"; conv: string; frame: ServerFrame; except?: string }
  | { t: "user"; user: string; frame?: ServerFrame; control?: Control }
  | { t: "presence"; user: string; online: boolean; lastSeen: number | null };

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

/** Called after a commit with the fan-out log entries it wrote (first..last). */
export type Committed = (shard: number, first: number, last: number) => void;
