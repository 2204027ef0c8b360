/**
 * The browser's and the push service's sides of Web Push, for tests: a subscription with its own
 * keys, the decryption a browser does (RFC 8291), the VAPID check a push service does (RFC 8292),
 * and a push service on loopback that records what it gets.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createDecipheriv, createECDH, createHmac, type ECDH, randomBytes } from "node:crypto";
import type { PushSubscriptionJson } from "../lib/push/webpush.ts";

const TEXT = new TextEncoder();

/** The browser's side: a P-256 key pair and an auth secret, by node:crypto (not WebCrypto). */
export function newBrowser(
  endpoint: string,
): { ua: ECDH; auth: Buffer; sub: PushSubscriptionJson } {
  const ua = createECDH("prime256v1");
  ua.generateKeys();
  const auth = randomBytes(16);
  const keys = {
    p256dh: ua.getPublicKey().toString("base64url"),
    auth: auth.toString("base64url"),
  };
  return { ua, auth, sub: { endpoint, keys } };
}

/** HKDF-SHA-256 written out from RFC 5869 with HMAC (one block is enough for ≤ 32 bytes). */
export function hkdf(salt: Buffer, ikm: Buffer, info: Buffer, length: number): Buffer {
  const prk = createHmac("sha256", salt).update(ikm).digest();
  return createHmac("sha256", prk).update(Buffer.concat([info, Buffer.from([1])])).digest()
    .subarray(0, length);
}

/** What a browser does with a push message (RFC 8291 §3.4, RFC 8188 §2): returns the payload. */
export function decrypt(body: Uint8Array, ua: ECDH, auth: Buffer): Buffer {
  const b = Buffer.from(body);
  const salt = b.subarray(0, 16);
  const rs = b.readUInt32BE(16);
  const idlen = b[20];
  assert.equal(idlen, 65, "keyid is the server's 65-byte public key");
  const asPublic = b.subarray(21, 21 + idlen);
  const record = b.subarray(21 + idlen);
  assert.ok(record.length <= rs, "one record");
  const shared = ua.computeSecret(asPublic);
  const info = Buffer.concat([Buffer.from("WebPush: info\0"), ua.getPublicKey(), asPublic]);
  const ikm = hkdf(auth, shared, info, 32);
  const cek = hkdf(salt, ikm, Buffer.from("Content-Encoding: aes128gcm\0"), 16);
  const nonce = hkdf(salt, ikm, Buffer.from("Content-Encoding: nonce\0"), 12);
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const plain = Buffer.concat([
    decipher.update(record.subarray(0, record.length - 16)),
    decipher.final(),
  ]);
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--; // padding
  assert.equal(plain[end], 2, "last-record delimiter");
  return plain.subarray(0, end);
}

/** Checks a VAPID header as a push service does; returns the JWT claims. */
export async function verifyVapid(
  header: string,
): Promise<{ aud: string; exp: number; sub: string; k: string }> {
  const m = /^vapid t=([\w-]+)\.([\w-]+)\.([\w-]+), k=([\w-]+)$/.exec(header);
  assert.ok(m, `Authorization header "${header}"`);
  const [, h, c, s, k] = m;
  assert.deepEqual(JSON.parse(Buffer.from(h, "base64url").toString()), {
    typ: "JWT",
    alg: "ES256",
  });
  const key = await crypto.subtle.importKey(
    "raw",
    Buffer.from(k, "base64url"),
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
  const sig = Buffer.from(s, "base64url");
  assert.equal(sig.length, 64, "ES256 signature in r||s form");
  const ok = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    key,
    sig,
    TEXT.encode(`${h}.${c}`),
  );
  assert.ok(ok, "JWT signature verifies with k");
  return { ...JSON.parse(Buffer.from(c, "base64url").toString()), k };
}

export interface Received {
  method: string;
  path: string;
  headers: Headers;
  body: Uint8Array;
}

/** A push service on 127.0.0.1: records each request and answers `answer(path)`. */
export async function withPushService(
  answer: (path: string) => Response,
  fn: (origin: string, received: Received[]) => Promise<void>,
): Promise<void> {
  const received: Received[] = [];
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      const body = new Uint8Array(await req.arrayBuffer());
      received.push({ method: req.method, path, headers: req.headers, body });
      return answer(path);
    },
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, received);
  } finally {
    ac.abort();
    await server.finished;
  }
}
