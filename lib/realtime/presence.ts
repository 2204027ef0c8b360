/**
 * Online presence across isolates and hosts: one KV key per (user, isolate) while the user has
 * sockets there, refreshed each minute with expireIn; last-seen written when the last one closes.
 * A KV write happens only on the first connect, the last disconnect and the minute refresh.
 */
import { keys } from "../kv/keys.ts";
import type { MessageLog } from "./message_log.ts";
import { getManyChunked } from "../chat/conversations.ts";
import { BOT_ID } from "../chat/conversations.ts";
import { log } from "../log.ts";

const TTL_MS = 150_000;
const REFRESH_MS = 60_000;

export class Presence {
  /** Sockets per user on this isolate that said hello and have not closed. */
  #local = new Map<string, number>();
  /** Users whose key this isolate has written (as far as it knows). */
  #marked = new Set<string>();
  /** Each user's transitions, run one after another. */
  #chains = new Map<string, Promise<void>>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly kv: Deno.Kv,
    private readonly isolate: string,
    private readonly log: MessageLog,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.#refresh(), REFRESH_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Resolves once no presence change is under way (at shutdown, before KV closes). */
  async settled(): Promise<void> {
    while (this.#chains.size) await Promise.allSettled([...this.#chains.values()]);
  }

  /** Users with sockets on this isolate (what the minute refresh keeps online). */
  get tracked(): number {
    return this.#local.size;
  }

  /** Counts one more socket of the user; resolves once the user is marked online. */
  connected(userId: string): Promise<void> {
    this.#local.set(userId, (this.#local.get(userId) ?? 0) + 1);
    return this.#settle(userId);
  }

  /** Counts one socket less; the last one marks the user offline (unless online elsewhere). */
  disconnected(userId: string): Promise<void> {
    const n = (this.#local.get(userId) ?? 0) - 1;
    if (n > 0) this.#local.set(userId, n);
    else this.#local.delete(userId);
    return this.#settle(userId);
  }

  /**
   * Moves the user's key toward the count at the moment the step runs, one step at a time per
   * user: a disconnect that overtakes its connect (a socket gone in the middle of its hello) can
   * never leave the key written, and a connect and disconnect in quick succession write nothing.
   */
  #settle(userId: string): Promise<void> {
    const step = () => this.#apply(userId);
    const next = (this.#chains.get(userId) ?? Promise.resolve()).then(step, step);
    this.#chains.set(userId, next);
    return next.finally(() => {
      if (this.#chains.get(userId) === next) this.#chains.delete(userId);
    });
  }

  async #apply(userId: string): Promise<void> {
    const want = this.#local.has(userId);
    if (want === this.#marked.has(userId)) return;
    const key = keys.presence(userId, this.isolate);
    if (want) {
      // The key rides with the log's next batch: a reconnect storm is a few commits, not one each.
      // "Online" goes out even when another isolate has the user online already: saying it twice
      // is harmless to a client, and asking first was a KV read on every user's first hello here.
      const mark = { key, value: this.now(), expireIn: TTL_MS };
      await this.log.publish({ t: "presence", user: userId, online: true, lastSeen: null }, [
        mark,
      ]);
      this.#marked.add(userId);
      return;
    }
    await this.log.write(userId, [{ key }]);
    this.#marked.delete(userId);
    if (await this.#onlineAnywhere(userId)) return;
    const at = this.now();
    await this.log.publish({ t: "presence", user: userId, online: false, lastSeen: at }, [{
      key: keys.lastSeen(userId),
      value: at,
    }]);
  }

  /** Whether a live presence key of the user's is left (no last-seen read: a hello's own step). */
  async #onlineAnywhere(userId: string): Promise<boolean> {
    if (userId === BOT_ID) return true;
    const now = this.now();
    for await (const e of this.kv.list<number>({ prefix: keys.presences(userId) })) {
      if (now - e.value < TTL_MS) return true;
    }
    return false;
  }

  /** Whether each user is online anywhere, and when they were last seen. */
  async online(
    userIds: string[],
  ): Promise<Map<string, { online: boolean; lastSeen: number | null }>> {
    const out = new Map<string, { online: boolean; lastSeen: number | null }>();
    const ids = userIds.filter((u) => u !== BOT_ID);
    if (userIds.includes(BOT_ID)) out.set(BOT_ID, { online: true, lastSeen: null });
    await Promise.all(ids.map(async (u) => {
      out.set(u, { online: await this.#onlineAnywhere(u), lastSeen: null });
    }));
    const seen = await getManyChunked<number>(this.kv, ids.map((u) => keys.lastSeen(u)));
    ids.forEach((u, i) => out.get(u)!.lastSeen = seen[i].value ?? null);
    return out;
  }

  async #refresh(): Promise<void> {
    const users = [...this.#local.keys()];
    const now = this.now();
    for (let i = 0; i < users.length; i += 500) {
      const op = this.kv.atomic();
      const batch = users.slice(i, i + 500);
      for (const u of batch) op.set(keys.presence(u, this.isolate), now, { expireIn: TTL_MS });
      try {
        await op.commit();
        // Written now, so the last disconnect deletes it; one that came during the commit
        // already ran, so the key is deleted again.
        for (const u of batch) {
          this.#marked.add(u);
          if (!this.#local.has(u)) {
            this.#settle(u).catch((err) => log.warn("presence.failed", { err }));
          }
        }
      } catch (err) {
        log.warn("presence.refresh_failed", { err });
      }
    }
  }
}
