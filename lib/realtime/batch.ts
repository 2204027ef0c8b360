/**
 * What waits in a shard writer's queue, and how much of it one atomic write can take: KV allows
 * 100 checks and 1000 mutations per atomic op, and a commit of many items must stay well inside.
 */
import type { Ack, MsgInput } from "../chat/events.ts";
import type { FanEvent, Write } from "./fan_event.ts";

const BATCH_MAX_ITEMS = 200;
const BATCH_MAX_CHECKS = 90;
/** KV allows 1000 mutations per atomic op. */
const BATCH_MAX_MUTATIONS = 900;
const BATCH_MAX_BYTES = 500_000;

export interface MsgItem {
  t: "msg";
  input: MsgInput;
  resolve: (a: Ack) => void;
  reject: (e: Error) => void;
  done?: boolean;
}

export interface EventItem {
  t: "event";
  ev: FanEvent | null;
  writes?: Write[];
  resolve: () => void;
  reject: (e: Error) => void;
  done?: boolean;
}

export type Item = MsgItem | EventItem;

function sizeOf(item: Item): number {
  return item.t === "msg" ? item.input.text.length * 3 + 600 : 400;
}

/** Conversation and (conversation, sender) keys, as the batch and the cache name them. */
export const pairKey = (conv: string, sender: string) => `${conv}\u0000${sender}`;

/**
 * The items at the head of the queue that go into the next commit.
 *
 * Checks in one commit: the fan head, one per conversation head, one per (conversation, sender)
 * membership, plus whatever prepare() adds (its reads, else up to 5). Mutations: a message writes
 * itself, its client id, its sender's read cursor and (counted as if alone) a fan-out entry
 * (prepare() up to 5 more), a
 * conversation its head, an event itself and its writes, the batch the fan head.
 */
export function takeBatch(queue: Item[]): Item[] {
  const batch: Item[] = [];
  let bytes = 0;
  let checks = 1;
  let mutations = 1;
  const seen = new Set<string>();
  const exclusive = new Set<string>();
  for (const next of queue) {
    if (batch.length >= BATCH_MAX_ITEMS) break;
    const cost = costOf(next, seen);
    if (next.t === "msg" && batch.length && excluded(next.input, seen, exclusive)) break;
    if (
      batch.length &&
      (bytes + sizeOf(next) > BATCH_MAX_BYTES || checks + cost.checks > BATCH_MAX_CHECKS ||
        mutations + cost.mutations > BATCH_MAX_MUTATIONS)
    ) break;
    if (next.t === "msg" && next.input.exclusive) exclusive.add(next.input.conv);
    batch.push(next);
    bytes += sizeOf(next);
    checks += cost.checks;
    mutations += cost.mutations;
    for (const k of cost.newKeys) seen.add(k);
  }
  return batch;
}

/** What one more item adds to the commit, given the keys the batch checks already. */
function costOf(item: Item, seen: Set<string>) {
  if (item.t === "event") {
    return { checks: 0, mutations: 1 + (item.writes?.length ?? 0), newKeys: [] as string[] };
  }
  const { conv, sender, checkMember, prepare } = item.input;
  const newKeys: string[] = [];
  if (!seen.has(conv)) newKeys.push(conv);
  const pair = pairKey(conv, sender);
  if (checkMember && !seen.has(pair)) newKeys.push(pair);
  return {
    checks: newKeys.length + (prepare ? item.input.reads?.length ?? 5 : 0),
    mutations: 4 + (seen.has(conv) ? 0 : 1) + (prepare ? 5 : 0),
    newKeys,
  };
}

/** An exclusive message commits without any other of its conversation (MsgInput.exclusive). */
function excluded(input: MsgInput, seen: Set<string>, exclusive: Set<string>): boolean {
  return exclusive.has(input.conv) || (!!input.exclusive && seen.has(input.conv));
}
