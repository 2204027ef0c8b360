/** Fixed-window rate limits kept in KV, so every isolate and host shares them. */
import { keys } from "./kv_keys.ts";

export interface Limit {
  /** How many events a window allows. */
  max: number;
  windowMs: number;
}

export interface RateState {
  ok: boolean;
  /** Seconds until the window resets (when not ok). */
  retryAfter: number;
}

function windowOf(limit: Limit, now: number): { start: number; retryAfter: number } {
  const start = Math.floor(now / limit.windowMs);
  const retryAfter = Math.max(1, Math.ceil(((start + 1) * limit.windowMs - now) / 1000));
  return { start, retryAfter };
}

/** Whether another event is allowed, without counting one. */
export async function peekLimit(
  kv: Deno.Kv,
  bucket: string,
  subject: string,
  limit: Limit,
  now = Date.now(),
): Promise<RateState> {
  const w = windowOf(limit, now);
  const count = (await kv.get<number>(keys.rate(bucket, subject, w.start))).value ?? 0;
  return { ok: count < limit.max, retryAfter: w.retryAfter };
}

/** Counts one event; returns whether it was within the limit. */
export async function hitLimit(
  kv: Deno.Kv,
  bucket: string,
  subject: string,
  limit: Limit,
  now = Date.now(),
): Promise<RateState> {
  const w = windowOf(limit, now);
  const key = keys.rate(bucket, subject, w.start);
  for (let attempt = 0; attempt < 20; attempt++) {
    const cur = await kv.get<number>(key);
    const count = cur.value ?? 0;
    if (count >= limit.max) return { ok: false, retryAfter: w.retryAfter };
    const res = await kv.atomic().check(cur).set(key, count + 1, { expireIn: limit.windowMs * 2 })
      .commit();
    if (res.ok) return { ok: true, retryAfter: w.retryAfter };
  }
  return { ok: false, retryAfter: w.retryAfter };
}
