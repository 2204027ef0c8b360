/**
 * A new user asks the built-in bot a sum, a unit conversion and a reminder, in Chinese on a phone
 * and in English on a desktop, and the reminders arrive.
 */
import assert from "node:assert/strict";
import { signUp } from "./helpers.ts";
import { DESKTOP, hydrated, loggedIn, PHONE, watchConsole, withBrowser } from "./browser.ts";

Deno.test("the built-in bot calculates, converts and reminds, in Chinese and in English", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    for (
      const [size, locale, questions, reminder] of [
        [PHONE, "zh-CN", [["3加5乘2等于多少", "3加5乘2 = 13"], [
          "5斤等于多少公斤",
          "5 斤 = 2.5 公斤",
        ]], [
          "2秒后提醒我喝水",
          "⏰ 提醒你：喝水",
        ]],
        [DESKTOP, "en-US", [["12*(3+4)", "12*(3+4) = 84"], [
          "10 km in miles",
          "10 km = 6.21371 mi",
        ]], [
          "remind me in 2 seconds to stretch",
          "⏰ Reminder: stretch",
        ]],
      ] as const
    ) {
      const who = await signUp(server);
      const page = await (await loggedIn(browser, server, who, size, locale)).newPage();
      problems.push(watchConsole(page));
      await page.goto(server.url("/"));
      await hydrated(page);
      await page.waitForSelector('[data-connection="online"]');
      await page.click('[data-kind="bot"]');
      const ask = async (q: string, answer: string) => {
        await page.fill('[data-testid="composer"]', q);
        await page.click('[data-testid="send"]');
        await page.waitForSelector(`[data-testid="msg"] .text:text-is("${answer}")`);
      };
      for (const [q, answer] of questions) await ask(q, answer);
      await page.fill('[data-testid="composer"]', reminder[0]);
      await page.click('[data-testid="send"]');
      // The confirmation first, then the reminder itself when its time comes.
      await page.waitForSelector(`[data-testid="msg"] .text:text-is("${reminder[1]}")`, {
        timeout: 8000,
      });
      const texts = await page.$$eval(".text", (els) => els.map((e) => e.textContent));
      assert.ok(
        texts.some((t) => /提醒你：喝水$|remind you at .*: stretch$/.test(t ?? "")),
        "confirmed",
      );
    }
  });
});
