/**
 * Follows the other isolates' fan-out streams. Each isolate writes only its own streams
 * (`[fan, isolate, lane, n]`, heads `[fan_head, isolate, lane]`), so no key is written by two
 * isolates and none is written by every commit of every isolate. This one `watch`es the heads of
 * every live isolate (one call per isolate: at most 10 lanes) and reads each stream from its
 * cursor (watch reports only the latest value and may skip some), handing every event to this
 * isolate's hub; the heads are also read once a second, for what `watch` cannot see (another
 * process on the same local file). Which isolates are live comes from lib/realtime/registry.ts;
 * its epoch key says when to look again, and a timer looks anyway.
 *
 * An isolate's own events were delivered here when committed and are never read back. Two
 * streams are not ordered with each other: delivery puts each conversation's messages in seq
 * order per socket (lib/realtime/delivery.ts), reading from the log what has not arrived yet.
 */
import { keys } from "../kv/keys.ts";
import { getManyChunked } from "../chat/conversations.ts";
import { log } from "../log.ts";
import type { Dispatcher, FanEvent, FanHead } from "./fan_event.ts";
import { HEARTBEAT_MS, type Registry } from "./registry.ts";

/** The channel the isolates of one process announce their new stream heads on. */
const CHANNEL = "happychat.fanout";

/** A new stream head, as announced. */
interface Announced {
  isolate: string;
  lane: number;
  head: FanHead;
}

/** A fan-out entry: the events of one commit, in order. */
type FanEntry = { evs: FanEvent[] };

/** How long fan-out entries are kept (a stream can be read back this long after it stopped). */
export const FAN_TTL_MS = 10 * 60_000;
const RETRY_MS = 500;
/**
 * How often the followed heads are also read, whatever `watch` said: `watch` on a local SQLite
 * file does not see another process's writes, so two processes on one file would otherwise miss
 * each other's newest events until a later one arrived. A read of each isolate's heads a second.
 */
export const POLL_MS = 1000;

interface Peer {
  cursors: number[];
  pulling: Promise<void>[];
  stream: ReadableStream<Deno.KvEntryMaybe<unknown>[]> | null;
  /** Heads seen but not read yet because a read failed (tried again after a pause). */
  retry: (ReturnType<typeof setTimeout> | undefined)[];
}

export class FanoutWatcher {
  readonly #peers = new Map<string, Peer>();
  /** Where the streams of isolates no longer listed were left, in case they come back. */
  readonly #gone = new Map<string, { cursors: number[]; at: number }>();
  #epoch: ReadableStream<Deno.KvEntryMaybe<unknown>[]> | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #poll: ReturnType<typeof setInterval> | undefined;
  #refreshing: Promise<void> = Promise.resolve();
  /** The isolates of this process tell each other their new heads at once (see announce()). */
  #channel: BroadcastChannel | null = null;
  #stopped = false;

  /**
   * @param observe is told of every event read from another isolate before it is dispatched
   * (the writers drop what they cached of a conversation another isolate has written to).
   */
  constructor(
    private readonly kv: Deno.Kv,
    private readonly registry: Registry,
    private readonly target: Dispatcher,
    private readonly observe: (ev: FanEvent) => void = () => {},
    private readonly refreshMs = HEARTBEAT_MS,
    /** Whether to hear this process's other isolates' announcements (announce()). */
    private readonly hear = true,
  ) {}

  /** The isolates whose streams this one follows now. */
  get following(): string[] {
    return [...this.#peers.keys()];
  }

  /**
   * Follows the streams alive now from their current heads (history is recovered by clients,
   * not replayed here), then registers this isolate: whatever it commits from then on is in a
   * stream the others learn of through the epoch key, and read from its first entry.
   */
  async start(): Promise<void> {
    const live = await this.registry.live();
    await Promise.all(
      [...live].filter(([id]) => id !== this.registry.id).map(([id, rec]) =>
        this.#follow(id, rec.lanes, null)
      ),
    );
    if (typeof BroadcastChannel === "function") {
      // Announcing costs the others a message each; hearing is what a test may turn off.
      this.#channel = new BroadcastChannel(CHANNEL);
      if (this.hear) {
        this.#channel.onmessage = (e: MessageEvent<Announced>) => {
          const peer = this.#peers.get(e.data.isolate);
          if (peer && !this.#stopped) {
            this.#want(e.data.isolate, peer, e.data.lane, e.data.head.n, e.data.head.evs);
          }
        };
      }
    }
    await this.registry.register();
    this.#epoch = this.kv.watch([keys.isolateEpoch()]);
    (async () => {
      try {
        for await (const _ of this.#epoch!) {
          if (this.#stopped) break;
          this.refresh();
        }
      } catch (err) {
        if (!this.#stopped) log.error("fanout.watch_failed", { err });
      }
    })();
    this.#timer = setInterval(() => this.refresh(), this.refreshMs);
    this.#poll = setInterval(() => this.#pollHeads(), POLL_MS);
  }

  /**
   * Tells the other isolates of this process (and of this Deploy region) of a head this one just
   * committed. `watch` reaches them too, but later: between two KV handles in one process a
   * notification took 10–50 ms here, a broadcast well under one. It is only a hint: a follower
   * takes it like a watch report (from its cursor, once), and one that missed it still has
   * `watch` and the poll.
   */
  announce(lane: number, head: FanHead): void {
    try {
      this.#channel?.postMessage({ isolate: this.registry.id, lane, head } satisfies Announced);
    } catch (err) {
      log.warn("fanout.announce_failed", { err });
    }
  }

  /** Reads every followed head once (see POLL_MS) and pulls what `watch` did not report. */
  async #pollHeads(): Promise<void> {
    for (const [id, peer] of this.#peers) {
      try {
        const heads = await this.#readHeads(id, peer.cursors.length);
        if (this.#stopped || this.#peers.get(id) !== peer) continue;
        this.#heard(id, peer, heads);
      } catch (err) {
        if (!this.#stopped) log.warn("fanout.poll_failed", { isolate: id, err });
      }
    }
  }

  /** Looks at the registry again: follows new isolates, reads out and drops the gone ones. */
  refresh(): Promise<void> {
    this.#refreshing = this.#refreshing.then(async () => {
      if (this.#stopped) return;
      try {
        const live = await this.registry.live();
        for (const [id, rec] of live) {
          if (id === this.registry.id || this.#peers.has(id)) continue;
          // A new stream is read from its first entry; one seen before, from where it was left.
          const left = this.#gone.get(id)?.cursors ?? new Array(rec.lanes).fill(0);
          this.#gone.delete(id);
          await this.#follow(id, rec.lanes, left);
        }
        for (const id of [...this.#peers.keys()]) if (!live.has(id)) await this.#drop(id);
        const now = Date.now();
        for (const [id, g] of this.#gone) if (now - g.at > FAN_TTL_MS) this.#gone.delete(id);
      } catch (err) {
        log.warn("fanout.refresh_failed", { err });
      }
    });
    return this.#refreshing;
  }

  /** The keys of an isolate's stream heads, one per lane. */
  #headKeys(id: string, lanes: number): Deno.KvKey[] {
    return Array.from({ length: lanes }, (_, l) => keys.fanHead(id, l));
  }

  async #readHeads(id: string, lanes: number): Promise<(FanHead | null)[]> {
    const got = await getManyChunked<FanHead>(this.kv, this.#headKeys(id, lanes));
    return got.map((h) => h.value);
  }

  /** Heads seen (by watch, the poll or a last look): read each lane up to its head. */
  #heard(id: string, peer: Peer, heads: (FanHead | null)[]): void {
    heads.forEach((h, lane) => h && this.#want(id, peer, lane, h.n, h.evs));
  }

  async #follow(id: string, lanes: number, from: number[] | null): Promise<void> {
    const heads = this.#headKeys(id, lanes);
    const cursors = from ?? (await this.#readHeads(id, lanes)).map((h) => h?.n ?? 0);
    const peer: Peer = {
      cursors,
      pulling: heads.map(() => Promise.resolve()),
      stream: null,
      retry: heads.map(() => undefined),
    };
    if (this.#stopped) return;
    this.#peers.set(id, peer);
    peer.stream = this.kv.watch(heads);
    (async () => {
      try {
        for await (const entries of peer.stream!) {
          if (this.#stopped || this.#peers.get(id) !== peer) break;
          this.#heard(id, peer, entries.map((e) => e.value as FanHead | null));
        }
      } catch (err) {
        if (!this.#stopped && this.#peers.get(id) === peer) {
          log.error("fanout.watch_failed", { isolate: id, err });
        }
      }
    })();
  }

  /** Reads a stream up to `head`; `evs` are the events of entry `head` when the head had them. */
  #want(id: string, peer: Peer, lane: number, head: number, evs?: FanEvent[]): void {
    if (head <= peer.cursors[lane]) return;
    peer.pulling[lane] = peer.pulling[lane].then(() => this.#pull(id, peer, lane, head, evs));
  }

  async #pull(
    id: string,
    peer: Peer,
    lane: number,
    head: number,
    evs?: FanEvent[],
  ): Promise<void> {
    const from = peer.cursors[lane];
    if (head <= from || this.#stopped) return;
    // The next entry, carried by the head itself: nothing to read.
    if (evs && head === from + 1) {
      peer.cursors[lane] = head;
      this.#hand(evs);
      return;
    }
    try {
      const iter = this.kv.list<FanEntry>({
        start: keys.fan(id, lane, from + 1),
        end: keys.fan(id, lane, head + 1),
      });
      for await (const e of iter) {
        const n = e.key[3] as number;
        // Read up to here: a failure further on does not deliver these twice.
        peer.cursors[lane] = n;
        this.#hand(e.value.evs);
      }
      peer.cursors[lane] = Math.max(peer.cursors[lane], head);
    } catch (err) {
      if (this.#stopped) return;
      log.error("fanout.pull_failed", { isolate: id, lane, err });
      clearTimeout(peer.retry[lane]);
      peer.retry[lane] = setTimeout(() => this.#want(id, peer, lane, head), RETRY_MS);
    }
  }

  #hand(evs: FanEvent[]): void {
    for (const ev of evs) {
      this.observe(ev);
      this.target.dispatch(ev);
    }
  }

  /** Reads what is left of a stream whose isolate is gone, then stops watching it. */
  async #drop(id: string): Promise<void> {
    const peer = this.#peers.get(id)!;
    this.#heard(id, peer, await this.#readHeads(id, peer.cursors.length));
    await Promise.all(peer.pulling);
    this.#peers.delete(id);
    for (const t of peer.retry) clearTimeout(t);
    this.#gone.set(id, { cursors: peer.cursors, at: Date.now() });
    try {
      await peer.stream?.cancel();
    } catch { /* closed already */ }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearInterval(this.#poll);
    this.#channel?.close();
    const streams = [this.#epoch, ...[...this.#peers.values()].map((p) => p.stream)];
    for (const p of this.#peers.values()) for (const t of p.retry) clearTimeout(t);
    this.#peers.clear();
    for (const s of streams) {
      try {
        await s?.cancel();
      } catch { /* closed already */ }
    }
  }
}
