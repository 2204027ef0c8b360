/**
 * Serializes appends to one shard of the log, committing whatever has queued up as one atomic
 * write (lib/realtime/batch.ts says how much fits, lib/realtime/commit.ts builds it). A commit
 * whose checks failed, or that met a busy SQLite file, is retried with everything read afresh.
 */
import { keys } from "../kv/keys.ts";
import { HttpError } from "../errors.ts";
import { log } from "../log.ts";
import { isBusy } from "../kv/busy.ts";
import type { Committed, Dispatcher } from "./fan_event.ts";
import { type Item, type MsgItem, takeBatch } from "./batch.ts";
import { ShardCache } from "./shard_cache.ts";
import { Draft, screen } from "./commit.ts";

const ATTEMPTS = 40;

export class ShardWriter {
  #queue: Item[] = [];
  #running = false;
  readonly #cache: ShardCache;

  constructor(
    readonly shard: number,
    private readonly kv: Deno.Kv,
    private readonly origin: string,
    private readonly local: Dispatcher,
    private readonly now: () => number,
    private readonly committed: Committed,
  ) {
    this.#cache = new ShardCache(kv, shard);
  }

  push(item: Item): void {
    this.#queue.push(item);
    if (!this.#running) this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length) {
        const batch = takeBatch(this.#queue);
        this.#queue.splice(0, batch.length);
        await this.#commit(batch);
      }
    } finally {
      this.#running = false;
    }
  }

  async #commit(batch: Item[]): Promise<void> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const live = batch.filter((i) => !i.done);
      if (!live.length) return;
      try {
        if (await this.#tryCommit(live)) return;
        this.#cache.forget();
      } catch (err) {
        this.#cache.forget();
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

  /** One attempt: read, build one atomic write, commit. False when a check failed. */
  async #tryCommit(items: Item[]): Promise<boolean> {
    const msgs = items.filter((i): i is MsgItem => i.t === "msg");
    const state = await this.#cache.read(msgs);
    const now = this.now();
    const draft = new Draft(this.kv, state, now);
    const ready = screen(msgs, state, now);
    draft.messages(ready, await Promise.all(ready.map((r) => r.prep)));
    draft.heads();
    draft.eventItems(items);
    if (draft.empty) return true;
    draft.fanLog(this.shard, this.origin);
    const res = await draft.op.commit();
    if (!res.ok) return false;
    this.#keep(res.versionstamp, draft, msgs);
    this.#settle(items, draft);
    return true;
  }

  /** Caches the heads just written and the memberships just checked (lib/realtime/shard_cache.ts). */
  #keep(stamp: string, draft: Draft, msgs: MsgItem[]): void {
    const heads = draft.state.heads;
    for (const [conv, value] of draft.newHeads) {
      heads.set(conv, { key: keys.convHead(conv), value, versionstamp: stamp });
    }
    // Membership changes are system messages with a prepare(): read that conversation's again.
    const changed = new Set(
      msgs.filter((m) => m.input.prepare && m.input.kind === "system").map((m) => m.input.conv),
    );
    this.#cache.remember(stamp, heads, draft.state.members, changed);
  }

  /** Answers every item of the committed write, then delivers its events on this isolate. */
  #settle(items: Item[], draft: Draft): void {
    if (draft.events.length) this.committed(this.shard, ...draft.entries);
    for (const [it, ack] of draft.acks) (it.done = true, it.resolve(ack));
    for (const it of items) if (it.t === "event" && !it.done) (it.done = true, it.resolve());
    for (const ev of draft.events) {
      try {
        this.local.dispatch(ev);
      } catch (err) {
        log.error("fanout.dispatch_failed", { err });
      }
    }
  }
}
