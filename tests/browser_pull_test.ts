/**
 * Pull-down on a phone: a finger dragging the conversation down at its top loads the older page,
 * and the message the reader was looking at stays where it was. Chromium at 375 × 812 with touch,
 * the drag made of real touch events (DevTools' synthesized scroll gesture, a touch source).
 */
import assert from "node:assert/strict";
import { friendsDm, signUp, storeTexts } from "./helpers.ts";
import { hydrated, watchConsole, withBrowser } from "./browser.ts";

const MSG = '.conv-view [data-testid="msg"]';

Deno.test("pull-down at the top of a conversation loads older messages and keeps the reader's place", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const dm = await friendsDm(server, alice.userId, bob.userId);
    const N = 45;
    await storeTexts(
      server,
      dm.id,
      "seed",
      Array.from({ length: N }, (_, i) => ({
        from: i % 2 ? alice.userId : bob.userId,
        text: `line ${i + 1}`,
      })),
    );
    const ctx = await browser.newContext({
      viewport: { width: 375, height: 812 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 1,
      locale: "zh-CN",
    });
    await ctx.addCookies(
      [...alice.client.cookies].map(([name, value]) => ({ name, value, url: server.url("/") })),
    );
    const page = await ctx.newPage();
    problems.push(watchConsole(page));
    await page.goto(server.url(`/?c=${dm.id}`));
    await hydrated(page);
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 30, MSG);
    const cdp = await ctx.newCDPSession(page);

    /** One finger drag down the message list by `dy` pixels, in steps. */
    const pull = async (dy: number) => {
      const x = 187, y0 = 200, steps = 10;
      const touch = (type: "touchStart" | "touchMove" | "touchEnd", y: number) =>
        cdp.send("Input.dispatchTouchEvent", {
          type,
          touchPoints: type === "touchEnd" ? [] : [{ x, y }],
        });
      await touch("touchStart", y0);
      for (let k = 1; k <= steps; k++) {
        await touch("touchMove", y0 + (dy * k) / steps);
        await page.waitForTimeout(16);
      }
      // The finger rests before it lifts: no fling carries the list on after the drag.
      await page.waitForTimeout(150);
      await touch("touchMove", y0 + dy);
      await touch("touchEnd", y0 + dy);
      // Until the list stands still.
      let last = -1;
      for (;;) {
        const now = await page.evaluate(() =>
          document.querySelector('[data-testid="messages"]')!.scrollTop
        );
        if (now === last) break;
        last = now;
        await page.waitForTimeout(80);
      }
    };

    // The oldest message shown so far; drags pull the list down until the older page comes in.
    const top = "line 16";
    for (let i = 0; (await page.locator(MSG).count()) === 30; i++) {
      assert.ok(i < 40, "pulling down at the top never loaded the older messages");
      await pull(300);
    }
    await page.waitForFunction(
      ([sel, n]) => document.querySelectorAll(sel as string).length === n,
      [MSG, N] as const,
    );
    await page.waitForTimeout(200);
    // "line 16" was at the top of the list before the older page came; it is still in view.
    const place = await page.evaluate((text) => {
      const box = document.querySelector('[data-testid="messages"]')!;
      const li = [...document.querySelectorAll('.conv-view [data-testid="msg"]')]
        .find((e) => e.querySelector(".text")?.textContent === text)!;
      return {
        top: li.getBoundingClientRect().top - box.getBoundingClientRect().top,
        height: box.clientHeight,
        scrollTop: box.scrollTop,
      };
    }, top);
    assert.ok(
      place.top > -60 && place.top < place.height - 20,
      `"${top}" stays in view after the older page came: ${JSON.stringify(place)}`,
    );
    assert.ok(place.scrollTop > 0, "the list did not jump to the oldest message");
    const texts = await page.locator(`${MSG} .text`).allTextContents();
    assert.deepEqual(texts, Array.from({ length: N }, (_, i) => `line ${i + 1}`), "all, once");
    await cdp.detach();
    await ctx.close();
  });
});
