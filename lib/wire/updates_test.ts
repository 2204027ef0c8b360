import assert from "node:assert/strict";
import { applyReaction, applyUpdate } from "./updates.ts";
import { isEmoji, MAX_REACTIONS, type Message, parseClientFrame } from "./protocol.ts";
import { mergeMessages } from "../client/messages.ts";

const base: Message = {
  conv: "c",
  seq: 1,
  id: "i1",
  from: "a",
  kind: "text",
  text: "hello",
  at: 1,
  cid: "x",
  reply: { seq: 0, from: "b" },
};
const update = (seq: number, meta: Message["meta"], from = "b"): Message => ({
  conv: "c",
  seq,
  id: `u${seq}`,
  from,
  kind: "update",
  text: "",
  at: seq,
  meta,
});

Deno.test("applyUpdate: reactions toggle per user, a recall takes the text, the reply and the reactions", () => {
  const liked = applyUpdate(base, update(2, { event: "react", target: 1, emoji: "👍", on: true }));
  assert.deepEqual(liked.reactions, { "👍": ["b"] });
  assert.equal(liked.upd, 2);
  const twice = applyUpdate(liked, update(2, { event: "react", target: 1, emoji: "👍", on: true }));
  assert.equal(twice, liked, "an update it already has changes nothing");
  const older = applyUpdate(
    liked,
    update(1, { event: "react", target: 1, emoji: "👍", on: false }),
  );
  assert.equal(older, liked, "an older update than its last one changes nothing");
  const other = applyUpdate(
    liked,
    update(3, { event: "react", target: 9, emoji: "👍", on: false }),
  );
  assert.equal(other, liked, "an update of another message changes nothing");
  const unliked = applyUpdate(
    liked,
    update(3, { event: "react", target: 1, emoji: "👍", on: false }),
  );
  assert.equal(unliked.reactions, undefined);
  const gone = applyUpdate(liked, update(4, { event: "recall", target: 1 }, "a"));
  assert.equal(gone.text, "");
  assert.equal(gone.reply, undefined);
  assert.equal(gone.reactions, undefined);
  assert.deepEqual(gone.recalled, { by: "a", at: 4 });
  const late = applyUpdate(gone, update(5, { event: "react", target: 1, emoji: "👍", on: true }));
  assert.equal(late, gone, "no reaction on a recalled message");
});

Deno.test("applyReaction: at most MAX_REACTIONS distinct emoji; more users on one is fine", () => {
  let r: Record<string, string[]> | null = {};
  for (let i = 0; i < MAX_REACTIONS; i++) {
    r = applyReaction(r!, "a", String.fromCodePoint(0x1f600 + i), true);
  }
  assert.equal(applyReaction(r!, "a", "🚀", true), null);
  assert.deepEqual(applyReaction(r!, "b", "😀", true)!["😀"], ["a", "b"]);
});

Deno.test("a client merging a page read before an update ends as the log has it", () => {
  const recall = update(3, { event: "recall", target: 1 }, "a");
  const live = mergeMessages([], [recall]);
  // The page with the target was read before the recall committed: it still has the text.
  const merged = mergeMessages(live, [base, { ...base, seq: 2, id: "i2", text: "next" }]);
  assert.equal(merged[0].text, "");
  assert.ok(merged[0].recalled);
  assert.equal(merged[1].text, "next");
});

Deno.test("recall and react frames are validated; emoji are single pictographs", () => {
  assert.deepEqual(parseClientFrame('{"type":"recall","conv":"c1","seq":3}'), {
    type: "recall",
    rid: undefined,
    conv: "c1",
    seq: 3,
  });
  for (const bad of ['{"type":"recall","conv":"c1","seq":0}', '{"type":"recall","conv":"c1"}']) {
    assert.equal((parseClientFrame(bad) as { code: string }).code, "bad_frame", bad);
  }
  const react = (emoji: unknown, on: unknown = true) =>
    parseClientFrame(JSON.stringify({ type: "react", conv: "c1", cid: "k", seq: 1, emoji, on }));
  assert.equal((react("👍🏽") as { emoji: string }).emoji, "👍🏽");
  for (const e of ["a", "👍👍", "<b>", "", 5, "😀x"]) {
    assert.equal((react(e) as { code: string }).code, "bad_frame", String(e));
  }
  assert.equal((react("👍", "yes") as { code: string }).code, "bad_frame");
  assert.ok(isEmoji("🇨🇳") && isEmoji("👨‍👩‍👧‍👦") && isEmoji("1️⃣"));
});
