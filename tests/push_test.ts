/**
 * Web Push end to end: a user subscribes a device (the test is the browser: its own P-256 keys and
 * auth secret), a push service on loopback gets the request; the test checks the VAPID JWT and
 * decrypts the payload (RFC 8291). No push while the reader has a live socket, none for a muted
 * conversation, none with the text unless previews are on, and a 410 removes the subscription.
 */
import assert from "node:assert/strict";
import { friendsDm, signUp, startTestServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";
import { decrypt, newBrowser, verifyVapid, withPushService } from "./push_service.ts";
import { DEVICES_MAX, devicesOf } from "../lib/push/devices.ts";
import { keys } from "../lib/kv/keys.ts";

Deno.test("a message to someone away is pushed, encrypted and signed; not while they are online", async () => {
  let status = 201;
  await withPushService(() => new Response(null, { status }), async (origin, received) => {
    const server = await startTestServer({ env: { OUTBOUND_ALLOW: "127.0.0.1" } });
    try {
      const alice = await signUp(server);
      const bob = await signUp(server);
      const dm = await friendsDm(server, alice.userId, bob.userId);
      const browser = newBrowser(`${origin}/push/bob-phone`);
      const info = await bob.client.json<{ publicKey: string; muted: string[] }>("/api/push");
      assert.match(info.body.publicKey, /^[A-Za-z0-9_-]{87}$/);
      const sub = await bob.client.post("/api/push/subscriptions", {
        subscription: browser.sub,
        previews: true,
      });
      assert.equal(sub.status, 201, JSON.stringify(sub.body));

      const a = await WsClient.connect(server, alice.client);
      const say = async (cid: string, text: string) => {
        a.send({ type: "send", conv: dm.id, cid, text });
        await a.next("ack", (f) => f.cid === cid);
      };
      // Back to back: both well within the push delay (1.5 s) on a loaded machine too.
      a.send({ type: "send", conv: dm.id, cid: "m1", text: "Dinner at 7?" });
      a.send({ type: "send", conv: dm.id, cid: "m2", text: "I'll book the table" });
      await a.next("ack", (f) => f.cid === "m1");
      await a.next("ack", (f) => f.cid === "m2");
      await server.rt.push.settled();
      assert.equal(received.length, 1, "a burst makes one notification");
      const req = received[0];
      assert.equal(req.path, "/push/bob-phone");
      assert.equal(req.headers.get("content-encoding"), "aes128gcm");
      const claims = await verifyVapid(req.headers.get("authorization")!);
      assert.equal(claims.aud, origin);
      assert.equal(claims.k, info.body.publicKey);
      const payload = JSON.parse(decrypt(req.body, browser.ua, browser.auth).toString());
      assert.equal(payload.conv, dm.id);
      assert.equal(payload.url, `/?c=${dm.id}`);
      assert.equal(payload.title, alice.input.nickname);
      assert.match(payload.body, /I'll book the table/);
      assert.match(payload.body, /\[2\]/);

      // Bob is online (any device): no push.
      const b = await WsClient.connect(server, bob.client);
      await say("m3", "see you");
      await server.rt.push.settled();
      assert.equal(received.length, 1);
      await b.close();
      // Offline again, but this conversation is muted: no push; unmuted: a push.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(
        (await bob.client.json(`/api/push/mutes/${dm.id}`, { method: "PUT" })).status,
        200,
      );
      assert.deepEqual((await bob.client.json<{ muted: string[] }>("/api/push")).body.muted, [
        dm.id,
      ]);
      await say("m4", "muted one");
      await server.rt.push.settled();
      assert.equal(received.length, 1);
      await bob.client.json(`/api/push/mutes/${dm.id}`, { method: "DELETE" });
      // The push service says the subscription is gone: it is removed.
      status = 410;
      await say("m5", "anyone?");
      await server.rt.push.settled();
      assert.equal(received.length, 2);
      assert.deepEqual(await devicesOf(server.kv, bob.userId), []);
      await a.close();
    } finally {
      await server.close();
    }
  });
});

Deno.test("without previews a push says only that there is a message; bad subscriptions are refused", async () => {
  await withPushService(() => new Response(null, { status: 201 }), async (origin, received) => {
    const server = await startTestServer({ env: { OUTBOUND_ALLOW: "127.0.0.1" } });
    try {
      const alice = await signUp(server);
      const bob = await signUp(server);
      const dm = await friendsDm(server, alice.userId, bob.userId);
      const browser = newBrowser(`${origin}/push/x`);
      for (
        const bad of [
          { ...browser.sub, keys: { ...browser.sub.keys, auth: "AAAA" } },
          { ...browser.sub, keys: { ...browser.sub.keys, p256dh: "BAAA" } },
          { endpoint: "ftp://example.com/x", keys: browser.sub.keys },
          "not a subscription",
        ]
      ) {
        const r = await bob.client.post("/api/push/subscriptions", { subscription: bad });
        assert.equal(r.status, 400, JSON.stringify(bad));
      }
      await bob.client.post("/api/push/subscriptions", { subscription: browser.sub });
      const a = await WsClient.connect(server, alice.client);
      a.send({ type: "send", conv: dm.id, cid: "s1", text: "secret plans" });
      await a.next("ack", (f) => f.cid === "s1");
      await server.rt.push.settled();
      assert.equal(received.length, 1);
      const payload = JSON.parse(decrypt(received[0].body, browser.ua, browser.auth).toString());
      assert.ok(!JSON.stringify(payload).includes("secret plans"), "no text without previews");
      assert.match(payload.body, /New message/);
      await a.close();
    } finally {
      await server.close();
    }
  });
});

Deno.test("a reminder that comes due while its user is away is pushed to their device", async () => {
  await withPushService(() => new Response(null, { status: 201 }), async (origin, received) => {
    const server = await startTestServer({ env: { OUTBOUND_ALLOW: "127.0.0.1" } });
    try {
      const me = await signUp(server);
      const browser = newBrowser(`${origin}/push/me`);
      await me.client.post("/api/push/subscriptions", {
        subscription: browser.sub,
        previews: true,
      });
      const ws = await WsClient.open(server, me.client);
      ws.send({ type: "hello", v: 1 });
      const bot = (await ws.next("welcome")).convs.find((c) => c.kind === "bot")!;
      await ws.next("resumed");
      ws.send({ type: "send", conv: bot.id, cid: "r", text: "remind me in 1 second to stretch" });
      await ws.next("msg", (f) => f.msg.from === "bot");
      await ws.close();
      const until = Date.now() + 8000;
      while (!received.length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      await server.rt.push.settled();
      assert.equal(received.length, 1);
      const payload = JSON.parse(decrypt(received[0].body, browser.ua, browser.auth).toString());
      assert.equal(payload.conv, bot.id);
      assert.equal(payload.title, "HappyChat Bot");
      assert.match(payload.body, /Reminder: stretch/);
    } finally {
      await server.close();
    }
  });
});

Deno.test("a burst of subscriptions in parallel stops at the device cap: the count matches what is stored", async () => {
  await withPushService(() => new Response(null, { status: 201 }), async (origin) => {
    const server = await startTestServer({ env: { OUTBOUND_ALLOW: "127.0.0.1" } });
    try {
      const bob = await signUp(server);
      const N = DEVICES_MAX * 3;
      const answers = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          bob.client.post("/api/push/subscriptions", {
            subscription: newBrowser(`${origin}/push/d${i}`).sub,
          })),
      );
      const codes = answers.map((r) =>
        r.status === 201 ? "ok" : (r.body as { error: { code: string } }).error.code
      );
      const stored = await devicesOf(server.kv, bob.userId);
      assert.equal(stored.length, DEVICES_MAX, `stored: ${codes.join()}`);
      assert.equal(codes.filter((c) => c === "ok").length, DEVICES_MAX, codes.join());
      // Every other one is told why: the cap, not a lost race.
      assert.deepEqual(
        [...new Set(codes.filter((c) => c !== "ok"))],
        ["too_many_devices"],
        codes.join(),
      );
      const count = await server.kv.get<number>(keys.pushCount(bob.userId));
      assert.equal(count.value, DEVICES_MAX, "the counter is what is stored");
    } finally {
      await server.close();
    }
  });
});
