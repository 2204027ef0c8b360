/**
 * What a lane's writer reads before each commit, and what it keeps between commits.
 *
 * Conversation heads, memberships, the senders' records and the keys that send rules read are
 * kept after a commit checked or wrote them, so a warm conversation commits without reading
 * anything first. That is safe because every commit checks them: each rule's reads, and each
 * conversation's head, which covers the rest. A membership changes only with a system message
 * and a sender's record only with a message, both moving the head in the same write, and what is
 * kept of a conversation is never older than its head. So a stale entry can only fail a commit,
 * and then the batch's entries are dropped and it is tried again with them read afresh.
 * Another isolate's message in a conversation drops that conversation (the watcher observes it),
 * so the next commit does not fail first.
 */
import { keys } from "../kv/keys.ts";
import { type ConvHead, getManyChunked, type Member } from "../chat/conversations.ts";
import { type MsgItem, pairKey, splitPair } from "./batch.ts";

/** Entries kept per lane at most (then all are dropped and read again as needed). */
const CACHE_MAX = 20_000;

/**
 * A sender's last client ids in a conversation, newest last, with their acks: a retried cid
 * among them gets its first ack back instead of being stored twice.
 */
export interface SentRecord {
  cids: [cid: string, seq: number, at: number, id: string][];
}

/** What one attempt read: the state its commit checks. */
export interface ReadState {
  heads: Map<string, Deno.KvEntryMaybe<ConvHead>>;
  /** By pairKey(conv, sender), for the messages that check membership. */
  members: Map<string, Deno.KvEntryMaybe<Member>>;
  /** By pairKey(conv, sender): each sender's record. */
  sent: Map<string, Deno.KvEntryMaybe<SentRecord>>;
  /** Per message: the entries of its `reads`. */
  reads: Deno.KvEntryMaybe<unknown>[][];
  /** The messages whose state came in part from what was kept (not read by this attempt). */
  kept: Set<MsgItem>;
}

interface ConvCache {
  head?: Deno.KvEntryMaybe<ConvHead>;
  members: Map<string, Deno.KvEntryMaybe<Member>>;
  sent: Map<string, Deno.KvEntryMaybe<SentRecord>>;
}

const keyId = (k: Deno.KvKey) => k.join("\u0000");

export class ShardCache {
  #convs = new Map<string, ConvCache>();
  /** The keys send rules read (friendships, blocks), by keyId. */
  #reads = new Map<string, Deno.KvEntryMaybe<unknown>>();
  #size = 0;

  constructor(private readonly kv: Deno.Kv) {}

  forget(): void {
    this.#convs.clear();
    this.#reads.clear();
    this.#size = 0;
  }

  /** Drops what is kept of one conversation (someone else wrote to it). */
  forgetConv(conv: string): void {
    this.#convs.delete(conv);
  }

  /** Drops what a batch used: after a failed check one of these is stale. */
  forgetBatch(msgs: MsgItem[]): void {
    for (const m of msgs) {
      this.#convs.delete(m.input.conv);
      for (const k of m.input.reads ?? []) this.#reads.delete(keyId(k));
    }
  }

  #conv(conv: string): ConvCache {
    let c = this.#convs.get(conv);
    if (!c) this.#convs.set(conv, c = { members: new Map(), sent: new Map() });
    return c;
  }

  /** Reads, in one getMany round, whatever of the batch's state is not kept. */
  async read(msgs: MsgItem[]): Promise<ReadState> {
    if (this.#size > CACHE_MAX) this.forget();
    const want: Deno.KvKey[] = [];
    const fill: ((e: Deno.KvEntryMaybe<unknown>) => void)[] = [];
    const ask = (key: Deno.KvKey, put: (e: Deno.KvEntryMaybe<unknown>) => void) => {
      want.push(key);
      fill.push(put);
    };
    const asked = new Set<string>();
    // What this attempt uses, held here: a conversation dropped while the read is under way
    // (another isolate wrote to it) still answers this attempt, whose commit checks it.
    const convs = new Map<string, ConvCache>();
    const reads = new Map<string, Deno.KvEntryMaybe<unknown>>();
    for (const m of msgs) {
      const { conv, sender } = m.input;
      const c = this.#conv(conv);
      convs.set(conv, c);
      if (!c.head && !asked.has(conv)) {
        asked.add(conv);
        ask(keys.convHead(conv), (e) => c.head = e as Deno.KvEntryMaybe<ConvHead>);
      }
      const pair = pairKey(conv, sender);
      if (!c.sent.has(sender) && !asked.has(`s${pair}`)) {
        asked.add(`s${pair}`);
        ask(keys.sent(conv, sender), (e) => c.sent.set(sender, e as Deno.KvEntryMaybe<SentRecord>));
      }
      if (m.input.checkMember && !c.members.has(sender) && !asked.has(`m${pair}`)) {
        asked.add(`m${pair}`);
        ask(
          keys.member(conv, sender),
          (e) => c.members.set(sender, e as Deno.KvEntryMaybe<Member>),
        );
      }
      for (const k of m.input.reads ?? []) {
        const id = keyId(k);
        const kept = this.#reads.get(id);
        if (kept) reads.set(id, kept);
        if (kept || asked.has(`r${id}`)) continue;
        asked.add(`r${id}`);
        ask(k, (e) => (reads.set(id, e), this.#reads.set(id, e)));
      }
    }
    if (want.length) {
      const got = await getManyChunked<unknown>(this.kv, want);
      got.forEach((e, i) => fill[i](e));
      this.#size += want.length;
    }
    const state: ReadState = {
      heads: new Map(),
      members: new Map(),
      sent: new Map(),
      reads: [],
      kept: new Set(),
    };
    for (const m of msgs) {
      const { conv, sender } = m.input;
      const c = convs.get(conv)!;
      const pair = pairKey(conv, sender);
      if (
        !asked.has(conv) || !asked.has(`s${pair}`) ||
        (m.input.checkMember && !asked.has(`m${pair}`)) ||
        (m.input.reads ?? []).some((k) => !asked.has(`r${keyId(k)}`))
      ) state.kept.add(m);
      state.heads.set(conv, c.head!);
      state.sent.set(pair, c.sent.get(sender)!);
      if (m.input.checkMember) state.members.set(pair, c.members.get(sender)!);
      state.reads.push((m.input.reads ?? []).map((k) => reads.get(keyId(k))!));
    }
    return state;
  }

  /**
   * Keeps what a commit wrote, at its versionstamp: the new heads and senders' records. A
   * conversation whose membership the commit changed (`changed`) is read afresh next time, and so
   * are the keys its rules read.
   */
  remember(
    stamp: string,
    heads: Map<string, ConvHead>,
    sent: Map<string, SentRecord>,
    changed: MsgItem[],
  ): void {
    for (const [conv, value] of heads) {
      const c = this.#conv(conv);
      c.head = { key: keys.convHead(conv), value, versionstamp: stamp };
    }
    for (const [pair, value] of sent) {
      const [conv, sender] = splitPair(pair);
      this.#conv(conv).sent.set(sender, {
        key: keys.sent(conv, sender),
        value,
        versionstamp: stamp,
      });
    }
    this.forgetBatch(changed);
  }
}
