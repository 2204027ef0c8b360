import assert from "node:assert/strict";
import { dayLabel, listTime, sameRun, timeOf } from "./format.ts";
import type { Message } from "../../lib/wire/protocol.ts";

Deno.test("times: 24-hour in Chinese, 12-hour in English, today / yesterday / a short date in the list", () => {
  const at = (y: number, mo: number, d: number, h: number, mi: number) =>
    new Date(y, mo - 1, d, h, mi).getTime();
  assert.equal(timeOf(at(2026, 5, 14, 14, 5), "zh-CN"), "14:05");
  assert.equal(timeOf(at(2026, 5, 14, 0, 9), "zh-CN"), "00:09");
  assert.equal(timeOf(at(2026, 5, 14, 14, 5), "en"), "2:05 PM");
  assert.equal(timeOf(at(2026, 5, 14, 0, 9), "en"), "12:09 AM");
  assert.equal(timeOf(at(2026, 5, 14, 12, 0), "en"), "12:00 PM");
  const now = new Date(2026, 4, 14, 18, 0);
  assert.equal(listTime(at(2026, 5, 14, 9, 30), "zh-CN", now), "09:30");
  assert.equal(listTime(at(2026, 5, 13, 23, 59), "en", now), "Yesterday");
  assert.equal(listTime(at(2026, 5, 13, 23, 59), "zh-CN", now), "昨天");
  assert.equal(listTime(at(2026, 1, 2, 8, 0), "en", now), "1/2");
  // A long date for a separator: Intl, and the same formatter serves twice.
  const label = dayLabel(at(2026, 1, 2, 8, 0), "en", now);
  assert.match(label, /January/);
  assert.equal(dayLabel(at(2026, 1, 2, 9, 0), "en", now), label);
});

Deno.test("runs: one sender, one day, under five minutes apart; a system line, a recall or another sender breaks one", () => {
  const at = new Date(2026, 4, 14, 10, 0).getTime();
  const msg = (seq: number, from: string, min: number, extra: Partial<Message> = {}): Message => ({
    conv: "c",
    seq,
    id: `m${seq}`,
    from,
    kind: "text",
    text: `t${seq}`,
    at: at + min * 60_000,
    ...extra,
  });
  assert.equal(sameRun(msg(1, "a", 0), msg(2, "a", 4.9)), true);
  assert.equal(sameRun(msg(1, "a", 0), msg(2, "a", 5)), false, "five minutes apart");
  assert.equal(sameRun(msg(1, "a", 0), msg(2, "b", 1)), false, "another sender");
  assert.equal(sameRun(msg(1, "a", 0), msg(2, "a", 1, { kind: "system" })), false);
  assert.equal(sameRun(msg(1, "a", 0, { recalled: { by: "a", at } }), msg(2, "a", 1)), false);
  assert.equal(sameRun(undefined, msg(2, "a", 1)), false);
  assert.equal(sameRun(msg(1, "a", 0), undefined), false);
  // Across midnight: a new day starts a new run (its separator comes between).
  const late = new Date(2026, 4, 14, 23, 58).getTime();
  assert.equal(
    sameRun({ ...msg(1, "a", 0), at: late }, { ...msg(2, "a", 0), at: late + 3 * 60_000 }),
    false,
  );
});
