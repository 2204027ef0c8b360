/**
 * Web Push without a library: VAPID (RFC 8292) to identify this server to the browser's push
 * service, and the "aes128gcm" payload encryption (RFC 8291 over RFC 8188) so only the browser
 * can read the message. WebCrypto only; one record per message, so a payload is at most
 * `MAX_PAYLOAD` bytes and the body at most the 4096 bytes every push service accepts.
 */
import { concatBytes } from "../bytes.ts";
import { base64url } from "../ids.ts";
import { log } from "../log.ts";

/** The server's VAPID key pair as stored (KV, JSON): the public key as the browser takes it. */
export interface VapidKeys {
  /** base64url of the 65-byte uncompressed P-256 point (`applicationServerKey`). */
  publicKey: string;
  /** The ECDSA P-256 private key as a JWK. */
  privateJwk: JsonWebKey;
}

/** A browser subscription as `PushSubscription.toJSON()` gives it (keys in base64url). */
export interface PushSubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** Push message urgency (RFC 8030 §5.3). */
export type Urgency = "very-low" | "low" | "normal" | "high";

/** Options for `sendPush()`. */
export interface SendPushOptions {
  vapid: VapidKeys;
  /** Contact for the push service: "mailto:…" or an https URL. */
  subject: string;
  /** How long the push service keeps an undelivered message (TTL header); default 24 h. */
  ttlSec?: number;
  urgency?: Urgency;
  /** Replaces an undelivered message with the same topic (≤ 32 base64url characters). */
  topic?: string;
  /** The fetch to use (a guarded one that refuses private addresses); default `globalThis.fetch`. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Gives up on the request after this long; default 10 s. */
  timeoutMs?: number;
  /** Clock in milliseconds since the epoch; default `Date.now`. */
  now?: () => number;
}

/** What the push service answered; status 0 when no answer came (network error, timeout). */
export interface PushResult {
  ok: boolean;
  status: number;
  /** 404 or 410: the subscription is dead and should be removed. */
  gone: boolean;
  /** Seconds to wait before retrying, when the service said (Retry-After). */
  retryAfter?: number;
}

const RECORD_SIZE = 4096;
const SALT_LEN = 16;
const POINT_LEN = 65;
const HEADER_LEN = SALT_LEN + 4 + 1 + POINT_LEN; // 86
const TAG_LEN = 16;
/** The largest payload that fits one record in a 4096-byte body: 4096 − 86 − 16 − 1 delimiter. */
export const MAX_PAYLOAD = RECORD_SIZE - HEADER_LEN - TAG_LEN - 1;
const MAX_ENDPOINT = 1000;
const MAX_JWT_LIFETIME = 24 * 3600; // RFC 8292 §2: exp no more than 24 hours ahead
const RESPONSE_READ_LIMIT = 4096;
const CACHE_LIMIT = 256;
const TEXT = new TextEncoder();
const ECDH: EcKeyImportParams = { name: "ECDH", namedCurve: "P-256" };
const ECDSA: EcKeyImportParams = { name: "ECDSA", namedCurve: "P-256" };

/** Makes a new VAPID key pair, extractable so it can be stored as JSON. */
export async function generateVapidKeys(): Promise<VapidKeys> {
  const pair = await crypto.subtle.generateKey(ECDSA, true, ["sign", "verify"]);
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return {
    publicKey: base64url(raw),
    privateJwk: await crypto.subtle.exportKey("jwk", pair.privateKey),
  };
}

const signingKeys = new Map<string, Promise<CryptoKey>>();

/** The VAPID signing key (imported once per key pair); throws if the pair does not match. */
export async function importVapid(keys: VapidKeys): Promise<CryptoKey> {
  const { kty, crv, x, y, d } = keys.privateJwk ?? {};
  if (kty !== "EC" || crv !== "P-256" || !x || !y || !d) {
    throw new Error("Invalid VAPID private key: expected a P-256 EC JWK with x, y and d");
  }
  const point = b64uDecode(keys.publicKey, "VAPID public key");
  if (base64url(point) !== base64url(new Uint8Array([4, ...b64uDecode(x), ...b64uDecode(y)]))) {
    throw new Error("Invalid VAPID keys: the public key does not match the private key");
  }
  const id = `${keys.publicKey}.${d}`;
  let key = signingKeys.get(id);
  if (!key) {
    key = crypto.subtle.importKey("jwk", { kty, crv, x, y, d }, ECDSA, false, ["sign"]);
    key.catch(() => signingKeys.delete(id)); // a failed import is not cached; the caller sees it
    remember(signingKeys, id, key);
  }
  return await key;
}

const tokens = new Map<string, { value: string; exp: number }>();

/**
 * The `Authorization` header value for a push to `endpoint` (RFC 8292): `vapid t=<ES256 JWT>,
 * k=<public key>`. The token is reused per push service until it is close to expiring.
 */
export async function vapidAuthorization(
  endpoint: string,
  keys: VapidKeys,
  subject: string,
  nowSec: number,
  ttlSec = 12 * 3600,
): Promise<string> {
  const aud = new URL(endpoint).origin;
  if (!/^mailto:[^@\s]+@[^@\s]+$/.test(subject) && !/^https:\/\/[^\s]+$/.test(subject)) {
    throw new Error(`Invalid VAPID subject "${subject}": expected "mailto:…" or an https URL`);
  }
  const lifetime = Math.min(Math.floor(ttlSec), MAX_JWT_LIFETIME);
  if (!(lifetime > 0)) throw new Error(`Invalid VAPID token lifetime "${ttlSec}"`);
  const now = Math.floor(nowSec);
  const id = `${aud} ${keys.publicKey} ${subject}`;
  const hit = tokens.get(id);
  const margin = Math.min(3600, Math.floor(lifetime / 2));
  if (hit && hit.exp - now > margin && hit.exp <= now + MAX_JWT_LIFETIME) return hit.value;

  const key = await importVapid(keys);
  const part = (o: unknown) => base64url(TEXT.encode(JSON.stringify(o)));
  const exp = now + lifetime;
  const input = `${part({ typ: "JWT", alg: "ES256" })}.${part({ aud, exp, sub: subject })}`;
  // WebCrypto's ECDSA signature is already r||s, the JOSE form ES256 wants
  const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, TEXT.encode(input));
  const value = `vapid t=${input}.${base64url(new Uint8Array(sig))}, k=${keys.publicKey}`;
  remember(tokens, id, { value, exp });
  return value;
}

/**
 * Checks a subscription a browser sent and returns just its fields; throws on a bad shape.
 * Only https endpoints, unless `allowHttp` (loopback tests).
 */
export function validateSubscription(
  x: unknown,
  opts: { allowHttp?: boolean } = {},
): PushSubscriptionJson {
  const o = x as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } } | null;
  if (typeof o !== "object" || o === null) {
    throw new Error("Invalid push subscription: not an object");
  }
  const { endpoint, keys } = o;
  if (typeof endpoint !== "string") throw new Error("Invalid push subscription: no endpoint");
  if (endpoint.length > MAX_ENDPOINT) {
    throw new Error(`Invalid push endpoint: longer than ${MAX_ENDPOINT} characters`);
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`Invalid push endpoint "${endpoint}": not a URL`);
  }
  if (url.protocol !== "https:" && !(opts.allowHttp && url.protocol === "http:")) {
    throw new Error(`Invalid push endpoint "${endpoint}": expected https`);
  }
  if (url.username || url.password) {
    throw new Error(`Invalid push endpoint "${endpoint}": credentials in the URL`);
  }
  if (typeof keys !== "object" || keys === null) {
    throw new Error("Invalid push subscription: no keys");
  }
  const { p256dh, auth } = keys;
  if (typeof p256dh !== "string" || typeof auth !== "string") {
    throw new Error("Invalid push subscription: keys.p256dh and keys.auth must be strings");
  }
  const sub = { endpoint, keys: { p256dh, auth } };
  decodeKeys(sub);
  return sub;
}

/**
 * Encrypts `payload` for the subscription's browser: RFC 8291 keys, one RFC 8188 "aes128gcm"
 * record (header: salt, record size, the server's ephemeral public key). `salt` and `serverKeys`
 * (an ECDH P-256 pair) are for deterministic tests only.
 */
export async function encryptPayload(
  sub: PushSubscriptionJson,
  payload: Uint8Array,
  opts: { salt?: Uint8Array; serverKeys?: CryptoKeyPair } = {},
): Promise<Uint8Array<ArrayBuffer>> {
  if (payload.byteLength > MAX_PAYLOAD) {
    throw new Error(`Push payload too large: ${payload.byteLength} bytes, at most ${MAX_PAYLOAD}`);
  }
  const { uaPublic, auth } = decodeKeys(sub);
  const salt = opts.salt ? new Uint8Array(opts.salt) : crypto.getRandomValues(new Uint8Array(16));
  if (salt.length !== SALT_LEN) throw new Error(`Invalid salt: expected ${SALT_LEN} bytes`);
  const pair = opts.serverKeys ?? await crypto.subtle.generateKey(ECDH, false, ["deriveBits"]);
  const asPublic = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const uaKey = await crypto.subtle.importKey("raw", uaPublic, ECDH, false, []);
  const ecdh = await crypto.subtle.deriveBits(
    { name: "ECDH", public: uaKey },
    pair.privateKey,
    256,
  );

  const keyInfo = concatBytes([TEXT.encode("WebPush: info\0"), uaPublic, asPublic]);
  const ikm = await hkdf(auth, new Uint8Array(ecdh), keyInfo, 32);
  const cek = await hkdf(salt, ikm, TEXT.encode("Content-Encoding: aes128gcm\0"), 16);
  const nonce = await hkdf(salt, ikm, TEXT.encode("Content-Encoding: nonce\0"), 12);

  const plain = new Uint8Array(payload.byteLength + 1);
  plain.set(payload);
  plain[payload.byteLength] = 2; // the last (and only) record's delimiter, no padding
  const aes = await crypto.subtle.importKey("raw", cek, "AES-GCM", false, ["encrypt"]);
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce }, aes, plain);

  const header = new Uint8Array(HEADER_LEN);
  header.set(salt);
  new DataView(header.buffer).setUint32(SALT_LEN, RECORD_SIZE);
  header[SALT_LEN + 4] = POINT_LEN;
  header.set(asPublic, SALT_LEN + 5);
  return concatBytes([header, new Uint8Array(sealed)]);
}

/**
 * Sends `payload` (JSON-encoded, encrypted) to the subscription's push service. Never throws for
 * an HTTP failure or a network error (status 0); throws for a payload too large or bad keys.
 */
export async function sendPush(
  sub: PushSubscriptionJson,
  payload: unknown,
  opts: SendPushOptions,
): Promise<PushResult> {
  const now = opts.now ?? Date.now;
  const json = JSON.stringify(payload);
  if (json === undefined) throw new Error("Invalid push payload: not JSON-encodable");
  const topic = opts.topic;
  if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) {
    throw new Error(`Invalid push topic "${topic}": expected 1 to 32 base64url characters`);
  }
  const body = await encryptPayload(sub, TEXT.encode(json));
  const headers: Record<string, string> = {
    "Content-Encoding": "aes128gcm",
    "Content-Type": "application/octet-stream",
    "TTL": String(Math.max(0, Math.floor(opts.ttlSec ?? 24 * 3600))),
    "Urgency": opts.urgency ?? "normal",
    "Authorization": await vapidAuthorization(
      sub.endpoint,
      opts.vapid,
      opts.subject,
      Math.floor(now() / 1000),
    ),
  };
  if (topic !== undefined) headers["Topic"] = topic;

  const doFetch = opts.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  const ac = new AbortController();
  const timer = setTimeout(
    () => ac.abort(new Error("Push request timed out")),
    opts.timeoutMs ?? 10_000,
  );
  const origin = new URL(sub.endpoint).origin; // the rest of the endpoint is a capability: not logged
  try {
    const init: RequestInit = {
      method: "POST",
      headers,
      body,
      signal: ac.signal,
      redirect: "manual",
    };
    const res = await doFetch(sub.endpoint, init);
    await discardBody(res, origin);
    const result: PushResult = {
      ok: res.status >= 200 && res.status < 300,
      status: res.status,
      gone: res.status === 404 || res.status === 410,
    };
    const retryAfter = parseRetryAfter(res.headers.get("retry-after"), now());
    if (retryAfter !== undefined) result.retryAfter = retryAfter;
    return result;
  } catch (error) {
    log.warn("push.send_failed", { origin, error });
    return { ok: false, status: 0, gone: false };
  } finally {
    clearTimeout(timer);
  }
}

/** Reads at most a few KB of a response (so the connection can be reused) and drops it. */
async function discardBody(res: Response, origin: string): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  try {
    for (let seen = 0; seen < RESPONSE_READ_LIMIT;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
    }
  } catch (error) {
    log.debug("push.response_unread", { origin, error }); // the status is already known
  } finally {
    await reader.cancel().catch((error) => log.debug("push.response_cancel", { origin, error }));
  }
}

/** Retry-After as seconds from now: delay-seconds or an HTTP date. */
function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** The subscription's keys as bytes; throws unless p256dh is a P-256 point and auth 16 bytes. */
function decodeKeys(
  sub: PushSubscriptionJson,
): { uaPublic: Uint8Array<ArrayBuffer>; auth: Uint8Array<ArrayBuffer> } {
  const uaPublic = b64uDecode(sub.keys.p256dh, "keys.p256dh");
  if (uaPublic.length !== POINT_LEN || uaPublic[0] !== 4 || !isP256Point(uaPublic)) {
    throw new Error("Invalid push subscription: keys.p256dh is not an uncompressed P-256 point");
  }
  const auth = b64uDecode(sub.keys.auth, "keys.auth");
  if (auth.length !== 16) throw new Error("Invalid push subscription: keys.auth is not 16 bytes");
  return { uaPublic, auth };
}

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

/**
 * Whether 0x04||x||y is on P-256 (y² = x³ − 3x + b mod p; cofactor 1, so that is validity).
 * Checked here, synchronously, rather than by WebCrypto's async import.
 */
function isP256Point(point: Uint8Array): boolean {
  const hex = (b: Uint8Array) =>
    BigInt("0x" + Array.from(b, (v) => v.toString(16).padStart(2, "0")).join(""));
  const x = hex(point.subarray(1, 33));
  const y = hex(point.subarray(33, 65));
  if (x >= P || y >= P) return false;
  const mod = (n: bigint) => ((n % P) + P) % P;
  return mod(y * y) === mod(x * x * x - 3n * x + B);
}

/** HKDF-SHA-256 (RFC 5869), `length` bytes. */
async function hkdf(
  salt: Uint8Array<ArrayBuffer>,
  ikm: Uint8Array<ArrayBuffer>,
  info: Uint8Array<ArrayBuffer>,
  length: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt, info },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}

/** Strict base64url (padding tolerated); throws naming the field. */
function b64uDecode(s: string, field = "value"): Uint8Array<ArrayBuffer> {
  const t = s.replace(/=+$/, "");
  if (!/^[A-Za-z0-9_-]*$/.test(t) || t.length % 4 === 1) {
    throw new Error(`Invalid ${field}: not base64url`);
  }
  const bin = atob(t.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** Sets a cache entry, dropping the oldest past the limit (a few push services, a few keys). */
function remember<V>(cache: Map<string, V>, id: string, value: V): void {
  cache.delete(id);
  cache.set(id, value);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
}
