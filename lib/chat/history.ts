/** Reading a conversation's log: pages backwards for history, ranges forwards for resume. */
import { keys } from "../kv/keys.ts";
import { HISTORY_PAGE_MAX_CHARS, type Message } from "../wire/protocol.ts";

/** What a message weighs in a page: its text in UTF-16 units, plus a little for the fields. */
export function pageCost(m: Message): number {
  return m.text.length + (m.meta?.text?.length ?? 0) + (m.meta?.title?.length ?? 0) + 200;
}

/**
 * Up to `limit` messages before seq `before` (exclusive; all when undefined), oldest first, and
 * no more than `maxChars` of them by pageCost (always at least one): one answer stays a few
 * hundred KB even when every message is as long as allowed. With `viewer`, only messages they
 * may see count: a page is never empty while older ones remain.
 */
export async function pageBefore(
  kv: Deno.Kv,
  conv: string,
  before: number | undefined,
  limit: number,
  floor = 0,
  viewer?: string,
  maxChars = HISTORY_PAGE_MAX_CHARS,
): Promise<{ messages: Message[]; hasMore: boolean }> {
  // Nothing readable lies below the floor; KV refuses a start key past the end key.
  if ((before !== undefined && before <= floor + 1) || limit < 1) {
    return { messages: [], hasMore: false };
  }
  const out: Message[] = [];
  const end = before === undefined ? undefined : keys.msg(conv, before);
  const start = keys.msg(conv, floor + 1);
  const sel = end ? { start, end } : { prefix: keys.msgs(conv), start };
  const opts = viewer === undefined
    ? { reverse: true, limit: limit + 1 }
    : { reverse: true, batchSize: limit + 1 };
  let chars = 0;
  let hasMore = false;
  for await (const e of kv.list<Message>(sel as Deno.KvListSelector, opts)) {
    if (viewer !== undefined && !visibleTo(e.value, viewer)) continue;
    const cost = pageCost(e.value);
    if (out.length === limit || (out.length && chars + cost > maxChars)) {
      hasMore = true;
      break;
    }
    out.push(e.value);
    chars += cost;
  }
  return { messages: out.reverse(), hasMore };
}

/** Messages with seq in (after, upTo], oldest first, at most `max`. */
export async function range(
  kv: Deno.Kv,
  conv: string,
  after: number,
  upTo: number,
  max: number,
): Promise<Message[]> {
  if (upTo <= after || max < 1) return [];
  const out: Message[] = [];
  const iter = kv.list<Message>(
    { start: keys.msg(conv, after + 1), end: keys.msg(conv, upTo + 1) },
    { limit: max },
  );
  for await (const e of iter) out.push(e.value);
  return out;
}

/** Whether `viewer` may see a message (messages from a blocked sender are the sender's only). */
export function visibleTo(m: Message, viewer: string): boolean {
  return !m.only || m.only === viewer;
}
