/**
 * Finding messages by their words, in one conversation or in all of a user's: the log read
 * newest first, every word of the query found in the text (as a substring, so Chinese needs no
 * word splitting: 湖边 finds 我们去湖边吧), case and width folded. Never a message the user cannot
 * read: before they joined, meant for someone else only, recalled, or in a conversation they are
 * not in. Bounded: a search reads at most SCAN_PER_CONV messages of a conversation per call, so it
 * costs the same whatever is asked; one conversation is paged on with `next`.
 */
import { keys } from "../kv/keys.ts";
import type { Message } from "../wire/protocol.ts";
import { visibleTo } from "./history.ts";
import { getMember, listUserConvs } from "./conversations.ts";

export const SCAN_PER_CONV = 2000;
/** Conversations one search over all of them reads (the newest ones), and how far back in each. */
export const SCAN_CONVS = 50;
export const SCAN_PER_CONV_ALL = 500;
export const SEARCH_HITS = 30;

/** Lower case, full-width letters and digits as their ASCII forms, composed accents. */
export function fold(text: string): string {
  return text.normalize("NFKC").toLowerCase();
}

export function matches(text: string, terms: string[]): boolean {
  const t = fold(text);
  return terms.every((w) => t.includes(w));
}

export function termsOf(q: string): string[] {
  return fold(q).split(/\s+/).filter(Boolean);
}

/**
 * Hits in one conversation below seq `before` (all when undefined), newest first, and where to go
 * on; null when the user is not a member.
 */
export async function searchConv(
  kv: Deno.Kv,
  conv: string,
  userId: string,
  q: string,
  before?: number,
  scan = SCAN_PER_CONV,
  max = SEARCH_HITS,
): Promise<{ hits: Message[]; next?: number } | null> {
  const member = await getMember(kv, conv, userId);
  if (!member) return null;
  const terms = termsOf(q);
  const floor = member.joinedSeq;
  if (before !== undefined && before <= floor + 1) return { hits: [] };
  const start = keys.msg(conv, floor + 1);
  const sel = before === undefined
    ? { prefix: keys.msgs(conv), start }
    : { start, end: keys.msg(conv, before) };
  const hits: Message[] = [];
  let read = 0;
  let last: number | undefined;
  for await (
    const e of kv.list<Message>(sel as Deno.KvListSelector, { reverse: true, batchSize: 500 })
  ) {
    const m = e.value;
    last = m.seq;
    read++;
    if (
      m.kind === "text" && !m.recalled && m.text && visibleTo(m, userId) && matches(m.text, terms)
    ) {
      hits.push(m);
      if (hits.length === max) break;
    }
    if (read === scan) break;
  }
  const more = last !== undefined && last > floor + 1 && (hits.length === max || read === scan);
  return more ? { hits, next: last } : { hits };
}

/**
 * Hits in all the user's conversations (the SCAN_CONVS newest, the SCAN_PER_CONV_ALL newest
 * messages of each, five conversations at a time), newest first.
 */
export async function searchAll(kv: Deno.Kv, userId: string, q: string): Promise<Message[]> {
  const entries = (await listUserConvs(kv, userId))
    .sort((a, b) => b.convId.localeCompare(a.convId))
    .slice(0, SCAN_CONVS);
  const hits: Message[] = [];
  for (let i = 0; i < entries.length; i += 5) {
    const part = await Promise.all(
      entries.slice(i, i + 5).map((e) =>
        searchConv(kv, e.convId, userId, q, undefined, SCAN_PER_CONV_ALL)
      ),
    );
    for (const r of part) hits.push(...(r?.hits ?? []));
  }
  return hits.sort((a, b) => b.at - a.at).slice(0, SEARCH_HITS);
}
