/**
 * The newest messages of recently active conversations in this isolate, each with its "msg"
 * frame serialized once. When many clients resume at once (a restart, a network blip), they
 * replay from here instead of each reading the same messages from the log. A committed message
 * changes only by an update entry (a recall, a reaction) later in its own log, which passes
 * through here too and is applied to the copy kept; only contiguous runs are kept, so a range
 * comes either whole from memory or from KV.
 */
import { range } from "../chat/history.ts";
import type { Message } from "../wire/protocol.ts";
import { applyUpdate } from "../wire/updates.ts";

/** One message and its frame. */
export interface Recent {
  msg: Message;
  json: string;
}

export function msgFrame(msg: Message): string {
  return JSON.stringify({ type: "msg", msg });
}

export class RecentMessages {
  /** Runs per conversation, least recently used first. */
  #runs = new Map<string, Recent[]>();
  #total = 0;
  #loading = new Map<string, Promise<unknown>>();

  constructor(readonly perConv = 256, readonly maxTotal = 10_000) {}

  /** Adds a just-committed message; one that does not continue the run starts a new run. */
  add(msg: Message, json: string): void {
    const run = this.#runs.get(msg.conv);
    const last = run?.at(-1)?.msg.seq;
    if (last !== undefined && msg.seq <= last) return;
    const target = msg.kind === "update" ? msg.meta?.target : undefined;
    if (run && target !== undefined && target >= run[0].msg.seq && target <= last!) {
      const i = target - run[0].msg.seq;
      const updated = applyUpdate(run[i].msg, msg);
      if (updated !== run[i].msg) run[i] = { msg: updated, json: msgFrame(updated) };
    }
    if (!run || last !== msg.seq - 1) return this.#put(msg.conv, [{ msg, json }]);
    run.push({ msg, json });
    this.#total++;
    if (run.length > this.perConv) (run.shift(), this.#total--);
    this.#runs.delete(msg.conv);
    this.#runs.set(msg.conv, run);
    this.#evict(msg.conv);
  }

  /** Messages with seq in (after, upTo], oldest first: from memory when cached, else from KV. */
  async range(kv: Deno.Kv, conv: string, after: number, upTo: number): Promise<Recent[]> {
    if (upTo <= after) return [];
    const hit = this.#slice(conv, after, upTo);
    if (hit) return hit;
    // Clients resuming together wait for the first one's read rather than all reading.
    const loading = this.#loading.get(conv);
    if (loading) {
      // Its failure is its own caller's to report; this one reads again below.
      await loading.then(() => {}, () => {});
      const again = this.#slice(conv, after, upTo);
      if (again) return again;
    }
    const read = range(kv, conv, after, upTo, upTo - after);
    this.#loading.set(conv, read);
    try {
      const got = (await read).map((msg) => ({ msg, json: msgFrame(msg) }));
      this.#fill(conv, got);
      return got;
    } finally {
      if (this.#loading.get(conv) === read) this.#loading.delete(conv);
    }
  }

  #slice(conv: string, after: number, upTo: number): Recent[] | null {
    const run = this.#runs.get(conv);
    if (!run?.length) return null;
    const first = run[0].msg.seq;
    if (after + 1 < first || upTo > run[run.length - 1].msg.seq) return null;
    this.#runs.delete(conv);
    this.#runs.set(conv, run);
    return run.slice(after + 1 - first, upTo + 1 - first);
  }

  /** Merges a contiguous read into the run when they touch; a newer read replaces the run. */
  #fill(conv: string, got: Recent[]): void {
    if (!got.length) return;
    const run = this.#runs.get(conv) ?? [];
    const [a, b] = [got[0].msg.seq, got[got.length - 1].msg.seq];
    const [c, d] = run.length ? [run[0].msg.seq, run[run.length - 1].msg.seq] : [NaN, NaN];
    if (!run.length || a > d + 1) return this.#put(conv, [...got]);
    if (b + 1 < c) return;
    const merged = [
      ...got.filter((r) => r.msg.seq < c),
      ...run,
      ...got.filter((r) => r.msg.seq > d),
    ];
    this.#put(conv, merged);
  }

  #put(conv: string, run: Recent[]): void {
    this.#total -= this.#runs.get(conv)?.length ?? 0;
    this.#runs.delete(conv);
    const kept = run.length > this.perConv ? run.slice(run.length - this.perConv) : run;
    this.#runs.set(conv, kept);
    this.#total += kept.length;
    this.#evict(conv);
  }

  /** Drops the least recently used runs (never `keep`) while over the total. */
  #evict(keep: string): void {
    for (const [c, r] of this.#runs) {
      if (this.#total <= this.maxTotal || c === keep) break;
      this.#runs.delete(c);
      this.#total -= r.length;
    }
  }
}
