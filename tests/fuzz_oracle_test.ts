/**
 * The fuzzer's oracle for errors without rid or cid (tests/fuzz/anon.ts) and its model of the
 * command queue (tests/fuzz/queue_model.ts), on hand-made answers: each error goes to the one
 * frame it can belong to, whatever order answers come in, and every wrong answer is caught.
 */
import assert from "node:assert/strict";
import { AnonErrors } from "./fuzz/anon.ts";
import type { Expect } from "./fuzz/oracle.ts";
import { QueueModel } from "./fuzz/queue_model.ts";
import { LIMITS_WS } from "../lib/realtime/limits.ts";

type Err = { type: "error"; code: string; message: string };
const rateLimited: Err = { type: "error", code: "rate_limited", message: "Too many requests" };
const busy: Err = { type: "error", code: "busy", message: "Too many requests waiting" };
const notMember = (conv: string): Err => ({
  type: "error",
  code: "not_member",
  message: `Not a member of conversation "${conv}"`,
});

function frame(k: "history" | "receipts" | "quiet", conv: string, n: number, more = {}): Expect {
  const base = { wire: `${k} ${conv} #${n}`, conv, member: !conv.startsWith("ghost"), n, q: n };
  return k === "history"
    ? { k, ...base, limit: 30, floor: 0, seen: 0, mayBusy: false, ...more }
    : { k, ...base, mayBusy: false, ...more };
}

/** A socket's open frames, recording how each was answered. */
function socket(...open: Expect[]) {
  const how = new Map<string, string>();
  const s = {
    open,
    done(e: Expect, h: string) {
      open.splice(open.indexOf(e), 1);
      how.set(e.wire, h);
    },
  };
  return { s, how, anon: new AnonErrors(s) };
}

Deno.test("a refusal without rid waits until the frames' other answers show which one it was", () => {
  const h = frame("history", "a", 2);
  const r = frame("receipts", "b", 3);
  const { s, how, anon } = socket(h, r);
  assert.equal(anon.add(rateLimited), null);
  assert.equal(anon.pending.length, 1, "two frames could have been refused");
  // The receipts answer came: the refusal was the history's.
  s.done(r, "ran");
  assert.equal(anon.resolve(), null);
  assert.equal(anon.pending.length, 0);
  assert.equal(how.get(h.wire), "refused");
});

Deno.test("a not_member goes to a frame on the conversation it names, and only there", () => {
  const own = frame("history", "a", 2);
  const ghost = frame("quiet", "ghost1", 3);
  const { how, anon } = socket(own, ghost);
  assert.equal(anon.add(notMember("ghost1")), null);
  assert.equal(how.get(ghost.wire), "ran");
  assert.match(anon.add(notMember("ghost2")) ?? "", /no open request/);
  assert.match(socket(own).anon.add(notMember("a")) ?? "", /no open request/);
});

Deno.test("an error and an answer for the same frame are caught", () => {
  const h = frame("history", "a", 2);
  const r = frame("receipts", "b", 3);
  const { s, anon } = socket(h, r);
  assert.equal(anon.add(rateLimited), null);
  s.done(h, "ran");
  s.done(r, "ran");
  assert.match(anon.resolve() ?? "", /no open request/);
});

Deno.test("a refusal on arrival comes between the answers on arrival of the frames around it", () => {
  const early = frame("history", "a", 2);
  const late = frame("history", "b", 5);
  const { how, anon } = socket(early, late);
  // The pong of frame 3 came first: the refusal is about a frame after it.
  assert.equal(anon.arrived(3), null);
  assert.equal(anon.add(rateLimited), null);
  assert.equal(how.get(late.wire), "refused");
  assert.match(anon.arrived(1) ?? "", /answered on arrival after frame 3/);
});

Deno.test("busy for a read or typing only when the socket's queue may have been full", () => {
  assert.match(socket(frame("quiet", "ghost1", 2)).anon.add(busy) ?? "", /no open request/);
  const { how, anon } = socket(frame("quiet", "ghost1", 2, { mayBusy: true }));
  assert.equal(anon.add(busy), null);
  assert.equal(how.get("quiet ghost1 #2"), "either");
});

Deno.test("the queue model: what may still wait, after commands that ran or were refused", () => {
  const q = new QueueModel();
  for (let i = 0; i < LIMITS_WS.queuePerSocket; i++) q.nextCommand();
  assert.equal(q.mayBeFull(), true);
  q.refused(LIMITS_WS.queuePerSocket);
  assert.equal(q.waiting(), LIMITS_WS.queuePerSocket - 1);
  // Commands start in arrival order: an answer of command 10 means 1 to 10 left the queue.
  q.ran(10);
  assert.equal(q.waiting(), LIMITS_WS.queuePerSocket - 11);
  q.ran(5);
  assert.equal(q.waiting(), LIMITS_WS.queuePerSocket - 11);
  assert.equal(q.mayBeFull(), false);
});
