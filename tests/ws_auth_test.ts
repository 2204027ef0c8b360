import assert from "node:assert/strict";
import { Client, friendsGroup, signUp, withServer } from "./helpers.ts";
import { addMember } from "../lib/groups/join.ts";
import { kick } from "../lib/groups/moderation.ts";
import { getUser } from "../lib/accounts/users.ts";
import { WsClient } from "./ws_client.ts";
import { CLOSE, MAX_FRAME_BYTES } from "../lib/wire/protocol.ts";

Deno.test("/ws refuses to upgrade without a session or from another origin", async () => {
  await withServer(async (server) => {
    const anon = await fetch(server.url("/ws"), {
      headers: {
        Upgrade: "websocket",
        Connection: "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        Origin: server.origin,
      },
    });
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
    const { client } = await signUp(server);
    await assert.rejects(WsClient.open(server, client, { origin: "https://evil.example" }));
    const ok = await WsClient.open(server, client);
    await ok.close();
    await assert.rejects(WsClient.open(server, new Client(server)), "no cookie, no socket");
  });
});

Deno.test("a non-member cannot send to, read, or receive a group's messages; the sender comes from the session", async () => {
  await withServer(async (server) => {
    const [a, b, x] = [await signUp(server), await signUp(server), await signUp(server)];
    const group = await friendsGroup(server, a.userId, "Team", [b.userId]);
    const [wa, wb, wx] = await Promise.all(
      [a, b, x].map((u) => WsClient.connect(server, u.client)),
    );
    wx.send({ type: "send", conv: group.id, cid: "intrude", text: "let me in" });
    assert.equal((await wx.next("error", (f) => f.cid === "intrude")).code, "not_member");
    wx.send({ type: "history", conv: group.id, rid: "h1" });
    assert.equal((await wx.next("error", (f) => f.rid === "h1")).code, "not_member");
    wx.send({ type: "sync", conv: group.id, after: 0, rid: "s1" });
    assert.equal((await wx.next("error", (f) => f.rid === "s1")).code, "not_member");
    // A spoofed sender field is not part of the protocol and is ignored.
    wa.send({ type: "send", conv: group.id, cid: "spoof", text: "hi team", from: b.userId });
    await wa.next("ack");
    const got = await wb.next("msg", (f) => f.msg.conv === group.id);
    assert.equal(got.msg.from, a.userId);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(wx.msgs(group.id).length, 0, "the outsider received nothing");
    await Promise.all([wa, wb, wx].map((w) => w.close()));
  });
});

Deno.test("a removed member's sockets stop receiving at once, and joiners start at their join", async () => {
  await withServer(async (server) => {
    const [a, b, c] = [await signUp(server), await signUp(server), await signUp(server)];
    const group = await friendsGroup(server, a.userId, "Team", [b.userId]);
    const [wa, wb, wc] = await Promise.all(
      [a, b, c].map((u) => WsClient.connect(server, u.client)),
    );
    await addMember(server.rt, group.id, c.userId, a.userId);
    assert.equal(
      (await wc.next("conv")).conv.id,
      group.id,
      "the joiner's socket learns of the group",
    );
    wa.send({ type: "send", conv: group.id, cid: "m1", text: "welcome c" });
    assert.equal((await wc.next("msg", (f) => f.msg.kind === "text")).msg.text, "welcome c");
    await kick(server.rt, (await getUser(server.kv, a.userId))!, group.id, b.userId);
    await wb.next("conv_removed");
    wa.send({ type: "send", conv: group.id, cid: "m2", text: "after removal" });
    await wc.next("msg", (f) => f.msg.text === "after removal");
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(
      !wb.msgs(group.id).some((m) => m.text === "after removal"),
      "removed member got nothing after",
    );
    wb.send({ type: "send", conv: group.id, cid: "late", text: "still here?" });
    assert.equal((await wb.next("error", (f) => f.cid === "late")).code, "not_member");
    await Promise.all([wa, wb, wc].map((w) => w.close()));
  });
});

Deno.test("bad frames get error frames and change nothing; abuse closes with documented codes", async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    const w = await WsClient.open(server, client);
    w.send({ type: "send", conv: "x", cid: "c", text: "before hello" });
    assert.equal((await w.next("error")).code, "bad_frame");
    w.send({ type: "hello", v: 1 });
    await w.next("resumed");
    for (
      const bad of [
        "not json",
        "[]",
        '{"type":"nope"}',
        '{"type":"send","conv":"UPPER","cid":"a","text":"x"}',
        '{"type":"send","conv":"abc","cid":"a","text":"   "}',
      ]
    ) {
      w.raw(bad);
      assert.equal((await w.next("error")).code, "bad_frame", bad);
    }
    w.raw("x".repeat(MAX_FRAME_BYTES + 1));
    assert.equal((await w.waitClose()).code, CLOSE.frameTooLarge);
    const v = await WsClient.open(server, client);
    v.send({ type: "hello", v: 99 });
    assert.equal((await v.waitClose()).code, CLOSE.badVersion);
    const f = await WsClient.connect(server, client);
    for (let i = 0; i < 19; i++) {
      f.raw("{}");
      await f.next("error");
    }
    f.raw("{}");
    assert.equal((await f.waitClose()).code, CLOSE.badFrames);
  });
});

Deno.test("logging out closes that session's sockets with the do-not-reconnect code", async () => {
  await withServer(async (server) => {
    const { client, input } = await signUp(server);
    const other = new Client(server);
    await other.post("/api/auth/login", { login: input.username, password: input.password });
    const w1 = await WsClient.connect(server, client);
    const w2 = await WsClient.connect(server, other);
    await client.post("/api/auth/logout", {});
    assert.equal((await w1.waitClose()).code, CLOSE.unauthorized);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(w2.closed, null, "the other device stays connected");
    await w2.close();
  });
});
