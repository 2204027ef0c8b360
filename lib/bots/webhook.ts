/**
 * Signed outgoing webhooks (docs/bots.md#webhooks). Each attempt POSTs the JSON payload with a
 * fresh timestamp and an HMAC-SHA256 of `${timestamp}.${body}` under the bot's secret, so a
 * receiver can check who sent it and refuse a replay; the delivery id stays the same across the
 * retries of one delivery so a receiver can drop duplicates. Retries (bounded, with growing
 * backoff) follow network errors, timeouts, 429 and 5xx; any other answer, and an address the
 * outbound policy refuses, is final. Requests go out through the outbound guard (./outbound.ts).
 */
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";
import { newId } from "../ids.ts";
import { log } from "../log.ts";
import { guardedFetch, type OutboundPolicy, OutboundRefused, readCapped } from "./outbound.ts";

/** Unix seconds at which the attempt was signed. */
export const TIMESTAMP_HEADER = "X-HappyChat-Timestamp";
/** `sha256=<hex>`: HMAC-SHA256 of `${timestamp}.${body}` under the webhook's secret. */
export const SIGNATURE_HEADER = "X-HappyChat-Signature";
/** One id per delivery, the same on each of its retries. */
export const DELIVERY_HEADER = "X-HappyChat-Delivery";
/** The User-Agent of every webhook request. */
export const WEBHOOK_USER_AGENT = "HappyChat-Webhook/1";
/** How much of a receiver's answer is read (then dropped): enough to end the exchange cleanly. */
const RESPONSE_MAX = 64 * 1024;

function hmac(secret: string, timestamp: number | string, body: string): Buffer {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest();
}

/** The lowercase hex HMAC-SHA256 of `${timestamp}.${body}` (what follows `sha256=`). */
export function signWebhook(secret: string, timestamp: number, body: string): Promise<string> {
  return Promise.resolve(hmac(secret, timestamp, body).toString("hex"));
}

/**
 * Whether a delivery is genuine: the signature (`sha256=<hex>` or bare hex) matches, compared in
 * constant time, and the timestamp is within `toleranceSec` of `nowSec` either way.
 */
export function verifyWebhook(
  secret: string,
  headers: { timestamp: string | null; signature: string | null },
  body: string,
  nowSec: number,
  toleranceSec = 300,
): boolean {
  const { timestamp, signature } = headers;
  if (!timestamp || !/^\d{1,15}$/.test(timestamp) || !signature) return false;
  if (Math.abs(nowSec - Number(timestamp)) > toleranceSec) return false;
  const hex = /^(?:sha256=)?([0-9a-fA-F]{64})$/.exec(signature.trim())?.[1];
  return !!hex && timingSafeEqual(hmac(secret, timestamp, body), Buffer.from(hex, "hex"));
}

/** The default wait after failed attempt `attempt` (1-based): 1 s, 4 s, 16 s, then 64 s, ±20 %. */
export function webhookBackoff(attempt: number): number {
  const base = Math.min(1000 * 4 ** (attempt - 1), 64_000);
  return Math.round(base * (0.8 + 0.4 * Math.random()));
}

/** Options of `deliverWebhook`. */
export interface DeliverOptions {
  /** What the outbound guard allows. */
  policy: OutboundPolicy;
  /** Attempts at most (default 5). */
  attempts?: number;
  /** The wait after failed attempt n (default `webhookBackoff`). */
  backoffMs?: (attempt: number) => number;
  /** The bound on one attempt, redirects and reading the answer included (default 10 s). */
  timeoutMs?: number;
  /** Waits between attempts (tests record the delays instead). */
  sleep?: (ms: number) => Promise<void>;
  /** Aborting it stops the delivery (ok: false, error "aborted"). */
  signal?: AbortSignal;
  /** The clock, in milliseconds (default `Date.now`). */
  now?: () => number;
}

/** How a delivery ended; `attempts` counts the attempts that sent a request. */
export interface DeliveryResult {
  ok: boolean;
  attempts: number;
  /** The last HTTP status received, if any. */
  status?: number;
  /** Why it failed: "HTTP 500", "timeout", "network: …", "refused: <reason>", "aborted". */
  error?: string;
  deliveryId: string;
}

interface Outcome {
  ok: boolean;
  retry: boolean;
  /** Whether a request left this machine (false when refused before the first hop). */
  sent: boolean;
  status?: number;
  error?: string;
}

/** POSTs `payload` to the webhook, retrying within bounds; never throws for a failed delivery. */
export async function deliverWebhook(
  target: { url: string; secret: string },
  payload: unknown,
  opts: DeliverOptions,
): Promise<DeliveryResult> {
  const now = opts.now ?? Date.now;
  const max = opts.attempts ?? 5;
  const body = JSON.stringify(payload);
  const deliveryId = newId(now());
  let attempts = 0;
  let last: Outcome = { ok: false, retry: false, sent: false, error: "aborted" };
  for (let n = 1; n <= max && !opts.signal?.aborted; n++) {
    last = await attempt(target, body, { deliveryId, now, opts });
    if (last.sent) attempts++;
    if (last.ok || !last.retry || n === max) break;
    const wait = (opts.backoffMs ?? webhookBackoff)(n);
    log.debug("webhook.retry", { deliveryId, attempt: n, wait, error: last.error });
    await (opts.sleep ?? ((ms) => sleep(ms, opts.signal)))(wait);
  }
  if (opts.signal?.aborted && !last.ok) last = { ...last, error: "aborted" };
  return { ok: last.ok, attempts, status: last.status, error: last.error, deliveryId };
}

/** One signed POST; its answer read (at most 64 KB) and dropped. */
async function attempt(
  target: { url: string; secret: string },
  body: string,
  ctx: { deliveryId: string; now: () => number; opts: DeliverOptions },
): Promise<Outcome> {
  const timestamp = Math.floor(ctx.now() / 1000);
  const headers = {
    "content-type": "application/json",
    "user-agent": WEBHOOK_USER_AGENT,
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: `sha256=${hmac(target.secret, timestamp, body).toString("hex")}`,
    [DELIVERY_HEADER]: ctx.deliveryId,
  };
  const { policy, timeoutMs, signal } = ctx.opts;
  try {
    const init = { method: "POST", body, headers, timeoutMs, signal };
    const res = await guardedFetch(target.url, init, policy);
    const status = res.status;
    await readCapped(res, RESPONSE_MAX).catch((err) =>
      log.debug("webhook.answer_unread", { deliveryId: ctx.deliveryId, status, err })
    );
    if (status >= 200 && status < 300) return { ok: true, retry: false, sent: true, status };
    const retry = status === 429 || status >= 500;
    return { ok: false, retry, sent: true, status, error: `HTTP ${status}` };
  } catch (err) {
    if (err instanceof OutboundRefused) {
      return { ok: false, retry: false, sent: err.hop > 0, error: `refused: ${err.reason}` };
    }
    if (signal?.aborted) return { ok: false, retry: false, sent: true, error: "aborted" };
    const timedOut = (err as { name?: unknown } | null)?.name === "TimeoutError";
    const error = timedOut ? "timeout" : `network: ${err instanceof Error ? err.message : err}`;
    return { ok: false, retry: true, sent: true, error };
  }
}

/** Waits `ms`, or less if `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
