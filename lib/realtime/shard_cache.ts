/**
 * What a shard writer reads before each commit, and what it keeps between commits.
 *
 * Conversation heads and memberships it read or wrote are kept while the shard's fan head is
 * still the one this writer committed last, i.e. nobody else (another isolate) has committed to
 * the shard since: then only the fan head and the idempotency keys are read. Every commit still
 * checks each head and membership, so a stale entry can only fail a commit, which is then retried
 * with everything read afresh.
 */
import { keys } from "../kv/keys.ts";
import { type ConvHead, getManyChunked, type Member } from "../chat/conversations.ts";
import { type MsgItem, pairKey } from "./batch.ts";

const CACHE_MAX = 5000;

/** What one attempt read: the state its commit checks. */
export interface ReadState {
  fanHead: Deno.KvEntryMaybe<number>;
  /** Per message: its client id's first ack, when it was committed before. */
  clientIds: Deno.KvEntryMaybe<{ seq: number; at: number; id: string }>[];
  heads: Map<string, Deno.KvEntryMaybe<ConvHead>>;
  /** By pairKey(conv, sender), for the messages that check membership. */
  members: Map<string, Deno.KvEntryMaybe<Member>>;
  /** Per message: the entries of its `reads`. */
  reads: Deno.KvEntryMaybe<unknown>[][];
}

/** Which heads and memberships a read still needs. */
interface Wanted {
  h: string[];
  m: string[];
  keys: Deno.KvKey[];
}

export class ShardCache {
  /** The fan head's versionstamp after this writer's last commit (null: nothing cached). */
  #stamp: string | null = null;
  /** The last read found the cache stale (another isolate writes here too): read all at once. */
  #stale = false;
  #heads = new Map<string, Deno.KvEntry<ConvHead>>();
  #members = new Map<string, Deno.KvEntry<Member>>();

  constructor(private readonly kv: Deno.Kv, private readonly shard: number) {}

  forget(): void {
    this.#stamp = null;
    this.#heads.clear();
    this.#members.clear();
  }

  /**
   * Reads the fan head, the idempotency keys, and the heads and memberships that are not cached
   * (all of them when the cache is stale: then a second read).
   */
  async read(msgs: MsgItem[]): Promise<ReadState> {
    const convIds = [...new Set(msgs.map((m) => m.input.conv))];
    const memberPairs = [
      ...new Set(
        msgs.filter((m) => m.input.checkMember).map((m) => pairKey(m.input.conv, m.input.sender)),
      ),
    ];
    const heads = new Map<string, Deno.KvEntryMaybe<ConvHead>>();
    const members = new Map<string, Deno.KvEntryMaybe<Member>>();
    const take = (fromCache: boolean): Wanted => {
      const h = convIds.filter((c) => !heads.has(c) && !(fromCache && this.#heads.has(c)));
      const m = memberPairs.filter((p) => !members.has(p) && !(fromCache && this.#members.has(p)));
      return {
        h,
        m,
        keys: [
          ...h.map((c) => keys.convHead(c)),
          ...m.map((p) => keys.member(...(p.split("\u0000") as [string, string]))),
        ],
      };
    };
    const put = (want: Wanted, got: Deno.KvEntryMaybe<unknown>[]) => {
      want.h.forEach((c, i) => heads.set(c, got[i] as Deno.KvEntryMaybe<ConvHead>));
      want.m.forEach((p, i) => members.set(p, got[want.h.length + i] as Deno.KvEntryMaybe<Member>));
    };
    const first = take(this.#stamp !== null && !this.#stale);
    const { fanHead, clientIds, reads, rest } = await this.#readFirst(msgs, first.keys);
    put(first, rest);
    if (this.#stamp !== null) this.#stale = fanHead.versionstamp !== this.#stamp;
    if (this.#stale) this.forget();
    const missing = take(true);
    for (const c of convIds) {
      if (!heads.has(c) && !missing.h.includes(c)) heads.set(c, this.#heads.get(c)!);
    }
    for (const p of memberPairs) {
      if (!members.has(p) && !missing.m.includes(p)) members.set(p, this.#members.get(p)!);
    }
    if (missing.keys.length) put(missing, await getManyChunked<unknown>(this.kv, missing.keys));
    return { fanHead, clientIds, heads, members, reads };
  }

  /** One read for the fan head, every message's client id and `reads`, and `more` keys. */
  async #readFirst(msgs: MsgItem[], more: Deno.KvKey[]) {
    const clientKeys = msgs.map((m) => keys.msgClient(m.input.conv, m.input.sender, m.input.cid));
    const extraKeys = msgs.flatMap((m) => m.input.reads ?? []);
    const entries = await getManyChunked<unknown>(this.kv, [
      keys.fanHead(this.shard),
      ...clientKeys,
      ...extraKeys,
      ...more,
    ]);
    const fanHead = entries[0] as Deno.KvEntryMaybe<number>;
    const clientIds = entries.slice(1, 1 + msgs.length) as ReadState["clientIds"];
    let at = 1 + msgs.length;
    const reads = msgs.map((m) => entries.slice(at, at += m.input.reads?.length ?? 0));
    return { fanHead, clientIds, reads, rest: entries.slice(at) };
  }

  /** Keeps what this commit checked or wrote, valid while the fan head stays at `stamp`. */
  remember(
    stamp: string,
    heads: Map<string, Deno.KvEntryMaybe<ConvHead>>,
    members: Map<string, Deno.KvEntryMaybe<Member>>,
    changed: Set<string>,
  ): void {
    if (this.#heads.size > CACHE_MAX || this.#members.size > CACHE_MAX) this.forget();
    this.#stamp = stamp;
    const convOf = (p: string) => p.slice(0, p.indexOf("\u0000"));
    for (const [c, h] of heads) if (h.value) this.#heads.set(c, h as Deno.KvEntry<ConvHead>);
    for (const [p, m] of members) {
      if (m.value && !changed.has(convOf(p))) this.#members.set(p, m as Deno.KvEntry<Member>);
      else this.#members.delete(p);
    }
    if (changed.size) {
      for (const p of this.#members.keys()) if (changed.has(convOf(p))) this.#members.delete(p);
    }
  }
}
