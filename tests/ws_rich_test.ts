/**
 * Replies, recalls and reactions over real sockets: who may do what, what every device sees
 * (live, after a resume, in history), and what is left in storage.
 */
import assert from "node:assert/strict";
import { friendsDm, friendsGroup, signUp, type TestServer, withServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";
import { keys } from "../lib/kv/keys.ts";
import { getUser } from "../lib/accounts/users.ts";
import { setRole } from "../lib/groups/moderation.ts";
import type { Message } from "../lib/wire/protocol.ts";
import { LIMITS_WS } from "../lib/realtime/limits.ts";
import { skewClock } from "./http_checks.ts";
import { emptyState, reduce, unreadCount } from "../lib/client/state.ts";
import { convState } from "../lib/client/messages.ts";

/**
 * Runs `fn` with a server clock the test moves minutes ahead, with the idle sweep off: after such
 * a jump, a sweep (every 5 s of real time) would close every socket as silent for 75 s.
 */
async function withSkewedServer(
  fn: (server: TestServer, clock: ReturnType<typeof skewClock>) => Promise<void>,
) {
  const clock = skewClock();
  const idle = LIMITS_WS.idleMs;
  LIMITS_WS.idleMs = Infinity;
  try {
    await withServer({ now: clock.now }, (server) => fn(server, clock));
  } finally {
    LIMITS_WS.idleMs = idle;
  }
}

async function stored(kv: Deno.Kv, conv: string, seq: number): Promise<Message | null> {
  return (await kv.get<Message>(keys.msg(conv, seq))).value;
}

/** Two friends with their DM, each with a socket that said hello. */
async function pair(server: TestServer) {
  const a = await signUp(server);
  const b = await signUp(server);
  const conv = await friendsDm(server, a.userId, b.userId);
  const wa = await WsClient.connect(server, a.client);
  const wb = await WsClient.connect(server, b.client);
  return { a, b, conv, wa, wb };
}

Deno.test("a reply names the message it answers; one to a missing message is refused and stores nothing", async () => {
  await withServer(async (server) => {
    const { a, conv, wa, wb } = await pair(server);
    wa.send({ type: "send", conv: conv.id, cid: "q1", text: "lunch at noon?" });
    const first = await wa.next("ack");
    wb.send({ type: "send", conv: conv.id, cid: "r1", text: "yes", reply: first.seq });
    const ack = await wb.next("ack");
    const got = await wa.next("msg", (f) => f.msg.seq === ack.seq);
    assert.deepEqual(got.msg.reply, { seq: first.seq, from: a.userId });
    assert.equal(got.msg.text, "yes");

    wb.send({ type: "send", conv: conv.id, cid: "r2", text: "to nothing", reply: 999 });
    const err = await wb.next("error", (f) => f.cid === "r2");
    assert.equal(err.code, "no_such_message");
    wb.send({ type: "send", conv: conv.id, cid: "r3", text: "bad", reply: "1" });
    assert.equal((await wb.next("error")).code, "bad_frame");
    assert.equal(await stored(server.kv, conv.id, ack.seq + 1), null, "nothing stored");
    await Promise.all([wa.close(), wb.close()]);
  });
});

Deno.test("recall: the sender within 2 minutes; the words leave storage; every device, resume and history show it recalled", async () => {
  await withSkewedServer(async (server, clock) => {
    const { a, b, conv, wa, wb } = await pair(server);
    wa.send({ type: "send", conv: conv.id, cid: "s1", text: "secret plan" });
    const sent = await wa.next("ack");
    await wb.next("msg", (f) => f.msg.seq === sent.seq);
    // B's second device goes away before the recall and resumes after it.
    const resumeFrom = sent.seq;

    wb.send({ type: "recall", rid: "x", conv: conv.id, seq: sent.seq });
    assert.equal((await wb.next("error", (f) => f.rid === "x")).code, "not_allowed");

    wa.send({ type: "recall", rid: "r", conv: conv.id, seq: sent.seq });
    const ack = await wa.next("ack", (f) => f.rid === "r");
    const live = await wb.next("msg", (f) => f.msg.seq === ack.seq);
    assert.equal(live.msg.kind, "update");
    assert.deepEqual(live.msg.meta, { event: "recall", target: sent.seq });

    const original = await stored(server.kv, conv.id, sent.seq);
    assert.equal(original?.text, "", "the text is gone from storage");
    assert.equal(original?.recalled?.by, a.userId);
    assert.ok(!JSON.stringify(original).includes("secret"), "no copy of the words is left");

    // Recalling again is a retry of the same recall: the same entry, nothing new in the log.
    wa.send({ type: "recall", rid: "again", conv: conv.id, seq: sent.seq });
    assert.equal((await wa.next("ack", (f) => f.rid === "again")).seq, ack.seq);

    const resumed = await WsClient.connect(server, b.client, { [conv.id]: resumeFrom });
    const replay = await resumed.next("msg", (f) => f.msg.seq === ack.seq);
    assert.equal(replay.msg.meta?.event, "recall");

    wb.send({ type: "history", conv: conv.id, limit: 10 });
    const h = await wb.next("history");
    const shown = h.messages.find((m) => m.seq === sent.seq)!;
    assert.equal(shown.text, "");
    assert.ok(shown.recalled);

    // A device that held the message and replays the recall ends where a fresh load does.
    let s = reduce(emptyState(), {
      type: "welcome",
      v: 1,
      me: { id: b.userId, username: "b", nickname: "b", avatarUrl: null },
      convs: [{
        id: conv.id,
        kind: "dm",
        title: "",
        lastSeq: 0,
        lastAt: 0,
        last: null,
        readSeq: 0,
      }],
      isolate: "t",
    });
    s = reduce(s, {
      type: "msg",
      msg: { ...live.msg, seq: sent.seq, kind: "text", text: "secret plan", meta: undefined },
    });
    s = reduce(s, { type: "msg", msg: live.msg });
    const held = s.convs[conv.id].messages.find((m) => m.seq === sent.seq)!;
    assert.equal(held.text, "");
    assert.equal(held.recalled?.by, a.userId);

    // Past the window the sender cannot recall.
    wa.send({ type: "send", conv: conv.id, cid: "s2", text: "later" });
    const late = await wa.next("ack", (f) => f.cid === "s2");
    clock.advance(3 * 60_000);
    wa.send({ type: "recall", rid: "late", conv: conv.id, seq: late.seq });
    assert.equal((await wa.next("error", (f) => f.rid === "late")).code, "recall_expired");
    assert.equal((await stored(server.kv, conv.id, late.seq))?.text, "later");
    await Promise.all([wa.close(), wb.close(), resumed.close()]);
  });
});

Deno.test("recall in a group: the owner any time, an admin a member's message, a member not another's", async () => {
  await withSkewedServer(async (server, clock) => {
    const owner = await signUp(server);
    const admin = await signUp(server);
    const member = await signUp(server);
    const g = await friendsGroup(server, owner.userId, "Team", [admin.userId, member.userId]);
    await setRole(
      server.rt,
      (await getUser(server.kv, owner.userId))!,
      g.id,
      admin.userId,
      "admin",
    );
    const wo = await WsClient.connect(server, owner.client);
    const wa = await WsClient.connect(server, admin.client);
    const wm = await WsClient.connect(server, member.client);
    const say = async (w: WsClient, cid: string) => {
      w.send({ type: "send", conv: g.id, cid, text: cid });
      return (await w.next("ack", (f) => f.cid === cid)).seq;
    };
    const fromOwner = await say(wo, "o1");
    const fromMember = await say(wm, "m1");
    const fromMember2 = await say(wm, "m2");
    clock.advance(10 * 60_000);
    wm.send({ type: "recall", rid: "m", conv: g.id, seq: fromOwner });
    assert.equal((await wm.next("error", (f) => f.rid === "m")).code, "not_allowed");
    wa.send({ type: "recall", rid: "a-owner", conv: g.id, seq: fromOwner });
    assert.equal((await wa.next("error", (f) => f.rid === "a-owner")).code, "not_allowed");
    wa.send({ type: "recall", rid: "a", conv: g.id, seq: fromMember });
    await wa.next("ack", (f) => f.rid === "a");
    wo.send({ type: "recall", rid: "o", conv: g.id, seq: fromMember2 });
    await wo.next("ack", (f) => f.rid === "o");
    assert.equal((await stored(server.kv, g.id, fromMember))?.recalled?.by, admin.userId);
    assert.equal((await stored(server.kv, g.id, fromMember2))?.recalled?.by, owner.userId);
    assert.equal((await stored(server.kv, g.id, fromOwner))?.text, "o1");
    // Someone else's recall of a recalled message is refused.
    wo.send({ type: "recall", rid: "o2", conv: g.id, seq: fromMember });
    assert.equal((await wo.next("error", (f) => f.rid === "o2")).code, "already_recalled");
    await Promise.all([wo.close(), wa.close(), wm.close()]);
  });
});

Deno.test("reactions: toggled per user, the same on every device, limited, and none on a recalled message", async () => {
  await withServer(async (server) => {
    const { a, conv, wa, wb } = await pair(server);
    wa.send({ type: "send", conv: conv.id, cid: "m", text: "good news" });
    const m = await wa.next("ack");
    const react = (w: WsClient, cid: string, emoji: string, on: boolean) => {
      w.send({ type: "react", conv: conv.id, cid, seq: m.seq, emoji, on });
    };
    react(wb, "k1", "👍", true);
    await wb.next("ack", (f) => f.cid === "k1");
    react(wa, "k2", "👍", true);
    await wa.next("ack", (f) => f.cid === "k2");
    react(wa, "k3", "❤️", true);
    await wa.next("ack", (f) => f.cid === "k3");
    react(wb, "k4", "👍", false);
    await wb.next("ack", (f) => f.cid === "k4");
    assert.deepEqual((await stored(server.kv, conv.id, m.seq))?.reactions, {
      "👍": [a.userId],
      "❤️": [a.userId],
    });
    // Reactions are not unread messages, nor the list's preview (A only sent the message).
    const fresh = await WsClient.open(server, a.client);
    fresh.send({ type: "hello", v: 1 });
    const summary = (await fresh.next("welcome")).convs.find((x) => x.id === conv.id)!;
    assert.ok(summary.lastSeq > summary.readSeq, "B's reactions came after A's read position");
    assert.equal(unreadCount(convState(summary)), 0);
    assert.equal(summary.last?.text, "good news");
    await fresh.close();
    // A retried reaction (same cid) is one entry.
    react(wb, "k4", "👍", false);
    const again = await wb.next("ack", (f) => f.cid === "k4");
    assert.equal(again.seq, m.seq + 4);

    react(wb, "bad", "<script>", true);
    assert.equal((await wb.next("error")).code, "bad_frame");

    for (let i = 0; i < 18; i++) {
      react(wb, `many${i}`, String.fromCodePoint(0x1f600 + i), true);
      await wb.next("ack", (f) => f.cid === `many${i}`);
    }
    react(wb, "over", "🚀", true);
    assert.equal((await wb.next("error", (f) => f.cid === "over")).code, "too_many_reactions");
    assert.equal(Object.keys((await stored(server.kv, conv.id, m.seq))!.reactions!).length, 20);

    wa.send({ type: "recall", rid: "r", conv: conv.id, seq: m.seq });
    await wa.next("ack", (f) => f.rid === "r");
    assert.equal((await stored(server.kv, conv.id, m.seq))?.reactions, undefined);
    react(wb, "late", "👍", true);
    assert.equal((await wb.next("error", (f) => f.cid === "late")).code, "no_such_message");
    await Promise.all([wa.close(), wb.close()]);
  });
});

Deno.test("a stranger cannot recall, react to or reply into a conversation; nothing is stored", async () => {
  await withServer(async (server) => {
    const a = await signUp(server);
    const b = await signUp(server);
    const stranger = await signUp(server);
    const conv = await friendsDm(server, a.userId, b.userId);
    const wa = await WsClient.connect(server, a.client);
    wa.send({ type: "send", conv: conv.id, cid: "m", text: "private" });
    const m = await wa.next("ack");
    const ws = await WsClient.connect(server, stranger.client);
    ws.send({ type: "recall", rid: "r", conv: conv.id, seq: m.seq });
    ws.send({
      type: "react",
      rid: "k",
      conv: conv.id,
      cid: "k",
      seq: m.seq,
      emoji: "👍",
      on: true,
    });
    ws.send({ type: "send", rid: "s", conv: conv.id, cid: "s", text: "hi", reply: m.seq });
    for (const rid of ["r", "k", "s"]) {
      const err = await ws.next("error", (f) => f.rid === rid);
      assert.equal(err.code, "not_member", `${rid}: ${err.code}`);
    }
    const after = await stored(server.kv, conv.id, m.seq);
    assert.equal(after?.text, "private");
    assert.equal(after?.reactions, undefined);
    assert.equal(await stored(server.kv, conv.id, m.seq + 1), null);
    await Promise.all([wa.close(), ws.close()]);
  });
});

Deno.test("@mentions: the person called sees it marked in their list until read; @all is for owners and admins", async () => {
  await withServer(async (server) => {
    const owner = await signUp(server);
    const b = await signUp(server);
    const c = await signUp(server);
    const g = await friendsGroup(server, owner.userId, "Team", [b.userId, c.userId]);
    const wb = await WsClient.connect(server, b.client);
    wb.send({ type: "send", conv: g.id, cid: "m1", text: "@C look", mentions: [c.userId] });
    const m1 = await wb.next("ack", (f) => f.cid === "m1");
    wb.send({ type: "send", conv: g.id, cid: "m2", text: "@all hi", mentions: ["all"] });
    assert.equal((await wb.next("error", (f) => f.cid === "m2")).code, "not_allowed");
    wb.send({ type: "send", conv: g.id, cid: "m3", text: "bad", mentions: ["<x>"] });
    assert.equal((await wb.next("error")).code, "bad_frame");

    const summaryOf = async (who: typeof c, conv: string) => {
      const w = await WsClient.open(server, who.client);
      w.send({ type: "hello", v: 1 });
      const welcome = await w.next("welcome");
      await w.next("resumed");
      return { w, s: welcome.convs.find((x) => x.id === conv)! };
    };
    const first = await summaryOf(c, g.id);
    assert.equal(first.s.mentionSeq, m1.seq, "C is marked");
    assert.ok(first.s.mentionSeq! > first.s.readSeq);
    const forB = await summaryOf(b, g.id);
    assert.equal(forB.s.mentionSeq, undefined, "B called nobody but C");
    first.w.send({ type: "read", conv: g.id, seq: m1.seq });
    await first.w.next("read", (f) => f.user === c.userId);
    const after = await summaryOf(c, g.id);
    assert.ok(after.s.readSeq >= after.s.mentionSeq!, "read: no longer marked");

    const wo = await WsClient.connect(server, owner.client);
    wo.send({ type: "send", conv: g.id, cid: "all", text: "@all meeting", mentions: ["all"] });
    const all = await wo.next("ack", (f) => f.cid === "all");
    const live = await forB.w.next("msg", (f) => f.msg.seq === all.seq);
    assert.deepEqual(live.msg.mentions, ["all"]);
    assert.equal((await summaryOf(b, g.id)).s.mentionSeq, all.seq, "@all marks everyone");
    await Promise.all([wb.close(), wo.close(), first.w.close(), forB.w.close(), after.w.close()]);
  });
});
