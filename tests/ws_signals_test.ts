/** Read cursors, unread counts, receipts, typing and presence over real sockets. */
import assert from "node:assert/strict";
import { friendsDm, friendsGroup, signUp, type TestServer, withServer } from "./helpers.ts";
import { skewClock } from "./http_checks.ts";
import { WsClient } from "./ws_client.ts";
import { LIMITS_WS } from "../lib/realtime/conn.ts";

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

async function sendAll(ws: WsClient, conv: string, n: number, tag = "m") {
  for (let i = 0; i < n; i++) {
    ws.send({ type: "send", conv, cid: `${tag}${i}`, text: `${tag} ${i}` });
    await ws.next("ack", (f) => f.cid === `${tag}${i}`);
  }
}

async function welcomeOf(server: TestServer, client: Parameters<typeof WsClient.open>[1]) {
  const w = await WsClient.connect(server, client);
  const welcome = await w.next("welcome");
  await w.close();
  return welcome;
}

Deno.test("unread counts come from read cursors: the welcome shows readSeq, lastSeq - readSeq is unread", async () => {
  await withServer(async (server) => {
    const [a, b] = [await signUp(server), await signUp(server)];
    const dm = (await friendsDm(server, a.userId, b.userId)).id;
    const wb = await WsClient.connect(server, b.client);
    await sendAll(wb, dm, 5);
    let s = (await welcomeOf(server, a.client)).convs.find((c) => c.id === dm)!;
    assert.deepEqual([s.lastSeq, s.readSeq, s.lastSeq - s.readSeq], [5, 0, 5]);
    assert.equal(s.peerReadSeq, 5, "the sender has read what they sent");
    const wa = await WsClient.connect(server, a.client);
    wa.send({ type: "read", conv: dm, seq: 3 });
    await wb.next("read", (f) => f.user === a.userId);
    wa.send({ type: "read", conv: dm, seq: 2 });
    wa.send({ type: "read", conv: dm, seq: 3 });
    await settle();
    assert.equal(
      wb.frames.filter((f) => f.type === "read").length,
      0,
      "a read that moves nothing is not broadcast",
    );
    s = (await welcomeOf(server, a.client)).convs.find((c) => c.id === dm)!;
    assert.deepEqual(
      [s.readSeq, s.lastSeq - s.readSeq],
      [3, 2],
      "a read never moves the cursor back",
    );
    wa.send({ type: "read", conv: dm, seq: 999 });
    assert.equal(
      (await wb.next("read", (f) => f.user === a.userId)).seq,
      5,
      "a read past the end is clamped to the last message",
    );
    s = (await welcomeOf(server, a.client)).convs.find((c) => c.id === dm)!;
    assert.equal(s.lastSeq - s.readSeq, 0);
    await Promise.all([wa.close(), wb.close()]);
  });
});

Deno.test("read receipts: the DM peer gets a read frame; a group's receipts give each member's cursor", async () => {
  await withServer(async (server) => {
    const [a, b, c] = [await signUp(server), await signUp(server), await signUp(server)];
    const dm = (await friendsDm(server, a.userId, b.userId)).id;
    // Seq 1 is the group's "created" message: A's four messages are 2 to 5.
    const group = (await friendsGroup(server, a.userId, "Team", [b.userId, c.userId])).id;
    const [wa, wb, wc] = await Promise.all(
      [a, b, c].map((u) => WsClient.connect(server, u.client)),
    );
    await sendAll(wa, dm, 2, "d");
    wb.send({ type: "read", conv: dm, seq: 2 });
    assert.deepEqual(await wa.next("read"), { type: "read", conv: dm, user: b.userId, seq: 2 });
    await sendAll(wa, group, 4, "g");
    wb.send({ type: "read", conv: group, seq: 3 });
    await wa.next("read", (f) => f.conv === group && f.user === b.userId);
    await wc.next("read", (f) => f.conv === group && f.user === b.userId && f.seq === 3);
    wc.send({ type: "receipts", conv: group, rid: "q1" });
    const r = await wc.next("receipts", (f) => f.rid === "q1");
    assert.deepEqual(r.reads, { [a.userId]: 5, [b.userId]: 3 }, "c has not read anything yet");
    wc.send({ type: "read", conv: group, seq: 1 });
    await wa.next("read", (f) => f.conv === group && f.user === c.userId);
    wa.send({ type: "receipts", conv: group, rid: "q2" });
    assert.deepEqual((await wa.next("receipts", (f) => f.rid === "q2")).reads, {
      [a.userId]: 5,
      [b.userId]: 3,
      [c.userId]: 1,
    });
    await Promise.all([wa, wb, wc].map((w) => w.close()));
  });
});

Deno.test("a user's read on one tab reaches their other tab", async () => {
  await withServer(async (server) => {
    const [a, b] = [await signUp(server), await signUp(server)];
    const dm = (await friendsDm(server, a.userId, b.userId)).id;
    const wb = await WsClient.connect(server, b.client);
    await sendAll(wb, dm, 3);
    const [tab1, tab2] = [
      await WsClient.connect(server, a.client),
      await WsClient.connect(server, a.client),
    ];
    tab1.send({ type: "read", conv: dm, seq: 3 });
    assert.deepEqual(await tab2.next("read"), { type: "read", conv: dm, user: a.userId, seq: 3 });
    await Promise.all([tab1.close(), tab2.close(), wb.close()]);
  });
});

Deno.test("typing is relayed to the others, not to the typer, at most once per 3 s per user and conversation", async () => {
  const clock = skewClock();
  await withServer({ now: clock.now }, async (server) => {
    const [a, b, c] = [await signUp(server), await signUp(server), await signUp(server)];
    const dm = (await friendsDm(server, a.userId, b.userId)).id;
    const group = (await friendsGroup(server, a.userId, "Team", [b.userId, c.userId])).id;
    const [tab1, tab2] = [
      await WsClient.connect(server, a.client),
      await WsClient.connect(server, a.client),
    ];
    const [wb, wc] = [
      await WsClient.connect(server, b.client),
      await WsClient.connect(server, c.client),
    ];
    const typings = (w: WsClient, conv: string) =>
      w.frames.filter((f) => f.type === "typing" && f.conv === conv);
    for (let i = 0; i < 5; i++) (i % 2 ? tab2 : tab1).send({ type: "typing", conv: dm });
    tab1.send({ type: "typing", conv: group });
    await wb.next("typing", (f) => f.conv === dm).then((f) => assert.equal(f.user, a.userId));
    // The group's typing goes on the group's own lane, which may commit later.
    for (let i = 0; i < 500 && typings(wb, group).length + typings(wc, group).length < 2; i++) {
      await settle(10);
    }
    await settle();
    assert.equal(typings(wb, dm).length, 0, "one typing frame for five signals from two tabs");
    assert.equal(
      typings(wb, group).length + typings(wc, group).length,
      2,
      "the group's throttle is its own",
    );
    assert.equal(typings(wc, dm).length, 0, "not a member of the DM");
    assert.equal(
      typings(tab1, dm).length + typings(tab2, dm).length,
      0,
      "the typer's own tabs are not told",
    );
    // The clock also runs: 1.5 s of margin for a loaded machine.
    clock.advance(LIMITS_WS.typingEveryMs - 1500);
    tab2.send({ type: "typing", conv: dm });
    await settle();
    assert.equal(typings(wb, dm).length, 0, "still within 3 s");
    clock.advance(1600);
    tab2.send({ type: "typing", conv: dm });
    await wb.next("typing", (f) => f.conv === dm);
    wb.send({ type: "typing", conv: dm });
    await tab1.next("typing", (f) => f.user === b.userId);
    await tab2.next("typing", (f) => f.user === b.userId);
    await Promise.all([tab1, tab2, wb, wc].map((w) => w.close()));
  });
});

Deno.test("presence: online when the first tab connects, offline with lastSeen only when the last one closes", async () => {
  await withServer(async (server) => {
    const [a, b] = [await signUp(server), await signUp(server)];
    const dm = (await friendsDm(server, a.userId, b.userId)).id;
    const wb = await WsClient.connect(server, b.client);
    const peerOf = (
      w: { convs: { id: string; peer?: { online?: boolean; lastSeen?: number | null } }[] },
    ) => w.convs.find((c) => c.id === dm)!.peer!;
    const tab1 = await WsClient.connect(server, a.client);
    assert.deepEqual(await wb.next("presence"), {
      type: "presence",
      user: a.userId,
      online: true,
      lastSeen: null,
    });
    assert.equal(peerOf(await tab1.next("welcome")).online, true, "a sees b online in the welcome");
    const tab2 = await WsClient.connect(server, a.client);
    await tab1.close();
    await settle();
    assert.equal(
      wb.frames.filter((f) => f.type === "presence").length,
      0,
      "one tab closing while another is open says nothing",
    );
    const before = Date.now();
    await tab2.close();
    const off = await wb.next("presence");
    assert.equal(off.user, a.userId);
    assert.equal(off.online, false);
    assert.ok(
      off.lastSeen !== null && off.lastSeen >= before && off.lastSeen <= Date.now(),
      "lastSeen is when the last tab closed",
    );
    const again = peerOf(await welcomeOf(server, b.client));
    assert.deepEqual(
      [again.online, again.lastSeen],
      [false, off.lastSeen],
      "a fresh welcome agrees",
    );
    await wb.close();
  });
});
