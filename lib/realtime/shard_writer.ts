/**
 * One lane of this isolate's log writer: serializes its appends, committing whatever has queued
 * up as one atomic write (lib/realtime/batch.ts says how much fits, lib/realtime/commit.ts builds
 * it), and is the only writer of its fan-out stream, so the stream's head needs no check. A commit
 * whose checks failed, or that met a busy SQLite file, is retried with the batch's state read
 * afresh.
 */
import { HttpError } from "../errors.ts";
import { log } from "../log.ts";
import { isBusy } from "../kv/busy.ts";
import type { Dispatcher, FanHead } from "./fan_event.ts";
import { type Item, type MsgItem, takeBatch } from "./batch.ts";
import { ShardCache } from "./shard_cache.ts";
import { Draft, type Refusals, screen } from "./commit.ts";

const ATTEMPTS = 40;

export class ShardWriter {
  #queue: Item[] = [];
  #running = false;
  readonly cache: ShardCache;
  /** Told of each new stream head once committed (the other isolates of this process hear it). */
  announce: ((lane: number, head: FanHead) => void) | null = null;
  /** This lane's stream head: the last entry number used (or skipped). */
  #head = 0;

  constructor(
    readonly lane: number,
    private readonly kv: Deno.Kv,
    private readonly isolate: string,
    private readonly local: Dispatcher,
    private readonly now: () => number,
  ) {
    this.cache = new ShardCache(kv);
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
    const tries = { conflict: 0, recheck: 0, busy: 0 };
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const live = batch.filter((i) => !i.done);
      if (!live.length) return;
      try {
        const out = await this.#tryCommit(live);
        if (out === "done") return;
        tries[out]++;
        if (out === "recheck") continue;
        this.cache.forgetBatch(live.filter((i): i is MsgItem => i.t === "msg"));
      } catch (err) {
        tries.busy++;
        this.cache.forget();
        // Several isolates on one SQLite file can meet SQLITE_BUSY: nothing was written, try again.
        if (!isBusy(err)) {
          for (const i of live) if (!i.done) (i.done = true, i.reject(err as Error));
          return;
        }
      }
      // The first retry at once (usually another isolate wrote the conversation a moment ago and
      // it is read afresh now); then random pauses, growing, so that writers fighting over one
      // conversation fall out of step.
      if (attempt > 0) {
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 + attempt * 3)));
      }
    }
    log.warn("fanout.gave_up", { lane: this.lane, items: batch.length, ...tries });
    for (const i of batch) {
      if (!i.done) {
        (i.done = true,
          i.reject(new HttpError(503, "busy", "The conversation is busy; try again")));
      }
    }
  }

  /**
   * One attempt: read, build one atomic write, commit. "conflict" when a check failed, "recheck"
   * when a refusal rested on kept state (dropped now, read again at once).
   */
  async #tryCommit(items: Item[]): Promise<"done" | "conflict" | "recheck"> {
    const msgs = items.filter((i): i is MsgItem => i.t === "msg");
    const state = await this.cache.read(msgs);
    const now = this.now();
    const draft = new Draft(this.kv, state, now);
    const refused: Refusals = [];
    const ready = screen(msgs, state, now, refused);
    draft.messages(ready, await Promise.all(ready.map((r) => r.prep)), refused);
    // A refusal resting on kept state (a friendship that was missing, a conversation not found)
    // is only answered after a fresh read says the same; one on a fresh read is answered now, so
    // a batch with several refusals still ends.
    const stale = refused.filter(([it]) => state.kept.has(it)).map(([it]) => it);
    for (const [it, err] of refused) if (!state.kept.has(it)) (it.done = true, it.reject(err));
    if (stale.length) {
      this.cache.forgetBatch(stale);
      return "recheck";
    }
    draft.heads();
    draft.eventItems(items);
    if (draft.empty) return "done";
    const head = draft.fanLog(this.isolate, this.lane, this.#head);
    let res: Deno.KvCommitResult | Deno.KvCommitError;
    try {
      res = await draft.op.commit();
    } catch (err) {
      // Whether it was written may be unknown (a remote KV): never use these entry numbers again.
      // Readers list a range of the stream, so a number skipped is no gap to them.
      this.#head = head;
      throw err;
    }
    if (!res.ok) return "conflict";
    this.#head = head;
    // Membership changes are system messages with a prepare(): read that conversation afresh.
    // Updates rewrite the message they read: that key is read afresh too.
    const changed = msgs.filter((m) =>
      m.input.prepare && (m.input.kind === "system" || m.input.kind === "update")
    );
    this.cache.remember(res.versionstamp, draft.newHeads, draft.newSent, changed);
    this.#settle(items, draft);
    return "done";
  }

  /** Answers every item of the committed write, then delivers its events on this isolate. */
  #settle(items: Item[], draft: Draft): void {
    if (draft.streamHead) this.announce?.(this.lane, draft.streamHead);
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
