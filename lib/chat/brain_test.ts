import assert from "node:assert/strict";
import { calculate, convertUnits, parseReminder, think } from "./brain.ts";

const now = Date.UTC(2026, 11, 2, 14, 0);
const en = { locale: "en" as const, name: "Ann", now, tz: "Asia/Shanghai", random: () => 0.99 };
const zh = { ...en, locale: "zh-CN" as const };

Deno.test("the brain calculates, in words too, and never evaluates code", () => {
  assert.equal(think("3 * (4 + 5)", en).text, "3 * (4 + 5) = 27");
  assert.equal(think("what is 2^10?", en).text, "what is 2^10 = 1024");
  assert.equal(think("1/3", en).text, "1/3 = 0.333333333333");
  assert.equal(think("3加5乘2等于多少", zh).text, "3加5乘2 = 13");
  assert.equal(think("2的10次方", zh).text, "2的10次方 = 1024");
  assert.equal(calculate("alert(1)"), null);
  assert.equal(calculate("1+"), null);
  assert.equal(calculate("1/0"), null, "no Infinity");
  assert.equal(
    calculate(
      "((((((((((((((((((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))))))))))))))))+1",
    ),
    null,
  );
  assert.equal(calculate("42"), null, "a number alone is no question");
});

Deno.test("the brain converts units in both languages", () => {
  assert.equal(convertUnits("10 km in miles"), "10 km = 6.21371 mi");
  assert.equal(convertUnits("100 f to c"), "100 °F = 37.7778 °C");
  assert.equal(convertUnits("5斤等于多少公斤"), "5 斤 = 2.5 公斤");
  assert.equal(convertUnits("3英尺是多少厘米"), "3 英尺 = 91.44 厘米");
  assert.equal(convertUnits("100华氏度转摄氏度"), "100 华氏度 = 37.7778 摄氏度");
  assert.equal(convertUnits("10 km in kg"), null, "no length in kilograms");
  assert.equal(think("10 km in miles", en).text, "10 km = 6.21371 mi");
});

Deno.test("reminders in English and Chinese, in the user's time zone, within 30 days", () => {
  assert.deepEqual(parseReminder("remind me in 10 minutes to call mom", now), {
    at: now + 600_000,
    what: "call mom",
  });
  assert.deepEqual(parseReminder("in 2 hours remind me to stretch", now), {
    at: now + 7_200_000,
    what: "stretch",
  });
  assert.deepEqual(parseReminder("10分钟后提醒我开会", now), { at: now + 600_000, what: "开会" });
  assert.deepEqual(parseReminder("提醒我半小时后喝水", now), { at: now + 1_800_000, what: "喝水" });
  assert.deepEqual(parseReminder("两个小时后提醒我吃药", now), {
    at: now + 7_200_000,
    what: "吃药",
  });
  const t = think("10分钟后提醒我开会", zh);
  assert.equal(t.text, "好的，我会在 22:10 提醒你：开会", "Shanghai is UTC+8");
  assert.deepEqual(t.remind, { at: now + 600_000, what: "开会" });
  assert.equal(think("remind me in 40 days to renew", en).remind, undefined);
});

Deno.test("time, date, dice, coins, picks, small talk, and an honest answer instead of an echo", () => {
  assert.equal(think("几点了", zh).text, "现在是 22:00。");
  assert.match(think("what time is it?", en).text, /^It is 22:00\.$/);
  assert.match(think("今天几号", zh).text, /2026年12月2日/);
  assert.equal(think("roll a die", en).text, "🎲 6");
  assert.equal(think("抛硬币", zh).text, "🪙 反面");
  assert.equal(think("pick pizza, sushi or tacos", en).text, "I pick: tacos");
  assert.equal(think("火锅还是烧烤", zh).text, "我选：烧烤");
  assert.equal(think("谢谢", zh).text, "不客气！");
  assert.match(think("hello", en).text, /^Hello, Ann!/);
  const lost = think("the quick brown fox", en).text;
  assert.match(lost, /didn't understand/);
  assert.ok(!lost.includes("quick brown fox"), "no echo");
  assert.match(think("随便说点什么", zh).text, /没听懂/);
});
