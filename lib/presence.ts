/**
 * Online presence across isolates and hosts: one KV key per (user, isolate) while the user has
 * sockets there, refreshed each minute with expireIn; last-seen written when the last one closes.
 * A KV write happens only on the first connect, the last disconnect and the minute refresh.
 */
import { keys } from "./kv_keys.ts";
import type { MessageLog } from "./fanout.ts";
import { getManyChunked } from "./conversations.ts";
import { BOT_ID } from "./conversations.ts";

const TTL_MS = 150_000;
const REFRESH_MS = 60_000;

export class Presence {
  #local = new Map<string, number>();
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

  async connected(userId: string): Promise<void> {
    const n = (this.#local.get(userId) ?? 0) + 1;
    this.#local.set(userId, n);
    if (n > 1) return;
    const wasOnline = (await this.online([userId])).get(userId)?.online;
    // The key rides with the log's next batch: a reconnect storm is a few commits, not one each.
    const mark = { key: keys.presence(userId, this.isolate), value: this.now(), expireIn: TTL_MS };
    if (wasOnline) await this.log.write(userId, [mark]);
    else {await this.log.publish({ t: "presence", user: userId, online: true, lastSeen: null }, [
        mark,
      ]);}
  }

  async disconnected(userId: string): Promise<void> {
    const n = (this.#local.get(userId) ?? 1) - 1;
    if (n > 0) {
      this.#local.set(userId, n);
      return;
    }
    this.#local.delete(userId);
    await this.log.write(userId, [{ key: keys.presence(userId, this.isolate) }]);
    if ((await this.online([userId])).get(userId)?.online) return;
    const at = this.now();
    await this.log.publish({ t: "presence", user: userId, online: false, lastSeen: at }, [{
      key: keys.lastSeen(userId),
      value: at,
    }]);
  }

  /** Whether each user is online anywhere, and when they were last seen. */
  async online(
    userIds: string[],
  ): Promise<Map<string, { online: boolean; lastSeen: number | null }>> {
    const out = new Map<string, { online: boolean; lastSeen: number | null }>();
    const now = this.now();
    const ids = userIds.filter((u) => u !== BOT_ID);
    if (userIds.includes(BOT_ID)) out.set(BOT_ID, { online: true, lastSeen: null });
    await Promise.all(ids.map(async (u) => {
      let online = false;
      for await (const e of this.kv.list<number>({ prefix: keys.presences(u) })) {
        if (now - e.value < TTL_MS) online = true;
      }
      out.set(u, { online, lastSeen: null });
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
      for (const u of users.slice(i, i + 500)) {
        op.set(keys.presence(u, this.isolate), now, { expireIn: TTL_MS });
      }
      await op.commit().catch(() => {});
    }
  }
}
