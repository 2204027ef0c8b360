/**
 * The bot API against a real server: a user makes a bot and gets its token once; the bot signs in
 * on /ws and over HTTP with the token alone; people add it as a friend and to a group; it posts
 * only where it is a member; revoking or rotating the token closes its sockets; its webhook gets
 * signed deliveries of the messages addressed to it.
 */
import assert from "node:assert/strict";
import { Client, signUp, startTestServer, type TestServer, withServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";
import { pngBytes } from "./http_checks.ts";
import { verifyWebhook } from "../lib/bots/webhook.ts";
import type { BotView } from "../lib/wire/api.ts";

/** A plain HTTP call as a bot: its token, no cookie, no Origin. */
async function asBot(
  server: TestServer,
  token: string,
  path: string,
  init: { method?: string; json?: unknown } = {},
) {
  const res = await fetch(server.url(path), {
    method: init.method ?? "GET",
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.json !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

async function makeBot(owner: Client, username = `b${Date.now().toString(36)}bot`) {
  const r = await owner.post("/api/bots", {
    username,
    name: "Weather",
    description: "Says the weather",
  });
  assert.deepStrictEqual(r.status, 201, JSON.stringify(r.body));
  const body = r.body as { bot: BotView; token: string };
  return { bot: body.bot, token: body.token };
}

/** The user befriends the bot (it accepts at once); returns their DM's id. */
async function befriend(user: Client, botId: string): Promise<string> {
  const r = await user.post("/api/friends/requests", { to: botId });
  assert.deepStrictEqual(r.status, 200, JSON.stringify(r.body));
  assert.deepStrictEqual((r.body as { status: string }).status, "friends");
  const friends = await user.json<{ friends: { user: { id: string }; dm: string }[] }>(
    "/api/friends",
  );
  const f = friends.body.friends.find((x) => x.user.id === botId);
  assert.ok(f, "the bot is a friend");
  return f.dm;
}

Deno.test("a bot's token: shown once, signs in on /ws and over HTTP, nothing else does", async () => {
  await withServer(async (server) => {
    const { client: owner } = await signUp(server);
    const { bot, token } = await makeBot(owner);
    assert.match(token, /^hcb_[A-Za-z0-9_-]{40,}$/);
    const list = await owner.json<{ bots: BotView[] }>("/api/bots");
    assert.deepStrictEqual(list.body.bots.map((b) => b.id), [bot.id]);
    assert.ok(list.body.bots[0].hasToken);
    assert.ok(!JSON.stringify(list.body).includes(token), "the token is not shown again");
    // Stored hashed: no KV value holds the token itself.
    for await (const e of server.kv.list({ prefix: [] })) {
      const value = JSON.stringify(e.value ?? null, (_, v) => typeof v === "bigint" ? `${v}` : v);
      assert.ok(!value.includes(token) && !e.key.includes(token), `token stored in ${e.key}`);
    }

    assert.deepStrictEqual((await asBot(server, token, "/api/bot/me")).body.bot.id, bot.id);
    assert.deepStrictEqual((await asBot(server, token + "x", "/api/bot/me")).status, 401);
    assert.deepStrictEqual(
      (await asBot(server, "hcb_" + "A".repeat(43), "/api/bot/me")).status,
      401,
    );
    const noAuth = await fetch(server.url("/api/bot/me"));
    await noAuth.body?.cancel();
    assert.deepStrictEqual(noAuth.status, 401);

    // On /ws: the token alone (no cookie, no Origin) gets a welcome as the bot.
    const ws = await WsClient.bot(server, token);
    assert.deepStrictEqual(ws.closed, null);
    await assertRefusedUpgrade(server, { authorization: `Bearer ${token}z` }, 401);
    // A bot cannot log in with a password, even an empty one.
    const login = await new Client(server).post("/api/auth/login", {
      login: bot.username,
      password: "x",
    });
    assert.deepStrictEqual(login.status, 401);
  });
});

async function assertRefusedUpgrade(
  server: TestServer,
  headers: Record<string, string>,
  status: number,
) {
  const res = await fetch(server.url("/ws"), {
    headers: {
      ...headers,
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-version": "13",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    },
  });
  await res.body?.cancel();
  assert.deepStrictEqual(res.status, status);
}

Deno.test("people add a bot as a friend and to a group; it posts only where it is a member", async () => {
  await withServer(async (server) => {
    const { client: owner } = await signUp(server);
    const { client: amy, userId: amyId } = await signUp(server);
    const { bot, token } = await makeBot(owner);
    const dm = await befriend(amy, bot.id);

    const botWs = await WsClient.bot(server, token);
    const amyWs = await WsClient.connect(server, amy);
    // Amy writes; the bot's socket (subscribed by the friendship) gets it.
    amyWs.send({ type: "send", rid: "r1", conv: dm, cid: "c1", text: "weather in Paris?" });
    const got = await botWs.next("msg", (f) => f.msg.conv === dm && f.msg.from === amyId);
    assert.deepStrictEqual(got.msg.text, "weather in Paris?");
    // The bot answers over its socket, then over HTTP; Amy gets both.
    botWs.send({ type: "send", rid: "b1", conv: dm, cid: "b1", text: "Sunny, 21°C" });
    await botWs.next("ack", (f) => f.cid === "b1");
    const sent = await asBot(server, token, `/api/bot/convs/${dm}/messages`, {
      method: "POST",
      json: { text: "And tomorrow: rain", cid: "b2" },
    });
    assert.deepStrictEqual(sent.status, 200, JSON.stringify(sent.body));
    const texts = (await amyWs.waitMsgs(dm, 3)).map((m) => m.text);
    assert.deepStrictEqual(texts, ["weather in Paris?", "Sunny, 21°C", "And tomorrow: rain"]);
    // The same cid again is the same message, not a second one.
    const again = await asBot(server, token, `/api/bot/convs/${dm}/messages`, {
      method: "POST",
      json: { text: "And tomorrow: rain", cid: "b2" },
    });
    assert.deepStrictEqual([again.body.seq, again.body.duplicate], [sent.body.seq, true]);

    // Its conversations and their messages, over HTTP.
    const convs = await asBot(server, token, "/api/bot/convs");
    assert.deepStrictEqual(convs.body.convs.map((c: { id: string }) => c.id), [dm]);
    const page = await asBot(server, token, `/api/bot/convs/${dm}/messages?after=0`);
    assert.deepStrictEqual(page.body.messages.length, 3);

    // Not a member: Amy's conversation with the built-in bot, a group it is not in.
    const welcome = await amyWs.next("welcome");
    const amyBotConv = welcome.convs.find((c) => c.kind === "bot")!.id;
    const intoBotConv = await asBot(server, token, `/api/bot/convs/${amyBotConv}/messages`, {
      method: "POST",
      json: { text: "hi from a stranger" },
    });
    assert.deepStrictEqual(intoBotConv.status, 403);
    const group = await amy.post("/api/groups", { title: "Trip", members: [] });
    assert.deepStrictEqual(group.status, 201, JSON.stringify(group.body));
    const groupId = (group.body as { group: { id: string } }).group.id;
    const outside = await asBot(server, token, `/api/bot/convs/${groupId}/messages`, {
      method: "POST",
      json: { text: "let me in" },
    });
    assert.deepStrictEqual([outside.status, outside.body.error.code], [403, "not_member"]);
    const read = await asBot(server, token, `/api/bot/convs/${groupId}/messages?after=0`);
    assert.deepStrictEqual(read.status, 403);
    botWs.send({ type: "send", rid: "b3", conv: groupId, cid: "b3", text: "let me in" });
    const err = await botWs.next("error", (f) => f.rid === "b3");
    assert.deepStrictEqual(err.code, "not_member");

    // Amy adds the bot to the group like a friend; now it may post there.
    const add = await amy.post(`/api/groups/${groupId}/members`, { userIds: [bot.id] });
    assert.deepStrictEqual(add.status, 200, JSON.stringify(add.body));
    const inside = await asBot(server, token, `/api/bot/convs/${groupId}/messages`, {
      method: "POST",
      json: { text: "hello group" },
    });
    assert.deepStrictEqual(inside.status, 200, JSON.stringify(inside.body));
    const lastGroup = await amyWs.next(
      "msg",
      (f) => f.msg.conv === groupId && f.msg.from === bot.id,
    );
    assert.deepStrictEqual(lastGroup.msg.text, "hello group");
  });
});

Deno.test("revoking a bot's token closes its sockets; rotating makes the old one useless", async () => {
  await withServer(async (server) => {
    const { client: owner } = await signUp(server);
    const { client: other } = await signUp(server);
    const { bot, token } = await makeBot(owner);
    // Someone else's bot is not found, and cannot be revoked by them.
    const foreign = await other.json(`/api/bots/${bot.id}/token`, { method: "DELETE" });
    assert.deepStrictEqual(foreign.status, 404);
    // Its picture: the owner sets it (someone else cannot), and the bot's card shows it.
    const pic = await owner.json<{ user: { avatarUrl: string } }>(`/api/bots/${bot.id}/avatar`, {
      method: "PUT",
      body: await pngBytes(),
    });
    assert.deepStrictEqual(pic.status, 200, JSON.stringify(pic.body));
    assert.match(pic.body.user.avatarUrl, /^\/avatars\//);
    const notMine = await other.json(`/api/bots/${bot.id}/avatar`, {
      method: "PUT",
      body: await pngBytes(),
    });
    assert.deepStrictEqual(notMine.status, 404);
    assert.deepStrictEqual(
      (await asBot(server, token, "/api/bot/me")).body.bot.avatarUrl,
      pic.body.user.avatarUrl,
    );

    const a = await WsClient.bot(server, token);
    const b = await WsClient.bot(server, token);
    const rotated = await owner.post(`/api/bots/${bot.id}/token`, {});
    assert.deepStrictEqual(rotated.status, 200);
    const fresh = (rotated.body as { token: string }).token;
    assert.ok(fresh !== token);
    await Promise.all([a.waitClose(), b.waitClose()]);
    assert.deepStrictEqual((await asBot(server, token, "/api/bot/me")).status, 401);
    assert.deepStrictEqual((await asBot(server, fresh, "/api/bot/me")).status, 200);

    const c = await WsClient.bot(server, fresh);
    const revoked = await owner.json(`/api/bots/${bot.id}/token`, { method: "DELETE" });
    assert.deepStrictEqual(revoked.status, 200);
    const closed = await c.waitClose();
    assert.ok(closed.code >= 4000, `closed with ${closed.code}`);
    assert.deepStrictEqual((await asBot(server, fresh, "/api/bot/me")).status, 401);
    await assertRefusedUpgrade(server, { authorization: `Bearer ${fresh}` }, 401);
    const list = await owner.json<{ bots: BotView[] }>("/api/bots");
    assert.deepStrictEqual(list.body.bots[0].hasToken, false);
  });
});

Deno.test("making bots: usernames end in bot, names are checked, at most 10 each", async () => {
  await withServer(async (server) => {
    const { client: owner } = await signUp(server);
    const bad = [
      [{ username: "weather", name: "W" }, "bot_username"],
      [{ username: "9bot", name: "W" }, "username_format"],
      [{ username: "happychatbot", name: "W" }, "name_reserved"],
      [{ username: "okaybot", name: "HappyChat Bot" }, "name_reserved"],
      [{ username: "okaybot", name: "" }, "field_required"],
    ] as const;
    for (const [input, code] of bad) {
      const r = await owner.post("/api/bots", { description: "", ...input });
      assert.deepStrictEqual([r.status, (r.body as { error: { code: string } }).error.code], [
        400,
        code,
      ]);
    }
    assert.deepStrictEqual(
      (await owner.json<{ bots: unknown[] }>("/api/bots")).body.bots.length,
      0,
    );
    const taken = await owner.post("/api/bots", { username: "okaybot", name: "A" });
    assert.deepStrictEqual(taken.status, 201);
    const again = await owner.post("/api/bots", { username: "OKAYBOT", name: "B" });
    assert.deepStrictEqual(again.status, 409);
    // Twelve at once, racing the limit: nine more pass (ten in all), three are refused.
    const burst = await Promise.all(
      Array.from(
        { length: 12 },
        (_, i) => owner.post("/api/bots", { username: `more${i}bot`, name: `M${i}` }),
      ),
    );
    const codes = burst.map((r) =>
      r.status === 201 ? "made" : (r.body as { error: { code: string } }).error.code
    );
    assert.deepStrictEqual(codes.filter((c) => c === "made").length, 9, codes.join());
    assert.ok(
      codes.every((c) => c === "made" || c === "too_many_bots"),
      codes.join(),
    );
    assert.deepStrictEqual(
      (await owner.json<{ bots: unknown[] }>("/api/bots")).body.bots.length,
      10,
    );
    // A bot's webhook cannot point at this machine or a private network.
    const id = (taken.body as { bot: BotView }).bot.id;
    for (
      const url of ["http://127.0.0.1:9/x", "http://10.0.0.1/", "http://[::1]/", "ftp://x.org/"]
    ) {
      const r = await owner.json(`/api/bots/${id}`, { method: "PATCH", json: { webhookUrl: url } });
      assert.deepStrictEqual(r.status, 400, url);
    }
  });
});

Deno.test("a bot's webhook gets each message addressed to it, signed", async () => {
  const received: {
    body: string;
    ts: string | null;
    sig: string | null;
    delivery: string | null;
  }[] = [];
  const hook = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    received.push({
      body: await req.text(),
      ts: req.headers.get("x-happychat-timestamp"),
      sig: req.headers.get("x-happychat-signature"),
      delivery: req.headers.get("x-happychat-delivery"),
    });
    return new Response("ok");
  });
  const server = await startTestServer({ env: { OUTBOUND_ALLOW: "127.0.0.1" } });
  try {
    const { client: owner } = await signUp(server);
    const { client: amy, userId: amyId } = await signUp(server);
    const { bot } = await makeBot(owner);
    const url = `http://127.0.0.1:${hook.addr.port}/hook`;
    const set = await owner.json<{ bot: BotView }>(`/api/bots/${bot.id}`, {
      method: "PATCH",
      json: { webhookUrl: url },
    });
    assert.deepStrictEqual(set.status, 200, JSON.stringify(set.body));
    const secret = set.body.bot.webhookSecret;
    const dm = await befriend(amy, bot.id);
    const amyWs = await WsClient.connect(server, amy);
    amyWs.send({ type: "send", rid: "r1", conv: dm, cid: "c1", text: "ping" });
    await amyWs.next("ack", (f) => f.cid === "c1");
    // In a group: only a message that @mentions the bot goes to it.
    const group = await amy.post("/api/groups", { title: "G", members: [] });
    const groupId = (group.body as { group: { id: string } }).group.id;
    await amy.post(`/api/groups/${groupId}/members`, { userIds: [bot.id] });
    amyWs.send({ type: "send", rid: "r2", conv: groupId, cid: "c2", text: "not for the bot" });
    amyWs.send({
      type: "send",
      rid: "r3",
      conv: groupId,
      cid: "c3",
      text: "@Weather hi",
      mentions: [bot.id],
    });
    await amyWs.next("ack", (f) => f.cid === "c3");
    await server.rt.webhooks.settled();
    const until = Date.now() + 3000;
    while (received.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.deepStrictEqual(received.length, 2);
    const events = received.map((r) => JSON.parse(r.body));
    assert.deepStrictEqual(events.map((e) => [e.convKind, e.message.text, e.from.id, e.bot]), [
      ["dm", "ping", amyId, bot.id],
      ["group", "@Weather hi", amyId, bot.id],
    ]);
    const now = Math.floor(Date.now() / 1000);
    for (const r of received) {
      assert.ok(verifyWebhook(secret, { timestamp: r.ts, signature: r.sig }, r.body, now));
      assert.ok(!verifyWebhook("wrong", { timestamp: r.ts, signature: r.sig }, r.body, now));
      assert.ok(r.delivery);
    }
  } finally {
    await server.close();
    await hook.shutdown();
  }
});
