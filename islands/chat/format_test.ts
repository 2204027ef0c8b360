import assert from "node:assert/strict";
import { dayLabel, listTime, timeOf } from "./format.ts";

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
