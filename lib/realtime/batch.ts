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

/** The conversation and sender of a pairKey(). */
export const splitPair = (pair: string) => pair.split("\u0000") as [conv: string, sender: string];

/**
 * The items at the head of the queue that go into the next commit.
 *
 * Checks in one commit: one per conversation head (it covers the memberships, which change only
 * with a message that moves it), plus whatever prepare() adds (its reads, else up to 5).
 * Mutations: a message writes itself and (counted as if alone) a fan-out entry, a (conversation,
 * sender) its record and perhaps a read cursor (a sender dropped from the head's `by`), a
 * conversation its head, prepare() up to 5 more, an event itself and its writes, the batch the
 * stream's head.
 */
export function takeBatch(queue: Item[]): Item[] {
  const batch: Item[] = [];
  let bytes = 0;
  let checks = 0;
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
  const { conv, sender, prepare } = item.input;
  const newKeys: string[] = [];
  const newConv = !seen.has(conv);
  if (newConv) newKeys.push(conv);
  const pair = pairKey(conv, sender);
  const newPair = !seen.has(pair);
  if (newPair) newKeys.push(pair);
  return {
    checks: (newConv ? 1 : 0) + (prepare ? item.input.reads?.length ?? 5 : 0),
    mutations: 2 + (newPair ? 2 : 0) + (newConv ? 1 : 0) + (prepare ? 5 : 0),
    newKeys,
  };
}

/** An exclusive message commits without any other of its conversation (MsgInput.exclusive). */
function excluded(input: MsgInput, seen: Set<string>, exclusive: Set<string>): boolean {
  return exclusive.has(input.conv) || (!!input.exclusive && seen.has(input.conv));
}
