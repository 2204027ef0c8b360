/**
 * Fixed-window rate limits kept in KV, so every isolate and host shares them. An event takes its
 * slot atomically before the work it limits, and the caller may give the slot back afterwards
 * (a login that turned out right is not a failure).
 */
import { keys } from "./keys.ts";
import { HttpError } from "../errors.ts";
import { log } from "../log.ts";

export interface Limit {
  /** How many events a window allows. */
  max: number;
  windowMs: number;
}

/** A counted event: which window's counter it is in, for `releaseSlot`. */
export interface Slot {
  key: Deno.KvKey;
  expireIn: number;
}

export interface RateState {
  ok: boolean;
  /** Seconds until the window resets (when not ok). */
  retryAfter: number;
  /** The slot taken (when ok). */
  slot?: Slot;
}

/** Commits lost to writers on other isolates or hosts before an event is refused. */
const ATTEMPTS = 20;

function windowOf(limit: Limit, now: number): { start: number; retryAfter: number } {
  const start = Math.floor(now / limit.windowMs);
  const retryAfter = Math.max(1, Math.ceil(((start + 1) * limit.windowMs - now) / 1000));
  return { start, retryAfter };
}

const queues = new Map<string, Promise<void>>();

/**
 * Runs `fn` after every earlier call for the same counter in this process. Without it, 600
 * concurrent logins race for one counter and most lose their checked write; losing is safe
 * (it refuses) but refuses people who were within the limit.
 */
function oneAtATime<T>(id: string, fn: () => Promise<T>): Promise<T> {
  const before = queues.get(id) ?? Promise.resolve();
  const run = before.then(fn);
  // The next caller waits for this one to end, however it ends; its error reaches its own caller.
  const done = run.then(() => {}, () => {});
  queues.set(id, done);
  done.then(() => {
    if (queues.get(id) === done) queues.delete(id);
  });
  return run;
}

/**
 * Counts one event if the window has room; returns whether it did. A checked write, so no two
 * callers anywhere get the same slot; a write that keeps losing to others is refused, never let in.
 */
export function hitLimit(
  kv: Deno.Kv,
  bucket: string,
  subject: string,
  limit: Limit,
  now = Date.now(),
): Promise<RateState> {
  const w = windowOf(limit, now);
  const key = keys.rate(bucket, subject, w.start);
  const expireIn = limit.windowMs * 2;
  return oneAtATime(JSON.stringify(key), async () => {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const cur = await kv.get<number>(key);
      const count = cur.value ?? 0;
      if (count >= limit.max) return { ok: false, retryAfter: w.retryAfter };
      const res = await kv.atomic().check(cur).set(key, count + 1, { expireIn }).commit();
      if (res.ok) return { ok: true, retryAfter: w.retryAfter, slot: { key, expireIn } };
    }
    log.warn("rate.contended", { bucket });
    return { ok: false, retryAfter: w.retryAfter };
  });
}

/** Gives a counted event back to the window it was counted in (never below zero). */
export function releaseSlot(kv: Deno.Kv, slot: Slot): Promise<void> {
  return oneAtATime(JSON.stringify(slot.key), async () => {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const cur = await kv.get<number>(slot.key);
      if (!cur.value) return;
      // Back at zero, the counter goes: a window whose events were all given back holds nothing.
      const op = kv.atomic().check(cur);
      if (cur.value === 1) op.delete(slot.key);
      else op.set(slot.key, cur.value - 1, { expireIn: slot.expireIn });
      const res = await op.commit();
      if (res.ok) return;
    }
    // Left counted: the limit errs on the side of refusing.
    log.warn("rate.release_contended", { key: slot.key });
  });
}

/** The 429 every limit answers. */
export function tooMany(retryAfter: number): HttpError {
  return new HttpError(429, "rate_limited", `Too many attempts; try again in ${retryAfter} s`, {
    retryAfter,
    params: { seconds: retryAfter },
  });
}

/** Counts one event, before the work it limits, and throws 429 when over the limit. */
export async function enforce(
  kv: Deno.Kv,
  bucket: string,
  subject: string,
  limit: Limit,
  now: number,
): Promise<void> {
  const r = await hitLimit(kv, bucket, subject, limit, now);
  if (!r.ok) throw tooMany(r.retryAfter);
}

/**
 * Takes a slot in each limit, in order; when one refuses, gives back the ones taken and throws 429
 * (a refused attempt did no work, so it counts nowhere).
 */
export async function takeSlots(
  kv: Deno.Kv,
  wanted: { bucket: string; subject: string; limit: Limit }[],
  now: number,
): Promise<Slot[]> {
  const taken: Slot[] = [];
  for (const w of wanted) {
    const r = await hitLimit(kv, w.bucket, w.subject, w.limit, now);
    if (!r.ok) {
      await releaseSlots(kv, taken);
      throw tooMany(r.retryAfter);
    }
    taken.push(r.slot!);
  }
  return taken;
}

export async function releaseSlots(kv: Deno.Kv, slots: Slot[]): Promise<void> {
  await Promise.all(slots.map((s) => releaseSlot(kv, s)));
}

const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;

/** Expands an IPv6 address to its eight groups, or null if it is not one. */
function ipv6Groups(ip: string): string[] | null {
  if (!/^[0-9a-f:.]+$/i.test(ip) || ip.length > 45) return null;
  const halves = ip.toLowerCase().split("::");
  if (halves.length > 2) return null;
  const part = (s: string) => (s ? s.split(":") : []);
  const [head, tail] = [part(halves[0]), part(halves[1] ?? "")];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => g.replace(/^0+(?=.)/, ""));
}

/**
 * The client address as the limits count it. One IPv6 /64 is one address, because a single
 * customer usually gets a whole /64 and could otherwise step through it; IPv4 addresses (also
 * written as IPv4-mapped IPv6) count one by one. Anything else is cut short to fit in a KV key.
 */
export function addressKey(ip: string): string {
  const mapped = ip.toLowerCase().match(/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/);
  if (mapped) return mapped[1];
  if (IPV4.test(ip)) return ip;
  const groups = ipv6Groups(ip);
  if (groups) return `${groups.slice(0, 4).join(":")}::/64`;
  return ip.slice(0, 64);
}
