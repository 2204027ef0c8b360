/**
 * Follows the other isolates' commits: `watch`es every shard's fan head and reads the log from its
 * cursor (watch reports only the latest value and may skip some), handing each event to this
 * isolate's hub. What this isolate committed itself was delivered at once and is not read back.
 */
import { keys } from "../kv/keys.ts";
import { getManyChunked } from "../chat/conversations.ts";
import { log } from "../log.ts";
import { type Dispatcher, type FanEvent, SHARDS } from "./fan_event.ts";
import type { MessageLog } from "./message_log.ts";

/** A fan-out log entry: the events of one commit, in order. */
type FanEntry = { evs?: FanEvent[]; ev?: FanEvent; origin: string };

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
      const iter = this.kv.list<FanEntry>({
        start: keys.fan(shard, from + 1),
        end: keys.fan(shard, head + 1),
      });
      for await (const e of iter) {
        if (e.value.origin === this.origin) continue;
        // One commit's events; an entry written before they were grouped holds one event.
        for (const ev of e.value.evs ?? [e.value.ev!]) this.target.dispatch(ev);
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
