import assert from "node:assert/strict";
import {
  friendsDm,
  friendsGroup,
  signUp,
  storeTexts,
  type TestServer,
  withServer,
} from "./helpers.ts";
import { WsClient } from "./ws_client.ts";
import { RESUME_MAX_PER_CONV } from "../lib/wire/protocol.ts";

async function pair(server: TestServer) {
  const a = await signUp(server);
  const b = await signUp(server);
  const conv = await friendsDm(server, a.userId, b.userId);
  return { a, b, conv: conv.id };
}

async function sendAll(ws: WsClient, conv: string, texts: string[]) {
  for (const [i, text] of texts.entries()) {
    ws.send({ type: "send", conv, cid: `${text}-${i}`, text });
    await ws.next("ack", (f) => f.cid === `${text}-${i}`);
  }
}

Deno.test("resume after a drop replays exactly the missed messages, in order, once", async () => {
  await withServer(async (server) => {
    const { a, b, conv } = await pair(server);
    const wa = await WsClient.connect(server, a.client);
    let wb = await WsClient.connect(server, b.client);
    await sendAll(wa, conv, ["m1", "m2"]);
    await wb.waitMsgs(conv, 2);
    const lastSeen = Math.max(...wb.msgs(conv).map((m) => m.seq));
    await wb.close();
    await sendAll(wa, conv, ["m3", "m4", "m5"]);
    wb = await WsClient.open(server, b.client);
    wb.send({ type: "hello", v: 1, resume: { [conv]: lastSeen } });
    await wb.next("resumed");
    wa.send({ type: "send", conv, cid: "m6", text: "m6" });
    await wb.waitMsgs(conv, 4);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(wb.msgs(conv).map((m) => m.text), ["m3", "m4", "m5", "m6"]);
    assert.deepEqual(wb.msgs(conv).map((m) => m.seq), [3, 4, 5, 6]);
    await Promise.all([wa.close(), wb.close()]);
  });
});

Deno.test("resume past the bound answers gap and the client can page history", async () => {
  await withServer(async (server) => {
    const { a, b, conv } = await pair(server);
    const n = RESUME_MAX_PER_CONV + 5;
    await storeTexts(
      server,
      conv,
      "bulk",
      Array.from({ length: n }, (_, i) => ({ from: a.userId, text: `t${i}` })),
    );
    const wb = await WsClient.open(server, b.client);
    wb.send({ type: "hello", v: 1, resume: { [conv]: 0 } });
    const gap = await wb.next("gap");
    assert.equal(gap.conv, conv);
    assert.equal(gap.lastSeq, n);
    await wb.next("resumed");
    assert.equal(wb.msgs(conv).length, 0, "no partial replay past the bound");
    wb.send({ type: "history", conv, limit: 50 });
    const h = await wb.next("history");
    assert.equal(h.messages.length, 50);
    assert.equal(h.messages.at(-1)!.seq, n);
    assert.equal(h.hasMore, true);
    await wb.close();
  });
});

Deno.test("a retried send with the same client id stores one message and returns the same ack", async () => {
  await withServer(async (server) => {
    const { a, b, conv } = await pair(server);
    const wa = await WsClient.connect(server, a.client);
    const wb = await WsClient.connect(server, b.client);
    wa.send({ type: "send", conv, cid: "same", text: "once" });
    const ack1 = await wa.next("ack");
    wa.send({ type: "send", conv, cid: "same", text: "once" });
    const ack2 = await wa.next("ack");
    assert.equal(ack2.seq, ack1.seq);
    assert.equal(ack2.id, ack1.id);
    // Same id on a fresh socket (a reconnect) still maps to the first message.
    const wa2 = await WsClient.connect(server, a.client);
    wa2.send({ type: "send", conv, cid: "same", text: "once" });
    assert.equal((await wa2.next("ack")).seq, ack1.seq);
    wa.send({ type: "history", conv });
    const h = await wa.next("history");
    assert.equal(h.messages.length, 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(wb.msgs(conv).length, 1, "the receiver sees it once");
    await Promise.all([wa.close(), wa2.close(), wb.close()]);
  });
});

Deno.test("concurrent senders in one conversation get distinct, gapless seqs and everyone sees the same order", async () => {
  await withServer(async (server) => {
    const a = await signUp(server);
    const b = await signUp(server);
    const c = await signUp(server);
    const group = await friendsGroup(server, a.userId, "G", [b.userId, c.userId]);
    const [wa, wb, wc] = await Promise.all(
      [a, b, c].map((u) => WsClient.connect(server, u.client)),
    );
    const per = 30;
    for (let i = 0; i < per; i++) {
      for (const [j, w] of [wa, wb, wc].entries()) {
        w.send({ type: "send", conv: group.id, cid: `u${j}m${i}`, text: `u${j} ${i}` });
      }
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 1100)); // stay under the per-user send rate
    }
    const total = per * 3;
    const seen = await Promise.all([wa, wb, wc].map((w) => w.waitMsgs(group.id, total, 8000)));
    for (const list of seen) {
      // Seq 1 is the group's "created" message, from before the sockets.
      assert.deepEqual(list.map((m) => m.seq), Array.from({ length: total }, (_, i) => i + 2));
    }
    assert.deepEqual(seen[1].map((m) => m.id), seen[0].map((m) => m.id));
    await Promise.all([wa, wb, wc].map((w) => w.close()));
  });
});
