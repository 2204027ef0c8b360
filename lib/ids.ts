/** Ids and secrets from the CSPRNG, and hashing of secrets for storage. */
import { createHash } from "node:crypto";

const B32 = "0123456789abcdefghjkmnpqrstvwxyz";

/** A sortable id: 10 chars of milliseconds then 10 random chars (Crockford base32, lower case). */
export function newId(now = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = B32[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const rnd = crypto.getRandomValues(new Uint8Array(10));
  let tail = "";
  for (const b of rnd) tail += B32[b % 32];
  return time + tail;
}

/** URL-safe base64 without padding. */
export function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** A secret token with `bytes` random bytes (32 = 256 bits). */
export function newToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * SHA-256 of a string, as base64url: how tokens are stored, so a KV leak reveals none. Hashed in
 * place (node:crypto): every request with a session cookie hashes its token, and WebCrypto's
 * digest is an async op on another thread, ~5x the CPU for a 43-character token.
 */
export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("base64url");
}

/** Compares two strings in time that depends only on their lengths. */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
