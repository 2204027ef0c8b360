import assert from "node:assert/strict";
import { msgFrame, RecentMessages } from "./recent.ts";
import { keys } from "../kv/keys.ts";
import type { Message } from "../wire/protocol.ts";

function msg(conv: string, seq: number): Message {
  return {
    conv,
    seq,
    id: `id${seq}`,
    from: "u1",
    kind: "text",
    text: `m${seq}`,
    at: seq,
    cid: `c${seq}`,
  };
}

async function withLog(conv: string, n: number, fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    for (let s = 1; s <= n; s++) await kv.set(keys.msg(conv, s), msg(conv, s));
    await fn(kv);
  } finally {
    kv.close();
  }
}

Deno.test("RecentMessages.range() reads the log once, then answers from memory with the same frames", () =>
  withLog("c1", 10, async (kv) => {
    const recent = new RecentMessages();
    const first = await recent.range(kv, "c1", 3, 8);
    assert.deepEqual(first.map((r) => r.msg.seq), [4, 5, 6, 7, 8]);
    assert.equal(first[0].json, msgFrame(msg("c1", 4)));
    await kv.delete(keys.msg("c1", 5));
    const again = await recent.range(kv, "c1", 4, 6);
    assert.deepEqual(
      again.map((r) => r.msg.seq),
      [5, 6],
      "served from memory: the deleted key is not read",
    );
  }));

Deno.test("RecentMessages keeps only contiguous runs: a message after a hole restarts the run", () =>
  withLog("c1", 12, async (kv) => {
    const recent = new RecentMessages();
    await recent.range(kv, "c1", 0, 5);
    recent.add(msg("c1", 6), msgFrame(msg("c1", 6)));
    assert.deepEqual((await recent.range(kv, "c1", 4, 6)).map((r) => r.msg.seq), [5, 6]);
    recent.add(msg("c1", 9), msgFrame(msg("c1", 9)));
    recent.add(msg("c1", 8), msgFrame(msg("c1", 8)));
    await kv.delete(keys.msg("c1", 7));
    const r = await recent.range(kv, "c1", 5, 9);
    assert.deepEqual(
      r.map((x) => x.msg.seq),
      [6, 8, 9],
      "not in memory as a whole, so read from the log",
    );
  }));

Deno.test("RecentMessages bounds each run and the total, dropping the least recently used", () =>
  withLog("c1", 0, async (kv) => {
    const recent = new RecentMessages(3, 6);
    for (let s = 1; s <= 5; s++) recent.add(msg("a", s), msgFrame(msg("a", s)));
    for (let s = 1; s <= 3; s++) recent.add(msg("b", s), msgFrame(msg("b", s)));
    assert.deepEqual(
      (await recent.range(kv, "a", 2, 5)).map((x) => x.msg.seq),
      [3, 4, 5],
      "a run keeps its newest 3",
    );
    assert.deepEqual(
      await recent.range(kv, "a", 1, 2),
      [],
      "older than the run: read from the (empty) log",
    );
    recent.add(msg("c", 1), msgFrame(msg("c", 1)));
    assert.deepEqual(
      await recent.range(kv, "b", 0, 3),
      [],
      "b, the least recently used, was dropped",
    );
    assert.deepEqual((await recent.range(kv, "a", 4, 5)).map((x) => x.msg.seq), [5]);
  }));

Deno.test("RecentMessages: an update entry changes the kept copy of its target (a recall leaves no text behind)", () =>
  withLog("c3", 0, async (kv) => {
    const recent = new RecentMessages();
    for (let s = 1; s <= 3; s++) recent.add(msg("c3", s), msgFrame(msg("c3", s)));
    const recall: Message = {
      ...msg("c3", 4),
      kind: "update",
      text: "[recalled a message]",
      meta: { event: "recall", target: 2 },
    };
    recent.add(recall, msgFrame(recall));
    const got = await recent.range(kv, "c3", 0, 4);
    assert.deepEqual(got.map((r) => r.msg.seq), [1, 2, 3, 4], "from memory (the log is empty)");
    assert.equal(got[1].msg.text, "");
    assert.deepEqual(got[1].msg.recalled, { by: "u1", at: 4 });
    assert.ok(!got[1].json.includes("m2"), "the frame is made again without the text");
    assert.equal(got[0].json, msgFrame(msg("c3", 1)), "the others are untouched");
  }));
