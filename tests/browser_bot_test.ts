/**
 * A new user asks the built-in bot a sum, a unit conversion and a reminder, in Chinese on a phone
 * and in English on a desktop. The reminders arrive: the Chinese one while the page stays open,
 * the English one after the server was restarted in between (the page reconnects by itself).
 */
import assert from "node:assert/strict";
import { signUp, startTestServer, type TestServer } from "./helpers.ts";
import { DESKTOP, hydrated, launchBrowser, loggedIn, PHONE, watchConsole } from "./browser.ts";

Deno.test("the built-in bot calculates, converts and reminds, in Chinese and in English, across a restart", async () => {
  const dir = await Deno.makeTempDir();
  const env: Record<string, string> = { DENO_KV_PATH: `${dir}/kv.sqlite3` };
  let server: TestServer = await startTestServer({ env });
  // The restarted server listens where the first one did: the page reconnects to the same address.
  env.PORT = String(server.port);
  const browser = await launchBrowser();
  const problems: string[][] = [];
  try {
    for (
      const [size, locale, questions, reminder, restart] of [
        [
          PHONE,
          "zh-CN",
          [["3加5乘2等于多少", "3加5乘2 = 13"], [
            "5斤等于多少公斤",
            "5 斤 = 2.5 公斤",
          ]],
          ["2秒后提醒我喝水", "⏰ 提醒你：喝水"],
          false,
        ],
        [
          DESKTOP,
          "en-US",
          [["12*(3+4)", "12*(3+4) = 84"], [
            "10 km in miles",
            "10 km = 6.21371 mi",
          ]],
          ["remind me in 3 seconds to stretch", "⏰ Reminder: stretch"],
          true,
        ],
      ] as const
    ) {
      const who = await signUp(server);
      const ctx = await loggedIn(browser, server, who, size, locale);
      const page = await ctx.newPage();
      // A restart drops the socket: the console may say so; nothing else may be logged as an error.
      problems.push(watchConsole(page, restart ? [/WebSocket/] : []));
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
      await page.waitForSelector(
        '[data-testid="msg"] .text:text-matches("提醒你：喝水$|: stretch$")',
      );
      if (restart) {
        // Down while the reminder comes due; it is delivered once the server is back.
        await server.close();
        await page.waitForSelector('[data-connection="offline"]');
        await new Promise((r) => setTimeout(r, 3500));
        server = await startTestServer({ env });
      }
      await page.waitForSelector(`[data-testid="msg"] .text:text-is("${reminder[1]}")`, {
        timeout: 20_000,
      });
      const texts = await page.$$eval(".text", (els) => els.map((e) => e.textContent));
      assert.equal(texts.filter((t) => t === reminder[1]).length, 1, "the reminder came once");
      await ctx.close();
    }
    assert.deepEqual(problems.flat(), [], "no console errors");
  } finally {
    await browser.close();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
