/**
 * The service worker's side of Web Push, in Chromium: a push message (delivered through the
 * DevTools protocol, as a push service would) becomes a notification titled and tagged for its
 * conversation. No real push service is reachable here, so the subscription itself is not made;
 * tests/push_test.ts covers the server's side against a push service on loopback.
 */
import assert from "node:assert/strict";
import { signUp } from "./helpers.ts";
import { DESKTOP, hydrated, loggedIn, watchConsole, withBrowser } from "./browser.ts";

Deno.test("a push message becomes a notification for its conversation", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const me = await signUp(server);
    const ctx = await loggedIn(browser, server, me, DESKTOP);
    const origin = server.url("").replace(/\/$/, "");
    await ctx.grantPermissions(["notifications"], { origin });
    const page = await ctx.newPage();
    problems.push(watchConsole(page));
    await page.goto(server.url("/"));
    await hydrated(page);
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));

    const cdp = await ctx.newCDPSession(page);
    const registration = new Promise<string>((resolve) => {
      cdp.on("ServiceWorker.workerRegistrationUpdated", (e) => {
        const r = e.registrations.find((x) => x.scopeURL === `${origin}/` && !x.isDeleted);
        if (r) resolve(r.registrationId);
      });
    });
    await cdp.send("ServiceWorker.enable");
    const registrationId = await registration;
    await cdp.send("ServiceWorker.deliverPushMessage", {
      origin,
      registrationId,
      data: JSON.stringify({ conv: "c1", title: "Alice", body: "[2] Dinner at 7?", url: "/?c=c1" }),
    });
    const shown = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      for (let i = 0; i < 50; i++) {
        const list = await reg.getNotifications();
        if (list.length) {
          return list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return [];
    });
    assert.deepEqual(shown, [{
      title: "Alice",
      body: "[2] Dinner at 7?",
      tag: "c1",
      data: { url: "/?c=c1" },
    }]);
    await cdp.detach();
  });
});
