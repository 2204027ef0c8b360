import assert from "node:assert/strict";
import type { OutboundPolicy } from "./outbound.ts";
import {
  deliverWebhook,
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
  verifyWebhook,
  WEBHOOK_USER_AGENT,
  webhookBackoff,
} from "./webhook.ts";

const SECRET = "whsec_test_0123456789";
const T = 1_700_000_000; // unix seconds
const LOCAL: OutboundPolicy = { allow: ["127.0.0.1"] };

/** HMAC-SHA256 by WebCrypto: a second implementation to check signWebhook against. */
async function webCryptoHex(secret: string, message: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("signWebhook() is HMAC-SHA256 of timestamp.body; verifyWebhook() checks it", async () => {
  const body = '{"text":"héllo"}';
  const hex = await signWebhook(SECRET, T, body);
  assert.match(hex, /^[0-9a-f]{64}$/);
  assert.equal(hex, await webCryptoHex(SECRET, `${T}.${body}`));
  const headers = { timestamp: String(T), signature: `sha256=${hex}` };
  assert.equal(verifyWebhook(SECRET, headers, body, T), true);
  assert.equal(verifyWebhook(SECRET, { ...headers, signature: hex.toUpperCase() }, body, T), true);
  assert.equal(verifyWebhook(SECRET, headers, body, T + 300), true);
  assert.equal(verifyWebhook(SECRET, headers, body, T - 300), true);
  // Tampered, wrong secret, stale or future, missing or malformed: all refused.
  assert.equal(verifyWebhook(SECRET, headers, '{"text":"hello"}', T), false);
  assert.equal(verifyWebhook("other-secret", headers, body, T), false);
  assert.equal(verifyWebhook(SECRET, headers, body, T + 301), false);
  assert.equal(verifyWebhook(SECRET, headers, body, T - 301), false);
  assert.equal(verifyWebhook(SECRET, headers, body, T + 61, 60), false);
  assert.equal(verifyWebhook(SECRET, { ...headers, timestamp: String(T + 1) }, body, T), false);
  assert.equal(verifyWebhook(SECRET, { ...headers, timestamp: null }, body, T), false);
  assert.equal(verifyWebhook(SECRET, { ...headers, signature: null }, body, T), false);
  assert.equal(verifyWebhook(SECRET, { ...headers, timestamp: `${T}.0` }, body, T), false);
  assert.equal(
    verifyWebhook(SECRET, { ...headers, signature: `sha256=${hex.slice(2)}` }, body, T),
    false,
  );
  assert.equal(verifyWebhook(SECRET, { ...headers, signature: `sha1=${hex}` }, body, T), false);
  const flipped = (hex[0] === "0" ? "1" : "0") + hex.slice(1);
  assert.equal(
    verifyWebhook(SECRET, { ...headers, signature: `sha256=${flipped}` }, body, T),
    false,
  );
});

Deno.test("webhookBackoff() waits about 1 s, 4 s, 16 s, then 64 s at most", () => {
  for (const [attempt, base] of [[1, 1000], [2, 4000], [3, 16000], [4, 64000], [9, 64000]]) {
    for (let i = 0; i < 20; i++) {
      const ms = webhookBackoff(attempt);
      assert.ok(ms >= base * 0.8 && ms <= base * 1.2, `${attempt}: ${ms}`);
    }
  }
});

interface Hit {
  body: string;
  timestamp: string | null;
  signature: string | null;
  delivery: string | null;
  type: string | null;
  agent: string | null;
}

/** A real receiver on 127.0.0.1 that answers the n-th request (0-based) with `answer(n)`. */
async function withReceiver(
  answer: (n: number) => Response | Promise<Response>,
  fn: (url: string, hits: Hit[]) => Promise<void>,
): Promise<void> {
  const hits: Hit[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    hits.push({
      body: await req.text(),
      timestamp: req.headers.get(TIMESTAMP_HEADER),
      signature: req.headers.get(SIGNATURE_HEADER),
      delivery: req.headers.get(DELIVERY_HEADER),
      type: req.headers.get("content-type"),
      agent: req.headers.get("user-agent"),
    });
    return answer(hits.length - 1);
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/hook`, hits);
  } finally {
    await server.shutdown();
  }
}

/** A clock that the recorded sleeps move forward, so each attempt has its own timestamp. */
function fakeTime() {
  let ms = T * 1000;
  const delays: number[] = [];
  return {
    delays,
    now: () => ms,
    sleep: (d: number) => {
      delays.push(d);
      ms += d;
      return Promise.resolve();
    },
  };
}

const verified = (h: Hit, nowSec: number) =>
  verifyWebhook(SECRET, { timestamp: h.timestamp, signature: h.signature }, h.body, nowSec);

Deno.test("deliverWebhook() posts a signed JSON body that the receiver can verify", () =>
  withReceiver(() => new Response("thanks"), async (url, hits) => {
    const clock = fakeTime();
    const payload = { type: "message", text: "hi", n: [1, 2] };
    const r = await deliverWebhook({ url, secret: SECRET }, payload, { policy: LOCAL, ...clock });
    assert.deepEqual({ ...r, deliveryId: "" }, {
      ok: true,
      attempts: 1,
      status: 200,
      error: undefined,
      deliveryId: "",
    });
    assert.equal(hits.length, 1);
    const [h] = hits;
    assert.deepEqual(JSON.parse(h.body), payload);
    assert.equal(h.timestamp, String(T));
    assert.equal(verified(h, T), true);
    assert.equal(
      verifyWebhook("wrong", { timestamp: h.timestamp, signature: h.signature }, h.body, T),
      false,
    );
    assert.equal(h.delivery, r.deliveryId);
    assert.match(r.deliveryId, /^[0-9a-z]{20}$/);
    assert.equal(h.type, "application/json");
    assert.equal(h.agent, WEBHOOK_USER_AGENT);
    assert.deepEqual(clock.delays, []);
  }));

Deno.test("deliverWebhook() retries a 500 with growing waits, one delivery id, fresh signatures", () =>
  withReceiver((n) => new Response("x", { status: n < 2 ? 500 : 200 }), async (url, hits) => {
    const clock = fakeTime();
    const r = await deliverWebhook({ url, secret: SECRET }, { a: 1 }, { policy: LOCAL, ...clock });
    assert.equal(r.ok, true);
    assert.equal(r.attempts, 3);
    assert.equal(r.status, 200);
    assert.equal(hits.length, 3);
    assert.deepEqual(hits.map((h) => h.delivery), [r.deliveryId, r.deliveryId, r.deliveryId]);
    assert.equal(clock.delays.length, 2);
    assert.ok(clock.delays[1] > clock.delays[0], `${clock.delays}`);
    const stamps = hits.map((h) => Number(h.timestamp));
    // Waits of ~1 s then ~4 s: the second and third attempts are signed seconds later.
    assert.ok(stamps[0] <= stamps[1] && stamps[1] + 3 <= stamps[2], `${stamps}`);
    for (const h of hits) assert.equal(verified(h, Number(h.timestamp)), true);
    // An old signature does not pass for a later attempt's timestamp.
    assert.notEqual(hits[0].signature, hits[2].signature);
  }));

Deno.test("deliverWebhook() stops at the bound when the receiver always fails", () =>
  withReceiver(() => new Response("down", { status: 503 }), async (url, hits) => {
    const clock = fakeTime();
    const r = await deliverWebhook({ url, secret: SECRET }, {}, { policy: LOCAL, ...clock });
    assert.deepEqual([r.ok, r.attempts, r.status, r.error], [false, 5, 503, "HTTP 503"]);
    assert.equal(hits.length, 5);
    assert.equal(clock.delays.length, 4);
    for (let i = 1; i < 4; i++) assert.ok(clock.delays[i] > clock.delays[i - 1], `${clock.delays}`);
    hits.length = 0;
    const three = await deliverWebhook({ url, secret: SECRET }, {}, {
      policy: LOCAL,
      attempts: 3,
      backoffMs: (n) => n * 10,
      ...fakeTime(),
    });
    assert.deepEqual([three.ok, three.attempts], [false, 3]);
    assert.equal(hits.length, 3);
  }));

Deno.test("deliverWebhook() retries 429 but not another 4xx", () =>
  withReceiver((n) => new Response("no", { status: n === 0 ? 429 : 400 }), async (url, hits) => {
    const clock = fakeTime();
    const r = await deliverWebhook({ url, secret: SECRET }, {}, { policy: LOCAL, ...clock });
    assert.deepEqual([r.ok, r.attempts, r.status, r.error], [false, 2, 400, "HTTP 400"]);
    assert.equal(hits.length, 2);
    assert.equal(clock.delays.length, 1);
  }));

Deno.test("deliverWebhook() refuses a private target without sending anything", () =>
  withReceiver(() => new Response("ok"), async (url, hits) => {
    for (const target of [url, "http://10.0.0.1/hook", "http://[::1]:9/", "file:///etc/passwd"]) {
      const clock = fakeTime();
      const r = await deliverWebhook({ url: target, secret: SECRET }, {}, {
        policy: { allow: [] },
        ...clock,
      });
      assert.equal(r.ok, false, target);
      assert.equal(r.attempts, 0, target);
      assert.match(r.error!, /^refused: (private_address|scheme)$/, target);
      assert.deepEqual(clock.delays, [], target);
    }
    assert.equal(hits.length, 0);
  }));

Deno.test("deliverWebhook() does not retry a redirect to a refused address", () =>
  withReceiver(
    () => new Response(null, { status: 307, headers: { location: "http://169.254.169.254/" } }),
    async (url, hits) => {
      const clock = fakeTime();
      const r = await deliverWebhook({ url, secret: SECRET }, {}, { policy: LOCAL, ...clock });
      assert.deepEqual([r.ok, r.attempts, r.error], [false, 1, "refused: private_address"]);
      assert.equal(hits.length, 1);
      assert.deepEqual(clock.delays, []);
    },
  ));

Deno.test("deliverWebhook() retries a timeout and a refused connection", async () => {
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  await withReceiver(async () => {
    await held;
    return new Response("late");
  }, async (url, hits) => {
    const clock = fakeTime();
    const r = await deliverWebhook({ url, secret: SECRET }, {}, {
      policy: LOCAL,
      attempts: 2,
      timeoutMs: 40,
      ...clock,
    });
    assert.deepEqual([r.ok, r.attempts, r.error], [false, 2, "timeout"]);
    assert.equal(hits.length, 2);
    assert.equal(clock.delays.length, 1);
    release();
  });
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const clock = fakeTime();
  const r = await deliverWebhook({ url: `http://127.0.0.1:${port}/`, secret: SECRET }, {}, {
    policy: LOCAL,
    attempts: 3,
    ...clock,
  });
  assert.deepEqual([r.ok, r.attempts], [false, 3]);
  assert.match(r.error!, /^network: /);
  assert.equal(clock.delays.length, 2);
});

Deno.test("deliverWebhook() stops when its signal aborts", () =>
  withReceiver(() => new Response("no", { status: 500 }), async (url, hits) => {
    const before = await deliverWebhook({ url, secret: SECRET }, {}, {
      policy: LOCAL,
      signal: AbortSignal.abort(),
      ...fakeTime(),
    });
    assert.deepEqual([before.ok, before.attempts, before.error], [false, 0, "aborted"]);
    assert.equal(hits.length, 0);
    const ac = new AbortController();
    const r = await deliverWebhook({ url, secret: SECRET }, {}, {
      policy: LOCAL,
      signal: ac.signal,
      sleep: () => {
        ac.abort();
        return Promise.resolve();
      },
    });
    assert.deepEqual([r.ok, r.attempts, r.status, r.error], [false, 1, 500, "aborted"]);
    assert.equal(hits.length, 1);
  }));
