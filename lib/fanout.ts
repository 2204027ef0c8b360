/**
 * The durable log and cross-isolate fan-out. Each committed message gets the next
 * per-conversation seq and, in the same atomic op, an event in a sharded fan-out log whose head
 * key is bumped. The committing isolate delivers at once; every other isolate (and host)
 * `watch`es the shard heads and reads the log from its cursor (watch may skip values).
 */
import { keys } from "./kv_keys.ts";
import { newId } from "./ids.ts";
import { getManyChunked, type ConvHead, type Member } from "./conversations.ts";
import { HttpError } from "./http_error.ts";
import { log } from "./log.ts";
import { isBusy } from "./kv_busy.ts";
import type { Message, MsgKind, ServerFrame } from "./protocol.ts";

export const SHARDS = 8;
const FAN_TTL_MS = 10 * 60_000;
const CLIENT_ID_TTL_MS = 7 * 24 * 3600_000;
const BATCH_MAX_ITEMS = 64;
const BATCH_MAX_CHECKS = 90;
const BATCH_MAX_BYTES = 500_000;

/** Which shard carries a conversation's or a user's events (FNV-1a). */
export function shardOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SHARDS;
}

/** Control signals for a user's sockets. */
export type Control =
  | { kind: "session_revoked"; sessionId: string }
  | { kind: "all_sessions_revoked"; keep?: string }
  | { kind: "conv_added"; conv: string }
  | { kind: "conv_removed"; conv: string };

/** What travels through the fan-out log. */
export type FanEvent =
  | { t: "msg"; msg: Message }
  | { t: "conv"; conv: string; frame: ServerFrame; except?: string }
  | { t: "user"; user: string; frame?: ServerFrame; control?: Control }
  | { t: "presence"; user: string; online: boolean; lastSeen: number | null };

export interface Dispatcher {
  dispatch(ev: FanEvent): void;
}

export interface Ack {
  conv: string;
  seq: number;
  at: number;
  id: string;
  cid: string;
  duplicate: boolean;
}

/** A message to append. The sender is always set by the server, never taken from a frame. */
export interface MsgInput {
  conv: string;
  sender: string;
  cid: string;
  kind: MsgKind;
  text: string;
  meta?: Message["meta"];
  /** Refuse unless the sender is a member (false for system messages). */
  checkMember: boolean;
  /** Extra writes committed with the message (e.g. a membership change), redone on every attempt. */
  prepare?: () => Promise<Prepared>;
  /**
   * Commit without any other message of the same conversation in the batch. Needed when
   * prepare() writes what later messages read (members, member count): prepares in one batch all
   * read the state before the batch, and KV checks in one commit all see that state too, so two
   * joins batched together would both pass a cap check, and a removed member's message batched
   * after their removal would still pass the membership check.
   */
  exclusive?: boolean;
}

/** What prepare() returns: checks and writes to commit with the message, and who may see it. */
export interface Prepared {
  checks: Deno.AtomicCheck[];
  apply: (op: Deno.AtomicOperation, seq: number) => void;
  /** Store the message visible to this user only (a blocked sender's message: sent, not delivered). */
  only?: string;
}

type Item =
  | { t: "msg"; input: MsgInput; resolve: (a: Ack) => void; reject: (e: Error) => void; done?: boolean }
  | { t: "event"; ev: FanEvent; resolve: () => void; reject: (e: Error) => void; done?: boolean };

function sizeOf(item: Item): number {
  return item.t === "msg" ? item.input.text.length * 3 + 600 : 400;
}

/** Serializes appends to one shard, committing whatever has queued up as one atomic op. */
class ShardWriter {
  #queue: Item[] = [];
  #running = false;

  constructor(readonly shard: number, private readonly kv: Deno.Kv, private readonly origin: string, private readonly local: Dispatcher, private readonly now: () => number) {}

  push(item: Item): void {
    this.#queue.push(item);
    if (!this.#running) this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length) {
        const batch: Item[] = [];
        let bytes = 0;
        // Checks in one commit: the fan head, one per conversation head, one per (conversation,
        // sender) membership, plus whatever prepare() adds (counted as up to 2). KV allows 100.
        let checks = 1;
        const seen = new Set<string>();
        const exclusive = new Set<string>();
        while (this.#queue.length && batch.length < BATCH_MAX_ITEMS) {
          const next = this.#queue[0];
          let more = 0;
          const newKeys: string[] = [];
          if (next.t === "msg") {
            const { conv, sender, checkMember, prepare } = next.input;
            if (!seen.has(conv)) newKeys.push(conv);
            const pair = `${conv}\u0000${sender}`;
            if (checkMember && !seen.has(pair)) newKeys.push(pair);
            more = newKeys.length + (prepare ? 5 : 0);
            if (batch.length && (exclusive.has(conv) || (next.input.exclusive && seen.has(conv)))) break;
            if (next.input.exclusive) exclusive.add(conv);
          }
          if (batch.length && (bytes + sizeOf(next) > BATCH_MAX_BYTES || checks + more > BATCH_MAX_CHECKS)) break;
          this.#queue.shift();
          batch.push(next);
          bytes += sizeOf(next);
          checks += more;
          for (const k of newKeys) seen.add(k);
        }
        await this.#commit(batch);
      }
    } finally {
      this.#running = false;
    }
  }

  async #commit(batch: Item[]): Promise<void> {
    for (let attempt = 0; attempt < 40; attempt++) {
      const live = batch.filter((i) => !i.done);
      if (!live.length) return;
      try {
        if (await this.#tryCommit(live)) return;
      } catch (err) {
        // Several isolates on one SQLite file can meet SQLITE_BUSY: nothing was written, try again.
        if (!isBusy(err)) {
          for (const i of live) if (!i.done) (i.done = true, i.reject(err as Error));
          return;
        }
      }
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 + attempt * 3)));
    }
    for (const i of batch) if (!i.done) (i.done = true, i.reject(new HttpError(503, "busy", "The conversation is busy; try again")));
  }

  /** One attempt: read heads, build one atomic op, commit. False when a check failed. */
  async #tryCommit(items: Item[]): Promise<boolean> {
    const kv = this.kv;
    const msgs = items.filter((i): i is Extract<Item, { t: "msg" }> => i.t === "msg");
    const convIds = [...new Set(msgs.map((m) => m.input.conv))];
    const memberPairs = [...new Set(msgs.filter((m) => m.input.checkMember).map((m) => `${m.input.conv}\u0000${m.input.sender}`))];
    const readKeys: Deno.KvKey[] = [
      keys.fanHead(this.shard),
      ...convIds.map((c) => keys.convHead(c)),
      ...memberPairs.map((p) => keys.member(...(p.split("\u0000") as [string, string]))),
      ...msgs.map((m) => keys.msgClient(m.input.conv, m.input.sender, m.input.cid)),
    ];
    const entries = await getManyChunked<unknown>(kv, readKeys);
    const fanHead = entries[0] as Deno.KvEntryMaybe<number>;
    const heads = new Map(convIds.map((c, i) => [c, entries[1 + i] as Deno.KvEntryMaybe<ConvHead>]));
    const members = new Map(memberPairs.map((p, i) => [p, entries[1 + convIds.length + i] as Deno.KvEntryMaybe<Member>]));
    const clientIds = entries.slice(1 + convIds.length + memberPairs.length) as Deno.KvEntryMaybe<{ seq: number; at: number; id: string }>[];

    const op = kv.atomic().check(fanHead);
    for (const h of heads.values()) op.check(h);
    for (const m of members.values()) if (m.value) op.check(m);
    const now = this.now();
    let n = fanHead.value ?? 0;
    const events: { n: number; ev: FanEvent }[] = [];
    const seqs = new Map<string, number>();
    const lasts = new Map<string, ConvHead["last"]>();
    const acks: [Extract<Item, { t: "msg" }>, Ack][] = [];
    const firstOf = new Map<string, Ack>();

    for (let i = 0; i < msgs.length; i++) {
      const it = msgs[i];
      const inp = it.input;
      const head = heads.get(inp.conv)!;
      if (!head.value) {
        it.done = true;
        // The same answer as for a conversation one is not in: ids are not probed this way.
        it.reject(new HttpError(403, "not_member", `Not a member of conversation "${inp.conv}"`));
        continue;
      }
      const prior = clientIds[i].value;
      if (prior) {
        it.done = true;
        it.resolve({ conv: inp.conv, seq: prior.seq, at: prior.at, id: prior.id, cid: inp.cid, duplicate: true });
        continue;
      }
      const member = inp.checkMember ? members.get(`${inp.conv}\u0000${inp.sender}`)?.value : undefined;
      if (inp.checkMember && !member) {
        it.done = true;
        it.reject(new HttpError(403, "not_member", `Not a member of conversation "${inp.conv}"`));
        continue;
      }
      if (member?.mutedUntil && member.mutedUntil > now) {
        it.done = true;
        const minutes = Math.ceil((member.mutedUntil - now) / 60_000);
        it.reject(new HttpError(403, "muted", `You are muted in this group for ${minutes} more min`, { params: { minutes } }));
        continue;
      }
      const dupKey = `${inp.conv}\u0000${inp.sender}\u0000${inp.cid}`;
      const first = firstOf.get(dupKey);
      if (first) {
        acks.push([it, { ...first, duplicate: true }]);
        continue;
      }
      let extra: Awaited<ReturnType<NonNullable<MsgInput["prepare"]>>> | null = null;
      if (inp.prepare) {
        try {
          extra = await inp.prepare();
        } catch (err) {
          it.done = true;
          it.reject(err as Error);
          continue;
        }
      }
      const seq = (seqs.get(inp.conv) ?? head.value.seq) + 1;
      seqs.set(inp.conv, seq);
      const msg: Message = { conv: inp.conv, seq, id: newId(now), from: inp.sender, kind: inp.kind, text: inp.text, at: now, cid: inp.cid };
      if (inp.meta) msg.meta = inp.meta;
      if (extra?.only) msg.only = extra.only;
      if (extra) {
        for (const c of extra.checks) op.check(c);
        extra.apply(op, seq);
      }
      op.set(keys.msg(inp.conv, seq), msg);
      op.set(keys.msgClient(inp.conv, inp.sender, inp.cid), { seq, at: now, id: msg.id }, { expireIn: CLIENT_ID_TTL_MS });
      // Whoever sends has read up to their message (the bot too, so its DM shows it as read).
      if (inp.kind !== "system") op.max(keys.read(inp.conv, inp.sender), BigInt(seq));
      // A message only its sender sees does not become everyone's list preview.
      if (!msg.only) lasts.set(inp.conv, { from: inp.sender, kind: inp.kind, text: inp.text.slice(0, 120), ...(inp.meta ? { meta: inp.meta } : {}) });
      events.push({ n: ++n, ev: { t: "msg", msg } });
      const ack = { conv: inp.conv, seq, at: now, id: msg.id, cid: inp.cid, duplicate: false };
      firstOf.set(dupKey, ack);
      acks.push([it, ack]);
    }
    for (const [conv, seq] of seqs) {
      const prev = heads.get(conv)!.value!;
      op.set(keys.convHead(conv), { seq, at: lasts.has(conv) ? now : prev.at, last: lasts.get(conv) ?? prev.last } satisfies ConvHead);
    }
    for (const it of items) if (it.t === "event" && !it.done) events.push({ n: ++n, ev: it.ev });
    if (!events.length) return true;
    for (const e of events) op.set(keys.fan(this.shard, e.n), { ev: e.ev, origin: this.origin }, { expireIn: FAN_TTL_MS });
    op.set(keys.fanHead(this.shard), n);
    const res = await op.commit();
    if (!res.ok) return false;
    for (const [it, ack] of acks) (it.done = true, it.resolve(ack));
    for (const it of items) if (it.t === "event" && !it.done) (it.done = true, it.resolve());
    for (const e of events) {
      try {
        this.local.dispatch(e.ev);
      } catch (err) {
        log.error("fanout.dispatch_failed", { err });
      }
    }
    return true;
  }
}

/** Appends messages and events to the log; one writer per shard in this isolate. */
export class MessageLog {
  #writers: ShardWriter[];

  constructor(readonly kv: Deno.Kv, readonly origin: string, local: Dispatcher, now: () => number = Date.now) {
    this.#writers = Array.from({ length: SHARDS }, (_, s) => new ShardWriter(s, kv, origin, local, now));
  }

  /** Appends a message; resolves with its ack once it is durable. A retried cid returns the first ack. */
  append(input: MsgInput): Promise<Ack> {
    return new Promise((resolve, reject) => this.#writers[shardOf(input.conv)].push({ t: "msg", input, resolve, reject }));
  }

  /** Publishes an event to every isolate (conversation events by conversation, user events by user). */
  publish(ev: FanEvent): Promise<void> {
    const id = ev.t === "msg" ? ev.msg.conv : ev.t === "conv" ? ev.conv : ev.user;
    return new Promise((resolve, reject) => this.#writers[shardOf(id)].push({ t: "event", ev, resolve, reject }));
  }
}

/** Follows every shard's head and hands events committed by other isolates to the dispatcher. */
export class FanoutWatcher {
  #cursors: number[] = [];
  #pulling: Promise<void>[] = [];
  #stream: ReadableStream<Deno.KvEntryMaybe<unknown>[]> | null = null;
  #stopped = false;

  constructor(private readonly kv: Deno.Kv, private readonly origin: string, private readonly target: Dispatcher) {}

  /** Starts at the current heads (history is recovered by clients, not replayed here). */
  async start(): Promise<void> {
    const heads = await getManyChunked<number>(this.kv, Array.from({ length: SHARDS }, (_, s) => keys.fanHead(s)));
    this.#cursors = heads.map((h) => h.value ?? 0);
    this.#pulling = heads.map(() => Promise.resolve());
    this.#stream = this.kv.watch(Array.from({ length: SHARDS }, (_, s) => keys.fanHead(s)));
    (async () => {
      try {
        for await (const entries of this.#stream!) {
          if (this.#stopped) break;
          entries.forEach((e, s) => {
            const head = (e.value as number | null) ?? 0;
            if (head > this.#cursors[s]) this.#pulling[s] = this.#pulling[s].then(() => this.#pull(s, head));
          });
        }
      } catch (err) {
        if (!this.#stopped) log.error("fanout.watch_failed", { err });
      }
    })();
  }

  async #pull(shard: number, head: number): Promise<void> {
    const from = this.#cursors[shard];
    if (head <= from || this.#stopped) return;
    try {
      const iter = this.kv.list<{ ev: FanEvent; origin: string }>({ start: keys.fan(shard, from + 1), end: keys.fan(shard, head + 1) });
      for await (const e of iter) {
        if (e.value.origin !== this.origin) this.target.dispatch(e.value.ev);
      }
      this.#cursors[shard] = Math.max(this.#cursors[shard], head);
    } catch (err) {
      if (!this.#stopped) log.error("fanout.pull_failed", { shard, err });
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    try {
      await this.#stream?.cancel();
    } catch { /* closed already */ }
  }
}
