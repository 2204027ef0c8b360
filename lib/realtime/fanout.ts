/**
 * The durable log and cross-isolate fan-out. Each committed message gets the next
 * per-conversation seq and, in the same atomic op, an event in a sharded fan-out log whose head
 * key is bumped. The committing isolate delivers at once; every other isolate (and host)
 * `watch`es the shard heads and reads the log from its cursor (watch may skip values).
 */
import { keys } from "../kv/keys.ts";
import { newId } from "../ids.ts";
import { type ConvHead, getManyChunked, type Member } from "../chat/conversations.ts";
import { HttpError } from "../errors.ts";
import { log } from "../log.ts";
import { isBusy } from "../kv/busy.ts";
import type { Message, ServerFrame } from "../wire/protocol.ts";
import type { Ack, Control, Events, MsgInput, Prepared } from "../chat/events.ts";

export type { Ack, Control, MsgInput, Prepared };

export const SHARDS = 8;
const FAN_TTL_MS = 10 * 60_000;
const CLIENT_ID_TTL_MS = 7 * 24 * 3600_000;
const BATCH_MAX_ITEMS = 200;
const BATCH_MAX_CHECKS = 90;
/** KV allows 1000 mutations per atomic op. */
const BATCH_MAX_MUTATIONS = 900;
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

/** What travels through the fan-out log. */
export type FanEvent =
  | { t: "msg"; msg: Message }
  | { t: "conv"; conv: string; frame: ServerFrame; except?: string }
  | { t: "user"; user: string; frame?: ServerFrame; control?: Control }
  | { t: "presence"; user: string; online: boolean; lastSeen: number | null };

export interface Dispatcher {
  dispatch(ev: FanEvent): void;
}

type Item =
  | {
    t: "msg";
    input: MsgInput;
    resolve: (a: Ack) => void;
    reject: (e: Error) => void;
    done?: boolean;
  }
  | {
    t: "event";
    ev: FanEvent | null;
    writes?: Write[];
    resolve: () => void;
    reject: (e: Error) => void;
    done?: boolean;
  };

/** A small write committed with a shard's next batch: a set, or a delete when there is no value. */
export interface Write {
  key: Deno.KvKey;
  value?: unknown;
  expireIn?: number;
}

function sizeOf(item: Item): number {
  return item.t === "msg" ? item.input.text.length * 3 + 600 : 400;
}

/** Called after a commit with the fan-out log entries it wrote (first..last). */
type Committed = (shard: number, first: number, last: number) => void;

const CACHE_MAX = 5000;

/**
 * Serializes appends to one shard, committing whatever has queued up as one atomic op.
 *
 * Conversation heads and memberships it read or wrote are kept while the shard's fan head is
 * still the one this writer committed last, i.e. nobody else (another isolate) has committed to
 * the shard since: then only the fan head and the idempotency keys are read. Every commit still
 * checks each head and membership, so a stale entry can only fail a commit, which is then retried
 * with everything read afresh.
 */
class ShardWriter {
  #queue: Item[] = [];
  #running = false;
  /** The fan head's versionstamp after this writer's last commit (null: nothing cached). */
  #stamp: string | null = null;
  /** The last read found the cache stale (another isolate writes here too): read all at once. */
  #stale = false;
  #heads = new Map<string, Deno.KvEntry<ConvHead>>();
  #members = new Map<string, Deno.KvEntry<Member>>();

  constructor(
    readonly shard: number,
    private readonly kv: Deno.Kv,
    private readonly origin: string,
    private readonly local: Dispatcher,
    private readonly now: () => number,
    private readonly committed: Committed,
  ) {}

  #forget(): void {
    this.#stamp = null;
    this.#heads.clear();
    this.#members.clear();
  }

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
        // sender) membership, plus whatever prepare() adds (its reads, else up to 5). KV allows
        // 100. Mutations: a message writes itself, its client id, its sender's read cursor and a
        // fan-out event (prepare() up to 5 more), a conversation its head, an event itself and
        // its writes, the batch the fan head.
        let checks = 1;
        let mutations = 1;
        const seen = new Set<string>();
        const exclusive = new Set<string>();
        for (const next of this.#queue) {
          if (batch.length >= BATCH_MAX_ITEMS) break;
          let more = 0;
          let muts = 1;
          const newKeys: string[] = [];
          if (next.t === "msg") {
            const { conv, sender, checkMember, prepare } = next.input;
            if (!seen.has(conv)) newKeys.push(conv);
            const pair = `${conv}\u0000${sender}`;
            if (checkMember && !seen.has(pair)) newKeys.push(pair);
            more = newKeys.length + (prepare ? next.input.reads?.length ?? 5 : 0);
            muts = 4 + (seen.has(conv) ? 0 : 1) + (prepare ? 5 : 0);
            if (batch.length && (exclusive.has(conv) || (next.input.exclusive && seen.has(conv)))) {
              break;
            }
            if (next.input.exclusive) exclusive.add(conv);
          } else muts += next.writes?.length ?? 0;
          if (
            batch.length &&
            (bytes + sizeOf(next) > BATCH_MAX_BYTES || checks + more > BATCH_MAX_CHECKS ||
              mutations + muts > BATCH_MAX_MUTATIONS)
          ) break;
          batch.push(next);
          bytes += sizeOf(next);
          checks += more;
          mutations += muts;
          for (const k of newKeys) seen.add(k);
        }
        this.#queue.splice(0, batch.length);
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
        this.#forget();
      } catch (err) {
        this.#forget();
        // Several isolates on one SQLite file can meet SQLITE_BUSY: nothing was written, try again.
        if (!isBusy(err)) {
          for (const i of live) if (!i.done) (i.done = true, i.reject(err as Error));
          return;
        }
      }
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 + attempt * 3)));
    }
    for (const i of batch) {
      if (!i.done) {
        (i.done = true,
          i.reject(new HttpError(503, "busy", "The conversation is busy; try again")));
      }
    }
  }

  /**
   * Reads the fan head, the idempotency keys, and the heads and memberships that are not cached
   * (all of them when the cache is stale: then a second read).
   */
  async #read(msgs: Extract<Item, { t: "msg" }>[]) {
    const convIds = [...new Set(msgs.map((m) => m.input.conv))];
    const memberPairs = [
      ...new Set(
        msgs.filter((m) => m.input.checkMember).map((m) =>
          `${m.input.conv}\u0000${m.input.sender}`
        ),
      ),
    ];
    const heads = new Map<string, Deno.KvEntryMaybe<ConvHead>>();
    const members = new Map<string, Deno.KvEntryMaybe<Member>>();
    const take = (fromCache: boolean) => {
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
    const put = (want: { h: string[]; m: string[] }, got: Deno.KvEntryMaybe<unknown>[]) => {
      want.h.forEach((c, i) => heads.set(c, got[i] as Deno.KvEntryMaybe<ConvHead>));
      want.m.forEach((p, i) => members.set(p, got[want.h.length + i] as Deno.KvEntryMaybe<Member>));
    };
    const first = take(this.#stamp !== null && !this.#stale);
    const clientKeys = msgs.map((m) => keys.msgClient(m.input.conv, m.input.sender, m.input.cid));
    const extraKeys = msgs.flatMap((m) => m.input.reads ?? []);
    const entries = await getManyChunked<unknown>(this.kv, [
      keys.fanHead(this.shard),
      ...clientKeys,
      ...extraKeys,
      ...first.keys,
    ]);
    const fanHead = entries[0] as Deno.KvEntryMaybe<number>;
    const clientIds = entries.slice(1, 1 + msgs.length) as Deno.KvEntryMaybe<
      { seq: number; at: number; id: string }
    >[];
    let at = 1 + msgs.length;
    const reads = msgs.map((m) => entries.slice(at, at += m.input.reads?.length ?? 0));
    put(first, entries.slice(at));
    if (this.#stamp !== null) this.#stale = fanHead.versionstamp !== this.#stamp;
    if (this.#stale) this.#forget();
    const rest = take(true);
    for (const c of convIds) {
      if (!heads.has(c) && !rest.h.includes(c)) heads.set(c, this.#heads.get(c)!);
    }
    for (const p of memberPairs) {
      if (!members.has(p) && !rest.m.includes(p)) members.set(p, this.#members.get(p)!);
    }
    if (rest.keys.length) put(rest, await getManyChunked<unknown>(this.kv, rest.keys));
    return { fanHead, clientIds, heads, members, reads };
  }

  /** Keeps what this commit checked or wrote, valid while the fan head stays at `stamp`. */
  #remember(
    stamp: string,
    heads: Map<string, Deno.KvEntryMaybe<ConvHead>>,
    members: Map<string, Deno.KvEntryMaybe<Member>>,
    changed: Set<string>,
  ) {
    if (this.#heads.size > CACHE_MAX || this.#members.size > CACHE_MAX) this.#forget();
    this.#stamp = stamp;
    for (const [c, h] of heads) if (h.value) this.#heads.set(c, h as Deno.KvEntry<ConvHead>);
    for (const [p, m] of members) {
      if (m.value && !changed.has(p.slice(0, p.indexOf("\u0000")))) {
        this.#members.set(p, m as Deno.KvEntry<Member>);
      } else this.#members.delete(p);
    }
    if (changed.size) {
      for (const p of this.#members.keys()) {
        if (changed.has(p.slice(0, p.indexOf("\u0000")))) this.#members.delete(p);
      }
    }
  }

  /** One attempt: read heads, build one atomic op, commit. False when a check failed. */
  async #tryCommit(items: Item[]): Promise<boolean> {
    const kv = this.kv;
    const msgs = items.filter((i): i is Extract<Item, { t: "msg" }> => i.t === "msg");
    const { fanHead, clientIds, heads, members, reads } = await this.#read(msgs);

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
    const failedOf = new Map<string, Error>();
    const readUpTo = new Map<string, number>();
    const ready: {
      it: Extract<Item, { t: "msg" }>;
      dupKey: string;
      prep?: Promise<{ ok: Prepared } | { err: Error }>;
    }[] = [];
    const firstSeen = new Set<string>();

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
        it.resolve({
          conv: inp.conv,
          seq: prior.seq,
          at: prior.at,
          id: prior.id,
          cid: inp.cid,
          duplicate: true,
        });
        continue;
      }
      const member = inp.checkMember
        ? members.get(`${inp.conv}\u0000${inp.sender}`)?.value
        : undefined;
      if (inp.checkMember && !member) {
        it.done = true;
        it.reject(new HttpError(403, "not_member", `Not a member of conversation "${inp.conv}"`));
        continue;
      }
      // The domain's rule on who may send now (lib/chat/send_rules.ts: a muted member may not).
      if (member && inp.admit) {
        try {
          inp.admit(member, now);
        } catch (err) {
          it.done = true;
          it.reject(err as Error);
          continue;
        }
      }
      const dupKey = `${inp.conv}\u0000${inp.sender}\u0000${inp.cid}`;
      // Prepares of one batch run side by side; each reads the state before the batch either way.
      const prep = !firstSeen.has(dupKey) && inp.prepare
        ? Promise.resolve().then(() => inp.prepare!(reads[i])).then(
          (ok) => ({ ok }),
          (err: Error) => ({ err }),
        )
        : undefined;
      firstSeen.add(dupKey);
      ready.push({ it, dupKey, prep });
    }
    const preps = await Promise.all(ready.map((r) => r.prep));

    for (let j = 0; j < ready.length; j++) {
      const { it, dupKey } = ready[j];
      const inp = it.input;
      const head = heads.get(inp.conv)! as Deno.KvEntry<ConvHead>;
      const first = firstOf.get(dupKey);
      if (first) {
        acks.push([it, { ...first, duplicate: true }]);
        continue;
      }
      const prep = preps[j];
      const err = prep && "err" in prep ? prep.err : failedOf.get(dupKey);
      if (err) {
        it.done = true;
        it.reject(err);
        failedOf.set(dupKey, err);
        continue;
      }
      const extra = prep && "ok" in prep ? prep.ok : null;
      const seq = (seqs.get(inp.conv) ?? head.value.seq) + 1;
      seqs.set(inp.conv, seq);
      const msg: Message = {
        conv: inp.conv,
        seq,
        id: newId(now),
        from: inp.sender,
        kind: inp.kind,
        text: inp.text,
        at: now,
        cid: inp.cid,
      };
      if (inp.meta) msg.meta = inp.meta;
      if (extra?.only) msg.only = extra.only;
      if (extra) {
        for (const c of extra.checks) op.check(c);
        extra.apply(op, seq);
      }
      op.set(keys.msg(inp.conv, seq), msg);
      op.set(keys.msgClient(inp.conv, inp.sender, inp.cid), { seq, at: now, id: msg.id }, {
        expireIn: CLIENT_ID_TTL_MS,
      });
      // Whoever sends has read up to their message (the bot too, so its DM shows it as read);
      // one write per sender and conversation in the batch, for their last message.
      if (inp.kind !== "system") readUpTo.set(`${inp.conv}\u0000${inp.sender}`, seq);
      // A message only its sender sees does not become everyone's list preview.
      if (!msg.only) {
        lasts.set(inp.conv, {
          from: inp.sender,
          kind: inp.kind,
          text: inp.text.slice(0, 120),
          ...(inp.meta ? { meta: inp.meta } : {}),
        });
      }
      events.push({ n: ++n, ev: { t: "msg", msg } });
      const ack = { conv: inp.conv, seq, at: now, id: msg.id, cid: inp.cid, duplicate: false };
      firstOf.set(dupKey, ack);
      acks.push([it, ack]);
    }
    for (const [pair, seq] of readUpTo) {
      op.max(keys.read(...(pair.split("\u0000") as [string, string])), BigInt(seq));
    }
    const newHeads = new Map<string, ConvHead>();
    for (const [conv, seq] of seqs) {
      const prev = heads.get(conv)!.value!;
      newHeads.set(conv, {
        seq,
        at: lasts.has(conv) ? now : prev.at,
        last: lasts.get(conv) ?? prev.last,
      });
      op.set(keys.convHead(conv), newHeads.get(conv)!);
    }
    let writes = 0;
    for (const it of items) {
      if (it.t !== "event" || it.done) continue;
      if (it.ev) events.push({ n: ++n, ev: it.ev });
      for (const w of it.writes ?? []) {
        if (w.value === undefined) op.delete(w.key);
        else op.set(w.key, w.value, w.expireIn ? { expireIn: w.expireIn } : undefined);
        writes++;
      }
    }
    if (!events.length && !writes) return true;
    for (const e of events) {
      op.set(keys.fan(this.shard, e.n), { ev: e.ev, origin: this.origin }, {
        expireIn: FAN_TTL_MS,
      });
    }
    op.set(keys.fanHead(this.shard), n);
    const res = await op.commit();
    if (!res.ok) return false;
    for (const [conv, value] of newHeads) {
      heads.set(conv, { key: keys.convHead(conv), value, versionstamp: res.versionstamp });
    }
    // Membership changes are system messages with a prepare(): read that conversation's again.
    const changed = new Set(
      msgs.filter((m) => m.input.prepare && m.input.kind === "system").map((m) => m.input.conv),
    );
    this.#remember(res.versionstamp, heads, members, changed);
    if (events.length) this.committed(this.shard, (fanHead.value ?? 0) + 1, n);
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
  /** Told which fan-out log entries this isolate wrote (the watcher need not read them back). */
  onCommitted: Committed | null = null;

  constructor(
    readonly kv: Deno.Kv,
    readonly origin: string,
    local: Dispatcher,
    now: () => number = Date.now,
  ) {
    const committed: Committed = (s, first, last) => this.onCommitted?.(s, first, last);
    this.#writers = Array.from(
      { length: SHARDS },
      (_, s) => new ShardWriter(s, kv, origin, local, now, committed),
    );
  }

  /** Appends a message; resolves with its ack once it is durable. A retried cid returns the first ack. */
  append(input: MsgInput): Promise<Ack> {
    return new Promise((resolve, reject) =>
      this.#writers[shardOf(input.conv)].push({ t: "msg", input, resolve, reject })
    );
  }

  /** Publishes an event to every isolate (conversation events by conversation, user events by user). */
  publish(ev: FanEvent, writes?: Write[]): Promise<void> {
    const id = ev.t === "msg" ? ev.msg.conv : ev.t === "conv" ? ev.conv : ev.user;
    return new Promise((resolve, reject) =>
      this.#writers[shardOf(id)].push({ t: "event", ev, writes, resolve, reject })
    );
  }

  /**
   * Commits small writes (e.g. presence keys) with the next batch of the shard of `route`: a burst
   * of them is a few commits instead of one each.
   */
  write(route: string, writes: Write[]): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#writers[shardOf(route)].push({ t: "event", ev: null, writes, resolve, reject })
    );
  }
}

/** Follows every shard's head and hands events committed by other isolates to the dispatcher. */
export class FanoutWatcher {
  #cursors: number[] = [];
  #pulling: Promise<void>[] = [];
  #stream: ReadableStream<Deno.KvEntryMaybe<unknown>[]> | null = null;
  #stopped = false;
  /** Per shard, ranges of log entries this isolate committed itself, oldest first. */
  #own: [number, number][][] = Array.from({ length: SHARDS }, () => []);

  constructor(
    private readonly kv: Deno.Kv,
    private readonly origin: string,
    private readonly target: Dispatcher,
    appender?: MessageLog,
  ) {
    if (appender) appender.onCommitted = (s, first, last) => this.#ownCommitted(s, first, last);
  }

  #ownCommitted(shard: number, first: number, last: number): void {
    const own = this.#own[shard];
    own.push([first, last]);
    if (own.length > 1000) own.splice(0, own.length - 1000);
  }

  /** Whether every entry in (from, head] was committed by this isolate. */
  #onlyOwn(shard: number, from: number, head: number): boolean {
    let next = from + 1;
    for (const [first, last] of this.#own[shard]) {
      if (last < next) continue;
      if (first > next) break;
      next = last + 1;
      if (next > head) break;
    }
    return next > head;
  }

  /** Starts at the current heads (history is recovered by clients, not replayed here). */
  async start(): Promise<void> {
    const heads = await getManyChunked<number>(
      this.kv,
      Array.from({ length: SHARDS }, (_, s) => keys.fanHead(s)),
    );
    this.#cursors = heads.map((h) => h.value ?? 0);
    this.#pulling = heads.map(() => Promise.resolve());
    this.#stream = this.kv.watch(Array.from({ length: SHARDS }, (_, s) => keys.fanHead(s)));
    (async () => {
      try {
        for await (const entries of this.#stream!) {
          if (this.#stopped) break;
          entries.forEach((e, s) => {
            const head = (e.value as number | null) ?? 0;
            if (head > this.#cursors[s]) {
              this.#pulling[s] = this.#pulling[s].then(() => this.#pull(s, head));
            }
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
    const own = this.#own[shard];
    // Entries this isolate wrote were delivered here when committed: no need to read them back.
    const skip = this.#onlyOwn(shard, from, head);
    while (own.length && own[0][1] <= head) own.shift();
    if (skip) {
      this.#cursors[shard] = head;
      return;
    }
    try {
      const iter = this.kv.list<{ ev: FanEvent; origin: string }>({
        start: keys.fan(shard, from + 1),
        end: keys.fan(shard, head + 1),
      });
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

/**
 * The domain's view of the log (lib/chat/events.ts). It looks `append` and `publish` up at each
 * call, so a test that wraps them on the log sees the domain's writes too.
 */
export function eventsOf(log: MessageLog): Events {
  return {
    commit: (input) => log.append(input),
    toUsers: async (users, { frame, control }) => {
      await Promise.all(
        users.map((user) =>
          log.publish({
            t: "user",
            user,
            ...(frame ? { frame } : {}),
            ...(control ? { control } : {}),
          })
        ),
      );
    },
    toConv: (conv, frame, except) =>
      log.publish({ t: "conv", conv, ...(except !== undefined ? { except } : {}), frame }),
  };
}
