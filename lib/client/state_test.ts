import assert from "node:assert/strict";
import {
  type Action,
  type ChatState,
  emptyState,
  readCount,
  reduce,
  sortedConvs,
  TYPING_SHOW_MS,
  unreadCount,
} from "./state.ts";
import type { ConvSummary, Message, UserCard } from "../wire/protocol.ts";

const ME: UserCard = { id: "me", username: "me", nickname: "Me", avatarUrl: null };
const PEER = { id: "bob", username: "bob", nickname: "Bob", avatarUrl: null };

function dm(over: Partial<ConvSummary> = {}): ConvSummary {
  return {
    id: "d1",
    kind: "dm",
    title: "",
    peer: { ...PEER, online: true, lastSeen: null },
    lastSeq: 0,
    lastAt: 1,
    last: null,
    readSeq: 0,
    peerReadSeq: 0,
    ...over,
  };
}
function group(over: Partial<ConvSummary> = {}): ConvSummary {
  return {
    id: "g1",
    kind: "group",
    title: "Team",
    lastSeq: 0,
    lastAt: 2,
    last: null,
    readSeq: 0,
    ...over,
  };
}
function msg(seq: number, from = "bob", conv = "d1", extra: Partial<Message> = {}): Message {
  return { conv, seq, id: `m${seq}`, from, kind: "text", text: `t${seq}`, at: 100 + seq, ...extra };
}
function run(actions: Action[], s: ChatState = emptyState()): ChatState {
  return actions.reduce((acc, a) => reduce(acc, a, 1000), s);
}
function welcome(...convs: ConvSummary[]): Action {
  return { type: "welcome", v: 1, me: ME, convs, isolate: "i" };
}
const seqs = (s: ChatState, conv = "d1") => s.convs[conv].messages.map((m) => m.seq);

Deno.test("welcome sets me, conversations, peer cards and presence; a second welcome keeps loaded messages", () => {
  let s = run([welcome(dm({ lastSeq: 2, peerReadSeq: 1 }), group())]);
  assert.equal(s.me?.id, "me");
  assert.deepEqual(Object.keys(s.convs).sort(), ["d1", "g1"]);
  assert.deepEqual(s.users.bob, PEER);
  assert.deepEqual(s.presence.bob, { online: true, lastSeen: null });
  assert.equal(s.convs.d1.hasMore, true, "messages exist on the server before any are loaded");
  assert.equal(s.convs.g1.hasMore, false);
  assert.deepEqual(s.convs.d1.reads, { bob: 1 }, "the DM peer's read cursor seeds the receipts");
  s = run([
    { type: "history", conv: "d1", messages: [msg(1), msg(2)], hasMore: false },
    welcome(dm({ lastSeq: 3 })),
  ], s);
  assert.deepEqual(seqs(s), [1, 2]);
  assert.equal(s.convs.d1.loaded, true);
  assert.equal(s.convs.d1.summary.lastSeq, 3, "the summary is the server's");
  assert.equal(s.convs.g1, undefined, "a conversation missing from the welcome is gone");
});

Deno.test("msg frames are kept once each, in seq order, and update the summary", () => {
  let s = run([welcome(dm()), { type: "history", conv: "d1", messages: [], hasMore: false }]);
  for (const seq of [1, 2, 2, 1, 3]) s = reduce(s, { type: "msg", msg: msg(seq) });
  assert.deepEqual(seqs(s), [1, 2, 3]);
  const sum = s.convs.d1.summary;
  assert.equal(sum.lastSeq, 3);
  assert.equal(sum.lastAt, 103);
  assert.deepEqual(sum.last, { from: "bob", kind: "text", text: "t3" });
  assert.equal(sum.peerReadSeq, 3, "the peer has read what they sent");
  assert.equal(unreadCount(s.convs.d1), 3);
  s = reduce(s, { type: "msg", msg: msg(9) });
  assert.deepEqual(
    seqs(s),
    [1, 2, 3, 9],
    "a jump in seq (messages this user may not see) still extends the window",
  );
  assert.equal(s.convs.d1.summary.lastSeq, 9);
  s = reduce(s, { type: "msg", msg: msg(4, "me") });
  assert.equal(s.convs.d1.summary.readSeq, 4, "my own message counts as read");
  assert.equal(s.convs.d1.summary.lastSeq, 9, "an older seq never moves lastSeq back");
});

Deno.test("a msg that arrives before the first page is kept and joins the page", () => {
  let s = run([welcome(dm({ lastSeq: 2 }))]);
  s = reduce(s, { type: "msg", msg: msg(3) });
  s = reduce(s, { type: "history", conv: "d1", messages: [msg(1), msg(2)], hasMore: false });
  assert.deepEqual(seqs(s), [1, 2, 3]);
  s = reduce(s, { type: "msg", msg: msg(4) });
  assert.deepEqual(seqs(s), [1, 2, 3, 4]);
});

Deno.test("a local send is pending until its ack or its own msg; failed can be retried", () => {
  let s = run([welcome(dm()), { type: "history", conv: "d1", messages: [], hasMore: false }]);
  s = run([{ type: "local_send", conv: "d1", cid: "c1", text: "hi", at: 5 }, {
    type: "local_send",
    conv: "d1",
    cid: "c2",
    text: "yo",
    at: 6,
  }], s);
  assert.deepEqual(s.convs.d1.pending.map((p) => [p.cid, p.state]), [["c1", "pending"], [
    "c2",
    "pending",
  ]]);
  s = reduce(s, { type: "ack", cid: "c1", conv: "d1", seq: 1, at: 7, id: "m1" });
  assert.deepEqual(s.convs.d1.pending.map((p) => p.cid), ["c2"]);
  assert.equal(s.convs.d1.summary.readSeq, 1);
  s = reduce(s, { type: "local_failed", conv: "d1", cid: "c2" });
  assert.equal(s.convs.d1.pending[0].state, "failed");
  s = reduce(s, { type: "local_retry", conv: "d1", cid: "c2" });
  assert.equal(s.convs.d1.pending[0].state, "pending");
  s = reduce(s, { type: "msg", msg: msg(2, "me", "d1", { cid: "c2" }) });
  assert.deepEqual(
    s.convs.d1.pending,
    [],
    "my own msg (from another tab's view of it) settles the pending one",
  );
  s = reduce(s, { type: "local_send", conv: "d1", cid: "c3", text: "x", at: 8 });
  s = reduce(s, { type: "msg", msg: msg(3, "bob", "d1", { cid: "c3" }) });
  assert.equal(s.convs.d1.pending.length, 1, "someone else's cid does not settle mine");
});

Deno.test("a resume's replay of my stored messages settles them, so they are not sent again", () => {
  let s = run([welcome(dm()), { type: "history", conv: "d1", messages: [], hasMore: false }]);
  s = run([
    { type: "local_send", conv: "d1", cid: "c1", text: "a", at: 5 },
    { type: "local_send", conv: "d1", cid: "c2", text: "b", at: 6 },
    { type: "local_send", conv: "d1", cid: "c3", text: "c", at: 7 },
  ], s);
  // The connection dropped before the acks; the resume replays what the server stored.
  s = reduce(s, {
    type: "history",
    conv: "d1",
    messages: [
      msg(1, "me", "d1", { cid: "c1" }),
      msg(2, "bob", "d1", { cid: "c2" }),
      msg(3, "me", "d1", { cid: "c2" }),
    ],
    hasMore: false,
  });
  assert.deepEqual(s.convs.d1.pending.map((p) => p.cid), ["c3"]);
});

Deno.test("history pages merge: newest first, then older, hasMore from the oldest page", () => {
  let s = run([welcome(dm({ lastSeq: 5 }))]);
  s = reduce(s, { type: "history", conv: "d1", messages: [msg(4), msg(5)], hasMore: true });
  assert.equal(s.convs.d1.hasMore, true);
  s = reduce(s, {
    type: "history",
    conv: "d1",
    messages: [msg(2), msg(3), msg(4)],
    hasMore: false,
  });
  assert.deepEqual(seqs(s), [2, 3, 4, 5]);
  assert.equal(s.convs.d1.hasMore, false);
  s = reduce(s, { type: "history", conv: "d1", messages: [msg(4), msg(5)], hasMore: true });
  assert.equal(
    s.convs.d1.hasMore,
    false,
    "a page that brings nothing older does not reopen paging",
  );
  s = reduce(s, { type: "history", conv: "d1", messages: [msg(6)], hasMore: false });
  assert.equal(s.convs.d1.summary.lastSeq, 6, "a page past lastSeq moves it");
});

Deno.test("gap drops the window, raises lastSeq and asks for a fresh newest page", () => {
  let s = run([welcome(dm({ lastSeq: 2 })), {
    type: "history",
    conv: "d1",
    messages: [msg(1), msg(2)],
    hasMore: false,
  }]);
  s = reduce(s, { type: "gap", conv: "d1", after: 2, lastSeq: 500 });
  const c = s.convs.d1;
  assert.deepEqual([c.messages, c.loaded, c.hasMore, c.summary.lastSeq], [[], false, true, 500]);
  assert.equal(unreadCount(c), 500);
});

Deno.test("read frames move my readSeq, the DM peer's peerReadSeq and the receipts map, never backwards", () => {
  let s = run([welcome(dm({ lastSeq: 5 }), group({ lastSeq: 5 }))]);
  s = run([{ type: "read", conv: "d1", user: "me", seq: 3 }, {
    type: "read",
    conv: "d1",
    user: "me",
    seq: 2,
  }], s);
  assert.equal(s.convs.d1.summary.readSeq, 3);
  assert.equal(unreadCount(s.convs.d1), 2);
  s = run([{ type: "read", conv: "d1", user: "bob", seq: 4 }, {
    type: "read",
    conv: "d1",
    user: "bob",
    seq: 1,
  }], s);
  assert.equal(s.convs.d1.summary.peerReadSeq, 4);
  assert.equal(s.convs.d1.reads.bob, 4);
  s = reduce(s, { type: "local_read", conv: "d1", seq: 5 });
  assert.equal(unreadCount(s.convs.d1), 0);
  s = reduce(s, { type: "local_read", conv: "d1", seq: 1 });
  assert.equal(s.convs.d1.summary.readSeq, 5);
  s = run([{ type: "receipts", conv: "g1", reads: { me: 5, ann: 3, cat: 5 } }, {
    type: "read",
    conv: "g1",
    user: "ann",
    seq: 4,
  }], s);
  assert.equal(s.convs.g1.summary.peerReadSeq, undefined, "groups have no single peer");
  assert.equal(readCount(s.convs.g1, 4, "me"), 2, "ann and cat, not the sender");
  assert.equal(readCount(s.convs.g1, 5, "me"), 1);
  assert.equal(readCount(s.convs.g1, 3, "ann"), 2);
});

Deno.test("unreadCount() is lastSeq minus readSeq and never negative", () => {
  const s = run([welcome(dm({ lastSeq: 7, readSeq: 3 }), group({ lastSeq: 1, readSeq: 4 }))]);
  assert.equal(unreadCount(s.convs.d1), 4);
  assert.equal(unreadCount(s.convs.g1), 0);
});

Deno.test("typing shows for a while, ends on the typer's message, expires; presence and conv frames apply", () => {
  let s = run([welcome(dm(), group())]);
  s = reduce(s, { type: "typing", conv: "d1", user: "bob" }, 1000);
  assert.equal(s.convs.d1.typing.bob, 1000 + TYPING_SHOW_MS);
  assert.equal(
    reduce(s, { type: "typing_expire", now: 1000 + TYPING_SHOW_MS - 1 }),
    s,
    "nothing expired: same state",
  );
  assert.deepEqual(
    reduce(s, { type: "typing_expire", now: 1000 + TYPING_SHOW_MS }).convs.d1.typing,
    {},
  );
  assert.deepEqual(reduce(s, { type: "msg", msg: msg(1) }).convs.d1.typing, {});
  s = reduce(s, { type: "presence", user: "bob", online: false, lastSeen: 77 });
  assert.deepEqual(s.presence.bob, { online: false, lastSeen: 77 });
  s = reduce(s, { type: "conv", conv: group({ id: "g2", title: "New", lastAt: 9 }) });
  assert.deepEqual(sortedConvs(s).map((c) => c.summary.id), ["g2", "g1", "d1"]);
  s = reduce(s, { type: "conv_removed", conv: "g1" });
  assert.deepEqual(Object.keys(s.convs).sort(), ["d1", "g2"]);
  assert.equal(
    reduce(s, { type: "msg", msg: msg(1, "x", "nope") }),
    s,
    "frames for unknown conversations are ignored",
  );
});

Deno.test("reduce() never mutates its input", () => {
  const s = run([welcome(dm({ lastSeq: 2 })), {
    type: "history",
    conv: "d1",
    messages: [msg(1), msg(2)],
    hasMore: false,
  }]);
  const before = structuredClone(s);
  for (
    const a of [{ type: "msg", msg: msg(3) }, { type: "read", conv: "d1", user: "bob", seq: 2 }, {
      type: "gap",
      conv: "d1",
      after: 0,
      lastSeq: 9,
    }, { type: "typing", conv: "d1", user: "bob" }] as Action[]
  ) reduce(s, a);
  assert.deepEqual(s, before);
});

Deno.test("a first page that does not meet earlier live messages keeps only the part reaching the present", () => {
  let s = run([welcome(dm({ lastSeq: 1 }))]);
  s = run([{ type: "msg", msg: msg(2) }, { type: "msg", msg: msg(3) }], s);
  // Many messages were committed before the page was read: the page starts past 3.
  s = reduce(s, { type: "history", conv: "d1", messages: [msg(9), msg(10)], hasMore: true });
  assert.deepEqual(seqs(s), [9, 10]);
  assert.equal(s.convs.d1.hasMore, true);
});

Deno.test("a late msg older than the loaded window does not open a hole in it", () => {
  let s = run([welcome(dm({ lastSeq: 0 })), {
    type: "history",
    conv: "d1",
    messages: [msg(4), msg(5)],
    hasMore: true,
  }]);
  s = reduce(s, { type: "msg", msg: msg(1) });
  assert.deepEqual(seqs(s), [4, 5]);
  s = run([{ type: "msg", msg: msg(5) }, { type: "msg", msg: msg(6) }], s);
  assert.deepEqual(seqs(s), [4, 5, 6]);
});

Deno.test("seq holes from messages this user may not see (a blocked sender's) do not stall the window", () => {
  let s = run([welcome(dm({ lastSeq: 3 }))]); // 3 is hidden from me
  s = reduce(s, { type: "msg", msg: msg(5, "me") }); // so is 4
  s = reduce(s, { type: "history", conv: "d1", messages: [msg(1), msg(2)], hasMore: false });
  s = run([{ type: "msg", msg: msg(7, "me") }, { type: "msg", msg: msg(8) }], s);
  assert.deepEqual(seqs(s), [1, 2, 5, 7, 8]);
});

Deno.test("an empty older page ends paging even if the previous page said there was more", () => {
  let s = run([welcome(dm({ lastSeq: 3 })), {
    type: "history",
    conv: "d1",
    messages: [msg(2), msg(3)],
    hasMore: true,
  }]);
  s = reduce(s, { type: "history", conv: "d1", messages: [], hasMore: false });
  assert.equal(s.convs.d1.hasMore, false);
  assert.deepEqual(seqs(s), [2, 3]);
});
