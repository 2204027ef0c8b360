import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createECDH, randomBytes } from "node:crypto";
import {
  encryptPayload,
  generateVapidKeys,
  importVapid,
  MAX_PAYLOAD,
  sendPush,
  validateSubscription,
  vapidAuthorization,
} from "./webpush.ts";
import { setLogSink } from "../log.ts";
import { decrypt, newBrowser, verifyVapid, withPushService } from "../../tests/push_service.ts";

const SUBJECT = "mailto:ops@happychat.example";
const TEXT = new TextEncoder();

Deno.test("sendPush() delivers a payload only the browser can decrypt, with a valid VAPID JWT", async () => {
  const vapid = await generateVapidKeys();
  await withPushService(() => new Response(null, { status: 201 }), async (origin, received) => {
    const { ua, auth, sub } = newBrowser(`${origin}/wpush/v2/abc123`);
    const payload = { type: "message", conv: "c1", text: "héllo 👋" };
    const before = Math.floor(Date.now() / 1000);
    const result = await sendPush(validateSubscription(sub, { allowHttp: true }), payload, {
      vapid,
      subject: SUBJECT,
      ttlSec: 3600,
      urgency: "high",
      topic: "conv-c1",
    });
    assert.deepEqual(result, { ok: true, status: 201, gone: false });

    assert.equal(received.length, 1);
    const [req] = received;
    assert.equal(req.method, "POST");
    assert.equal(req.path, "/wpush/v2/abc123");
    assert.equal(req.headers.get("content-encoding"), "aes128gcm");
    assert.equal(req.headers.get("content-type"), "application/octet-stream");
    assert.equal(req.headers.get("ttl"), "3600");
    assert.equal(req.headers.get("urgency"), "high");
    assert.equal(req.headers.get("topic"), "conv-c1");

    const claims = await verifyVapid(req.headers.get("authorization") ?? "");
    assert.equal(claims.k, vapid.publicKey);
    assert.equal(claims.aud, origin);
    assert.equal(claims.sub, SUBJECT);
    assert.ok(claims.exp > before && claims.exp <= before + 24 * 3600 + 1, `exp ${claims.exp}`);

    assert.ok(req.body.length <= 4096);
    assert.deepEqual(JSON.parse(decrypt(req.body, ua, auth).toString()), payload);
    // the checks above can fail: another browser's key or a flipped byte does not decrypt
    assert.throws(() => decrypt(req.body, newBrowser(origin).ua, auth));
    const flipped = req.body.slice();
    flipped[100] ^= 1;
    assert.throws(() => decrypt(flipped, ua, auth));
  });
});

// RFC 8291 Appendix A: every input fixed, the exact message expected.
const RFC = {
  plaintext: "When I grow up, I want to be a watermelon",
  asPrivate: "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
  asPublic:
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8",
  uaPrivate: "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94",
  uaPublic:
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
  salt: "DGv6ra1nlYgDCS1FRnbzlw",
  auth: "BTBZMqHH6r4Tts7J_aSIgg",
  message: "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLoc" +
    "InmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWG" +
    "NWQexSgSxsj_Qulcy4a-fN",
};

Deno.test("encryptPayload() reproduces the RFC 8291 Appendix A message byte for byte", async () => {
  const point = Buffer.from(RFC.asPublic, "base64url");
  const jwk = {
    kty: "EC",
    crv: "P-256",
    d: RFC.asPrivate,
    x: point.subarray(1, 33).toString("base64url"),
    y: point.subarray(33, 65).toString("base64url"),
  };
  const ecdh = { name: "ECDH", namedCurve: "P-256" };
  const serverKeys: CryptoKeyPair = {
    privateKey: await crypto.subtle.importKey("jwk", jwk, ecdh, false, ["deriveBits"]),
    publicKey: await crypto.subtle.importKey("raw", point, ecdh, true, []),
  };
  const sub = {
    endpoint: "https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV",
    keys: { p256dh: RFC.uaPublic, auth: RFC.auth },
  };
  const body = await encryptPayload(sub, TEXT.encode(RFC.plaintext), {
    salt: Buffer.from(RFC.salt, "base64url"),
    serverKeys,
  });
  assert.equal(Buffer.from(body).toString("base64url"), RFC.message);

  // and the test's own decryption reads the RFC's message
  const ua = createECDH("prime256v1");
  ua.setPrivateKey(Buffer.from(RFC.uaPrivate, "base64url"));
  const auth = Buffer.from(RFC.auth, "base64url");
  const plain = decrypt(Buffer.from(RFC.message, "base64url"), ua, auth);
  assert.equal(plain.toString(), RFC.plaintext);
});

Deno.test("encryptPayload() fits one 4096-byte message and refuses more than MAX_PAYLOAD", async () => {
  assert.equal(MAX_PAYLOAD, 4096 - 86 - 16 - 1);
  const { ua, auth, sub } = newBrowser("https://push.example.net/x");
  const full = randomBytes(MAX_PAYLOAD);
  const body = await encryptPayload(sub, full);
  assert.equal(body.length, 4096);
  assert.deepEqual(decrypt(body, ua, auth), full);
  await assert.rejects(encryptPayload(sub, new Uint8Array(MAX_PAYLOAD + 1)), /too large/);
});

Deno.test("sendPush() reports gone, failures and Retry-After from the push service", async () => {
  const vapid = await generateVapidKeys();
  const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
  const answer = (path: string) => {
    const status = Number(path.split("/").pop());
    const headers = new Headers();
    if (status === 429) headers.set("Retry-After", "120");
    if (status === 503) headers.set("Retry-After", new Date(NOW + 30_000).toUTCString());
    return new Response(status === 500 ? "x".repeat(100_000) : null, { status, headers });
  };
  await withPushService(answer, async (origin, received) => {
    const send = (status: number) => {
      const { sub } = newBrowser(`${origin}/push/${status}`);
      return sendPush(sub, { n: status }, { vapid, subject: SUBJECT, now: () => NOW });
    };
    assert.deepEqual(await send(201), { ok: true, status: 201, gone: false });
    assert.deepEqual(await send(410), { ok: false, status: 410, gone: true });
    assert.deepEqual(await send(404), { ok: false, status: 404, gone: true });
    assert.deepEqual(await send(500), { ok: false, status: 500, gone: false });
    assert.deepEqual(await send(429), { ok: false, status: 429, gone: false, retryAfter: 120 });
    assert.deepEqual(await send(503), { ok: false, status: 503, gone: false, retryAfter: 30 });
    assert.equal(received.length, 6);
    assert.equal(received[0].headers.get("ttl"), String(24 * 3600), "default TTL");
    assert.equal(received[0].headers.get("urgency"), "normal");
    assert.equal(received[0].headers.get("topic"), null);
  });
});

Deno.test("sendPush() turns network errors and timeouts into status 0, via the given fetch", async () => {
  const vapid = await generateVapidKeys();
  const { sub } = newBrowser("https://push.example.net/secret-token");
  const calls: { url: string; init: RequestInit }[] = [];
  const lines: string[] = [];
  const prev = setLogSink((line) => lines.push(line));
  try {
    const refused = await sendPush(sub, "hi", {
      vapid,
      subject: SUBJECT,
      fetch: (url, init) => {
        calls.push({ url, init });
        return Promise.reject(new TypeError("connection refused"));
      },
    });
    assert.deepEqual(refused, { ok: false, status: 0, gone: false });
    assert.equal(calls.length, 1);
    assert.equal(calls[0].url, sub.endpoint);
    assert.equal(calls[0].init.method, "POST");

    const started = Date.now();
    const hung = await sendPush(sub, "hi", {
      vapid,
      subject: SUBJECT,
      timeoutMs: 50,
      fetch: (_url, init) =>
        new Promise((_resolve, reject) => {
          init.signal?.addEventListener("abort", () => reject(init.signal?.reason));
        }),
    });
    assert.deepEqual(hung, { ok: false, status: 0, gone: false });
    assert.ok(Date.now() - started < 900);
  } finally {
    setLogSink(prev);
  }
  assert.equal(lines.filter((l) => l.includes('"push.send_failed"')).length, 2);
  assert.ok(lines.every((l) => !l.includes("secret-token")), "the endpoint path is not logged");
});

Deno.test("sendPush() reads only a few KB of an endless response body", async () => {
  const vapid = await generateVapidKeys();
  const { sub } = newBrowser("https://push.example.net/x");
  let pulls = 0;
  let cancelled = false;
  const endless = new ReadableStream<Uint8Array>({
    pull(c) {
      pulls++;
      c.enqueue(new Uint8Array(1024));
    },
    cancel() {
      cancelled = true;
    },
  });
  const result = await sendPush(sub, "hi", {
    vapid,
    subject: SUBJECT,
    fetch: () => Promise.resolve(new Response(endless, { status: 201 })),
  });
  assert.deepEqual(result, { ok: true, status: 201, gone: false });
  assert.ok(cancelled, "body cancelled");
  assert.ok(pulls <= 8, `pulled ${pulls} KB`);
});

Deno.test("vapidAuthorization() caps exp at 24 h and reuses the token until close to expiry", async () => {
  const vapid = await generateVapidKeys();
  const endpoint = "https://fcm.googleapis.com/fcm/send/abc";
  const t = Math.floor(Date.now() / 1000);
  const first = await vapidAuthorization(endpoint, vapid, SUBJECT, t);
  const claims = await verifyVapid(first);
  assert.equal(claims.aud, "https://fcm.googleapis.com");
  assert.equal(claims.exp, t + 12 * 3600);
  assert.equal(await vapidAuthorization(`${endpoint}/other`, vapid, SUBJECT, t + 100), first);
  assert.equal(await vapidAuthorization(endpoint, vapid, SUBJECT, t + 11 * 3600 - 1), first);
  const renewed = await vapidAuthorization(endpoint, vapid, SUBJECT, t + 11 * 3600);
  assert.notEqual(renewed, first);
  assert.equal((await verifyVapid(renewed)).exp, t + 23 * 3600);

  const other = "https://updates.push.services.mozilla.com/wpush/v2/x";
  const long = await verifyVapid(await vapidAuthorization(other, vapid, SUBJECT, t, 48 * 3600));
  assert.equal(long.exp, t + 24 * 3600);
  assert.equal(long.aud, "https://updates.push.services.mozilla.com");

  await assert.rejects(vapidAuthorization(endpoint, vapid, "ops@example.com", t), /subject/);
  await assert.rejects(vapidAuthorization(endpoint, vapid, "http://example.com", t), /subject/);
});

Deno.test("importVapid() refuses a public key that is not the private key's", async () => {
  const a = await generateVapidKeys();
  const b = await generateVapidKeys();
  assert.equal(Buffer.from(a.publicKey, "base64url").length, 65);
  assert.ok(await importVapid(JSON.parse(JSON.stringify(a))), "survives a JSON round trip");
  await assert.rejects(importVapid({ publicKey: a.publicKey, privateJwk: b.privateJwk }), /match/);
  await assert.rejects(
    importVapid({ publicKey: a.publicKey, privateJwk: { kty: "RSA" } }),
    /P-256/,
  );
});

Deno.test("validateSubscription() accepts a browser's subscription and refuses bad shapes", () => {
  const { sub } = newBrowser("https://fcm.googleapis.com/fcm/send/abc");
  assert.deepEqual(validateSubscription({ ...sub, expirationTime: null }), sub);
  const point = Buffer.from(sub.keys.p256dh, "base64url");
  const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64url");
  const withKeys = (keys: Record<string, unknown>) => ({ ...sub, keys: { ...sub.keys, ...keys } });

  const bad: [unknown, RegExp][] = [
    [null, /not an object/],
    ["https://x", /not an object/],
    [{ keys: sub.keys }, /no endpoint/],
    [{ endpoint: sub.endpoint }, /no keys/],
    [{ ...sub, endpoint: "http://push.example.net/x" }, /https/],
    [{ ...sub, endpoint: "not a url" }, /not a URL/],
    [{ ...sub, endpoint: "https://u:p@push.example.net/x" }, /credentials/],
    [{ ...sub, endpoint: `https://push.example.net/${"a".repeat(1000)}` }, /longer than 1000/],
    [withKeys({ p256dh: 42 }), /strings/],
    [withKeys({ p256dh: b64(point.subarray(0, 64)) }), /P-256 point/],
    [withKeys({ p256dh: b64(Buffer.concat([Buffer.from([3]), point.subarray(1)])) }), /point/],
    [
      withKeys({
        p256dh: b64(Buffer.concat([point.subarray(0, 64), Buffer.from([point[64] ^ 1])])),
      }),
      /point/,
    ],
    [withKeys({ p256dh: b64(Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 0xff)])) }), /point/],
    [withKeys({ p256dh: sub.keys.p256dh.slice(0, -2) + "+/" }), /base64url/],
    [withKeys({ auth: b64(randomBytes(15)) }), /16 bytes/],
    [withKeys({ auth: b64(randomBytes(17)) }), /16 bytes/],
  ];
  for (const [input, message] of bad) {
    assert.throws(() => validateSubscription(input), message, JSON.stringify(input));
  }
  const loopback = { ...sub, endpoint: "http://127.0.0.1:8080/push" };
  assert.deepEqual(validateSubscription(loopback, { allowHttp: true }), loopback);
  const longest = { ...sub, endpoint: `https://p.example/${"a".repeat(1000 - 18)}` };
  assert.equal(validateSubscription(longest).endpoint.length, 1000);
});
