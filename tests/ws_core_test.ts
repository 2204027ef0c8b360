import assert from "node:assert/strict";
import { friendsDm, signUp, withServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";

Deno.test("two users chat in a DM: ack with seq, delivery to both users' tabs, history", async () => {
  await withServer(async (server) => {
    const a = await signUp(server);
    const b = await signUp(server);
    const conv = await friendsDm(server, a.userId, b.userId);
    const a1 = await WsClient.connect(server, a.client);
    const a2 = await WsClient.connect(server, a.client);
    const b1 = await WsClient.connect(server, b.client);
    a1.send({ type: "send", conv: conv.id, cid: "c1", text: "hello b" });
    const ack = await a1.next("ack");
    assert.equal(ack.seq, 1);
    const got = await b1.next("msg", (f) => f.msg.conv === conv.id);
    assert.equal(got.msg.text, "hello b");
    assert.equal(got.msg.from, a.userId);
    const mine = await a2.next("msg", (f) => f.msg.conv === conv.id);
    assert.equal(mine.msg.seq, 1, "the sender's other tab sees its own send");
    b1.send({ type: "send", conv: conv.id, cid: "x1", text: "hi a" });
    assert.equal((await b1.next("ack")).seq, 2);
    b1.send({ type: "history", conv: conv.id, limit: 10 });
    const h = await b1.next("history");
    assert.deepEqual(h.messages.map((m) => m.text), ["hello b", "hi a"]);
    await Promise.all([a1.close(), a2.close(), b1.close()]);
  });
});

Deno.test("the bot answers in the bot conversation that every user has from sign-up", async () => {
  await withServer(async (server) => {
    const a = await signUp(server);
    const ws = await WsClient.open(server, a.client);
    ws.send({ type: "hello", v: 1 });
    const welcome = await ws.next("welcome");
    const bot = welcome.convs.find((c) => c.kind === "bot");
    assert.ok(bot, "bot conversation exists");
    await ws.next("resumed");
    ws.send({ type: "send", conv: bot.id, cid: "b1", text: "hello" });
    await ws.next("ack");
    const reply = await ws.next("msg", (f) => f.msg.from === "bot");
    assert.match(reply.msg.text, /HappyChat bot|乐聊机器人/);
    await ws.close();
  });
});
