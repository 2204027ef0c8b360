/**
 * Friends in realtime: every change reaches every device of both people at once, and the DM
 * follows the friendship (delete friend closes it for sending; a block is silent).
 */
import assert from "node:assert/strict";
import { friendsDm, signUp, type TestServer, withServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";

type Person = Awaited<ReturnType<typeof signUp>>;

function post(p: Person, method: string, path: string, json?: unknown) {
  return p.client.json<Record<string, unknown>>(path, { method, json });
}

async function devices(server: TestServer, p: Person): Promise<[WsClient, WsClient]> {
  return [await WsClient.connect(server, p.client), await WsClient.connect(server, p.client)];
}

/** No frame of `type` arrived by now (after a short wait for anything in flight). */
async function none(
  ws: WsClient[],
  type: string,
  pred: (f: Record<string, unknown>) => boolean = () => true,
) {
  await new Promise((r) => setTimeout(r, 150));
  for (const w of ws) {
    assert.ok(
      !w.frames.some((f) => f.type === type && pred(f as unknown as Record<string, unknown>)),
      `no "${type}" frame`,
    );
  }
}

Deno.test("requests, accept, remark and delete reach every device of both people", async () => {
  await withServer(async (server) => {
    const [a, b] = await Promise.all([signUp(server), signUp(server)]);
    const [a1, a2] = await devices(server, a);
    const [b1, b2] = await devices(server, b);

    assert.equal(
      (await post(a, "POST", "/api/friends/requests", { to: b.userId, note: "hi <b>" })).status,
      200,
    );
    for (const w of [b1, b2]) {
      const f = await w.next("friend_request");
      assert.deepEqual([f.request.user.id, f.request.note], [a.userId, "hi <b>"]);
    }
    await none([a1, a2], "friend_request");

    const acc = await post(b, "POST", `/api/friends/requests/${a.userId}/accept`);
    const dm = acc.body.dm as string;
    for (const [w, other] of [[a1, b], [a2, b], [b1, a], [b2, a]] as const) {
      assert.equal((await w.next("friend")).friend.user.id, other.userId);
      assert.equal(
        (await w.next("conv", (f) => f.conv.id === dm)).conv.kind,
        "dm",
        "the DM opens on every device",
      );
    }
    for (const w of [b1, b2]) assert.equal((await w.next("friend_request_gone")).user, a.userId);

    // Chat works, on every device.
    a1.send({ type: "send", conv: dm, cid: "m1", text: "hello" });
    await a1.next("ack");
    for (const w of [a2, b1, b2]) {
      assert.equal((await w.next("msg", (f) => f.msg.conv === dm)).msg.text, "hello");
    }

    // A remark goes to the setter's devices only.
    await post(a, "PUT", `/api/friends/${b.userId}/remark`, { remark: "Bobby" });
    for (const w of [a1, a2]) assert.equal((await w.next("friend")).friend.remark, "Bobby");
    await none([b1, b2], "friend");

    // Delete friend: both sides at once; nobody can send in the DM any more.
    await post(b, "DELETE", `/api/friends/${a.userId}`);
    for (const [w, other] of [[a1, b], [a2, b], [b1, a], [b2, a]] as const) {
      assert.equal((await w.next("friend_removed")).user, other.userId);
    }
    for (const [w, cid] of [[a1, "m2"], [b1, "m3"]] as const) {
      w.send({ type: "send", conv: dm, cid, text: "still there?" });
      const err = await w.next("error", (f) => f.cid === cid);
      assert.equal(err.code, "not_friends");
    }
    b1.send({ type: "history", conv: dm, limit: 10 });
    assert.deepEqual(
      (await b1.next("history")).messages.map((m) => m.text),
      ["hello"],
      "history stays readable; nothing was stored",
    );

    // Friending again reopens the same DM.
    await post(b, "POST", "/api/friends/requests", { to: a.userId, note: "again" });
    await a1.next("friend_request");
    const again = await post(a, "POST", `/api/friends/requests/${b.userId}/accept`);
    assert.equal(again.body.dm, dm);
    for (const w of [a1, a2, b1, b2]) await w.next("friend", (f) => f.friend.dm === dm);
    b1.send({ type: "send", conv: dm, cid: "m4", text: "back" });
    assert.equal((await a1.next("msg", (f) => f.msg.cid === "m4")).msg.text, "back");
  });
});

Deno.test("a decline reaches the decliner's devices only; a block is silent for the blocked", async () => {
  await withServer(async (server) => {
    const [a, b, c] = await Promise.all([signUp(server), signUp(server), signUp(server)]);
    const [a1, a2] = await devices(server, a);
    const [b1, b2] = await devices(server, b);
    const [c1] = await devices(server, c);

    await post(c, "POST", "/api/friends/requests", { to: a.userId, note: "hello" });
    await a1.next("friend_request");
    await post(a, "POST", `/api/friends/requests/${c.userId}/decline`);
    for (const w of [a1, a2]) assert.equal((await w.next("friend_request_gone")).user, c.userId);
    await none([c1], "friend_request_gone");
    await none([c1], "friend_removed");

    // Friends a and b; then b blocks a.
    await post(a, "POST", "/api/friends/requests", { to: b.userId, note: "" });
    const dm = (await post(b, "POST", `/api/friends/requests/${a.userId}/accept`)).body
      .dm as string;
    await a1.next("conv", (f) => f.conv.id === dm);
    await b1.next("conv", (f) => f.conv.id === dm);
    await post(b, "POST", `/api/blocks/${a.userId}`);
    for (const w of [b1, b2]) {
      assert.deepEqual(await w.next("blocked"), { type: "blocked", user: a.userId, blocked: true });
    }
    await none([a1, a2], "blocked");

    // a's message looks sent (ack, and on a's devices), and never reaches b.
    a1.send({ type: "send", conv: dm, cid: "x1", text: "can you hear me?" });
    assert.ok((await a1.next("ack")).seq > 0);
    assert.equal((await a2.next("msg", (f) => f.msg.cid === "x1")).msg.text, "can you hear me?");
    b1.send({ type: "send", conv: dm, cid: "y1", text: "b still writes" });
    await b1.next("ack");
    await a1.next("msg", (f) => f.msg.cid === "y1");
    await none([b1, b2], "msg", (f) => (f.msg as { cid?: string }).cid === "x1");
    b2.send({ type: "history", conv: dm, limit: 10 });
    assert.deepEqual((await b2.next("history")).messages.map((m) => m.text), ["b still writes"]);

    // Unblock: messages flow again.
    await post(b, "DELETE", `/api/blocks/${a.userId}`);
    for (const w of [b1, b2]) assert.equal((await w.next("blocked")).blocked, false);
    a1.send({ type: "send", conv: dm, cid: "x2", text: "now?" });
    assert.equal((await b1.next("msg", (f) => f.msg.cid === "x2")).msg.text, "now?");
  });
});

Deno.test("crossing requests over HTTP: both sides see one friendship on all devices", async () => {
  await withServer(async (server) => {
    const [a, b] = await Promise.all([signUp(server), signUp(server)]);
    const [a1, a2] = await devices(server, a);
    const [b1, b2] = await devices(server, b);
    const [ra, rb] = await Promise.all([
      post(a, "POST", "/api/friends/requests", { to: b.userId, note: "1" }),
      post(b, "POST", "/api/friends/requests", { to: a.userId, note: "2" }),
    ]);
    assert.ok([ra.body.status, rb.body.status].includes("friends"));
    for (const w of [a1, a2, b1, b2]) await w.next("friend");
    const [sa, sb] = await Promise.all(
      [a, b].map((p) =>
        p.client.json<{ friends: unknown[]; incoming: unknown[]; outgoing: unknown[] }>(
          "/api/friends",
        )
      ),
    );
    for (const s of [sa.body, sb.body]) {
      assert.deepEqual([s.friends.length, s.incoming.length, s.outgoing.length], [1, 0, 0]);
    }
  });
});

Deno.test("the DM rules hold for a socket that has not learned of the DM yet (it was just added)", async () => {
  await withServer(async (server) => {
    const [a, b] = await Promise.all([signUp(server), signUp(server)]);
    const dm = (await friendsDm(server, a.userId, b.userId)).id;
    await post(b, "DELETE", `/api/friends/${a.userId}`);
    const w = await WsClient.connect(server, a.client);
    // The moment between a DM's conv_added and the socket's subscribing to it, made to last.
    for (const c of server.rt.conns) if (c.userId === a.userId) c.convs.delete(dm);
    w.send({ type: "send", conv: dm, cid: "late", text: "after the delete" });
    // An ack instead would leave this waiting: the send must be refused, not stored.
    assert.equal((await w.next("error", (f) => f.cid === "late")).code, "not_friends");
    assert.equal(w.frames.some((f) => f.type === "ack"), false, "nothing was stored");
  });
});
