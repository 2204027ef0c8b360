import assert from "node:assert/strict";
import {
  dayLabel,
  listTime,
  needsSep,
  preview,
  RUN_MS,
  sameRun,
  sepLabel,
  timeOf,
} from "./format.ts";
import type { ConvSummary, Message } from "../../lib/wire/protocol.ts";
import { emptyState } from "../../lib/client/state.ts";
import { convState } from "../../lib/client/messages.ts";

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

Deno.test("time separators: the time today, yesterday, a weekday this week, else the date (with another year's year)", () => {
  // Thursday 14 May 2026, local time: these pass in any time zone.
  const now = new Date(2026, 4, 14, 18, 0);
  const at = (y: number, mo: number, d: number, h: number, mi: number) =>
    new Date(y, mo - 1, d, h, mi).getTime();
  const both = (t: number) => [sepLabel(t, "zh-CN", now), sepLabel(t, "en", now)];
  assert.deepEqual(both(at(2026, 5, 14, 14, 5)), ["14:05", "2:05 PM"]);
  assert.deepEqual(both(at(2026, 5, 14, 0, 0)), ["00:00", "12:00 AM"], "today's first minute");
  assert.deepEqual(both(at(2026, 5, 13, 23, 59)), ["昨天 23:59", "Yesterday 11:59 PM"]);
  assert.deepEqual(both(at(2026, 5, 13, 0, 1)), ["昨天 00:01", "Yesterday 12:01 AM"]);
  assert.deepEqual(both(at(2026, 5, 12, 9, 30)), ["星期二 09:30", "Tue 9:30 AM"]);
  assert.deepEqual(both(at(2026, 5, 8, 14, 5)), ["星期五 14:05", "Fri 2:05 PM"], "six days back");
  // Seven days back is today's weekday again: the date says which.
  assert.deepEqual(both(at(2026, 5, 7, 14, 5)), ["5月7日 14:05", "May 7, 2:05 PM"]);
  assert.deepEqual(both(at(2026, 1, 2, 8, 0)), ["1月2日 08:00", "Jan 2, 8:00 AM"]);
  assert.deepEqual(both(at(2025, 11, 3, 14, 5)), ["2025年11月3日 14:05", "Nov 3, 2025, 2:05 PM"]);
  // Last year's 31 December is yesterday on New Year's Day, not a date.
  assert.equal(
    sepLabel(at(2025, 12, 31, 22, 0), "en", new Date(2026, 0, 1, 9, 0)),
    "Yesterday 10:00 PM",
  );
});

Deno.test("time separators: above the first message, on a new day, and after a pause of RUN_MS or more", () => {
  const msg = (seq: number, at: number, extra: Partial<Message> = {}): Message => ({
    conv: "c",
    seq,
    id: `m${seq}`,
    from: "a",
    kind: "text",
    text: `t${seq}`,
    at,
    ...extra,
  });
  const ten = new Date(2026, 4, 14, 10, 0).getTime();
  assert.equal(needsSep(undefined, msg(1, ten)), true, "the first message shown");
  assert.equal(needsSep(msg(1, ten), msg(2, ten + 60_000)), false, "a minute later");
  assert.equal(needsSep(msg(1, ten), msg(2, ten + RUN_MS - 1)), false, "just under RUN_MS");
  assert.equal(needsSep(msg(1, ten), msg(2, ten + RUN_MS)), true, "RUN_MS later");
  assert.equal(needsSep(msg(1, ten), msg(2, ten + 10 * 60_000)), true, "ten minutes later");
  // Another sender or a system line does not matter, only the time does.
  assert.equal(needsSep(msg(1, ten), msg(2, ten + 60_000, { from: "b" })), false);
  assert.equal(needsSep(msg(1, ten, { kind: "system" }), msg(2, ten + 60_000)), false);
  // Across local midnight: a new day, however close.
  const late = new Date(2026, 4, 14, 23, 59).getTime();
  const early = new Date(2026, 4, 15, 0, 0).getTime();
  assert.equal(needsSep(msg(1, late), msg(2, early)), true, "a minute apart, across midnight");
});

Deno.test("a new friend's empty chat says to say hi; an empty group says nothing", () => {
  const summary = (kind: "dm" | "group"): ConvSummary => ({
    id: "c",
    kind,
    title: kind === "group" ? "G" : "",
    lastSeq: 0,
    lastAt: 0,
    last: null,
    readSeq: 0,
  });
  const s = emptyState();
  const dm = convState(summary("dm"));
  assert.equal(preview(s, dm, "zh-CN"), "你们已经是好友了，打个招呼吧");
  assert.equal(preview(s, dm, "en"), "You are friends now. Say hi!");
  assert.equal(preview(s, convState(summary("group")), "en"), "");
});
