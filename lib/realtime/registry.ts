/**
 * Which isolates are alive: each writes `[isolate, id]` with an expiry and renews it on a heartbeat,
 * and bumps `[isolate_epoch]` when it starts or stops, so the others (lib/realtime/watcher.ts) learn
 * of a new stream at once instead of at their next look. An isolate that dies stops renewing:
 * its record carries `until`, and past it (or once KV has expired the key) nobody lists it.
 */
import { keys } from "../kv/keys.ts";
import { log } from "../log.ts";

/** How long a registration lasts without a heartbeat. */
export const ISOLATE_TTL_MS = 30_000;
export const HEARTBEAT_MS = 10_000;

export interface IsolateRecord {
  /** Its writer lanes (the heads to watch). */
  lanes: number;
  started: number;
  /** Alive until then, unless renewed. */
  until: number;
}

export class Registry {
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly kv: Deno.Kv,
    readonly id: string,
    private readonly lanes: number,
    private readonly now: () => number = Date.now,
    timing: { ttlMs?: number; heartbeatMs?: number } = {},
  ) {
    this.ttlMs = timing.ttlMs ?? ISOLATE_TTL_MS;
    this.heartbeatMs = timing.heartbeatMs ?? HEARTBEAT_MS;
  }

  readonly ttlMs: number;
  readonly heartbeatMs: number;

  #record(started: number): IsolateRecord {
    return { lanes: this.lanes, started, until: this.now() + this.ttlMs };
  }

  /** Registers this isolate and starts the heartbeat. */
  async register(): Promise<void> {
    const started = this.now();
    await this.kv.atomic()
      .set(keys.isolate(this.id), this.#record(started), { expireIn: this.ttlMs })
      .sum(keys.isolateEpoch(), 1n)
      .commit();
    this.#timer = setInterval(async () => {
      try {
        // Lapsed (a stalled event loop, a long KV outage): the others dropped this stream, so say
        // it again the way a start does, and they pick it up where they left it.
        const lapsed = !(await this.kv.get(keys.isolate(this.id))).value;
        const op = this.kv.atomic()
          .set(keys.isolate(this.id), this.#record(started), { expireIn: this.ttlMs });
        if (lapsed) op.sum(keys.isolateEpoch(), 1n);
        await op.commit();
      } catch (err) {
        log.warn("fanout.heartbeat_failed", { err });
      }
    }, this.heartbeatMs);
  }

  /** Stops renewing: the registration lapses as a dead isolate's does (tests use it). */
  stopHeartbeat(): void {
    clearInterval(this.#timer);
  }

  /** Stops the heartbeat and deregisters (the others read what is left of the stream first). */
  async unregister(): Promise<void> {
    clearInterval(this.#timer);
    await this.kv.atomic().delete(keys.isolate(this.id)).sum(keys.isolateEpoch(), 1n).commit();
  }

  /** The isolates alive now, this one included. */
  async live(): Promise<Map<string, IsolateRecord>> {
    const out = new Map<string, IsolateRecord>();
    const now = this.now();
    for await (const e of this.kv.list<IsolateRecord>({ prefix: keys.isolates() })) {
      if (e.value.until > now) out.set(e.key[1] as string, e.value);
    }
    return out;
  }
}
