/**
 * The app as a daily user meets it: the network goes away and comes back (the banner says so at
 * once, a message written meanwhile goes once), a friend's new name shows on an open chat without
 * a reload, and a muted member's composer is off with the reason and the end time.
 */
import assert from "node:assert/strict";
import type { BrowserContext, Page } from "playwright-core";
import { friendsDm, friendsGroup, signUp, storeTexts, type TestServer } from "./helpers.ts";
import { listUserConvs } from "../lib/chat/conversations.ts";
import { summarize } from "../lib/chat/conv_list.ts";
import { DESKTOP, hydrated, loggedIn, PHONE, watchConsole, withBrowser } from "./browser.ts";
import { getUser } from "../lib/accounts/users.ts";
import { mute } from "../lib/groups/moderation.ts";
import { createInvite } from "../lib/groups/invites.ts";
import { WsClient } from "./ws_client.ts";

async function openConv(
  ctx: BrowserContext,
  server: TestServer,
  problems: string[][],
  conv: string,
  allow: RegExp[] = [],
): Promise<Page> {
  const page = await ctx.newPage();
  problems.push(watchConsole(page, allow));
  await page.goto(server.url("/"));
  await hydrated(page);
  await page.waitForSelector('[data-connection="online"]');
  await page.click(`[data-conv="${conv}"]`);
  await page.waitForSelector(".conv-view");
  return page;
}

Deno.test("the network goes away: the banner shows at once, a message written meanwhile goes once when back", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const dm = await friendsDm(server, alice.userId, bob.userId);
    const bCtx = await loggedIn(browser, server, bob, PHONE);
    // Going offline makes the browser log the failed reconnects: expected here.
    const b = await openConv(bCtx, server, problems, dm.id, [
      /WebSocket|ERR_INTERNET_DISCONNECTED/,
    ]);
    const a = await openConv(
      await loggedIn(browser, server, alice, DESKTOP),
      server,
      problems,
      dm.id,
    );

    await bCtx.setOffline(true);
    // Within 2 s, without waiting for the socket to time out.
    await b.waitForSelector('[data-testid="conn-banner"].offline', { timeout: 2000 });
    assert.equal(await b.isDisabled('[data-testid="composer"]'), false, "still usable");
    await b.fill('[data-testid="composer"]', "written on the subway");
    await b.click('[data-testid="send"]');
    await b.waitForSelector('[data-pending="pending"]');
    // Offline for longer than a send's ack timeout: it stays pending, it is not "Not sent".
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await b.$('[data-pending="failed"]'), null);

    await bCtx.setOffline(false);
    await b.waitForSelector('[data-testid="conn-banner"].back-online', { timeout: 5000 });
    await a.waitForSelector(".conv-view >> text=written on the subway");
    await b.waitForFunction(() => !document.querySelector("[data-pending]"));
    // The "back online" note goes away by itself.
    await b.waitForSelector('[data-testid="conn-banner"]', { state: "detached", timeout: 5000 });
    const onA = await a.$$eval(
      '[data-testid="msg"] .text',
      (els) => els.filter((e) => e.textContent === "written on the subway").length,
    );
    assert.equal(onA, 1, "delivered once");
  });
});

Deno.test("a page load shows no 'Connecting…' flash; a connect that hangs says so after a second", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const alice = await signUp(server);
    const ctx = await loggedIn(browser, server, alice, PHONE);
    const fast = await ctx.newPage();
    problems.push(watchConsole(fast));
    // Note every banner that is ever put in the page, from the first byte on.
    await fast.addInitScript(() => {
      const seen: string[] = [];
      (globalThis as unknown as { bannersSeen: string[] }).bannersSeen = seen;
      new MutationObserver(() => {
        const b = document.querySelector('[data-testid="conn-banner"]');
        if (b && !seen.includes(b.className)) seen.push(b.className);
      }).observe(document, { childList: true, subtree: true });
    });
    await fast.goto(server.url("/"));
    await fast.waitForSelector('[data-connection="online"]');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await fast.evaluate("bannersSeen"), [], "no banner on a normal load");

    // A socket that opens and never answers the hello: the page is still connecting.
    const slow = await ctx.newPage();
    problems.push(watchConsole(slow));
    await slow.routeWebSocket(/\/ws$/, () => {});
    await slow.goto(server.url("/"));
    await hydrated(slow);
    const t0 = Date.now();
    await slow.waitForSelector('[data-testid="conn-banner"].connecting', { timeout: 5000 });
    assert.ok(Date.now() - t0 >= 500, "not at once");
    assert.equal(await slow.getAttribute('[data-testid="chat"]', "data-connection"), "connecting");
  });
});

Deno.test("a friend's new nickname shows on an open chat and in the list without a reload", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const dm = await friendsDm(server, alice.userId, bob.userId);
    const b = await openConv(
      await loggedIn(browser, server, bob, PHONE, "zh-CN"),
      server,
      problems,
      dm.id,
    );
    // Alice renames herself on her settings page.
    const a = await (await loggedIn(browser, server, alice, DESKTOP)).newPage();
    problems.push(watchConsole(a));
    await a.goto(server.url("/settings"));
    await hydrated(a);
    await a.fill('input[name="nickname"]', "Alice 爱丽丝");
    await a.click('form:has(input[name="nickname"]) button[type="submit"]');
    await a.waitForSelector('[data-testid="me"] .me-name:text-is("Alice 爱丽丝")');
    // Bob's open chat: the title and the list entry, at once.
    await b.waitForSelector('[data-testid="conv-title"]:text-is("Alice 爱丽丝")');
    // (On a phone the list is behind the open chat: there, not visible.)
    await b.waitForSelector(`a.conv-item[data-conv="${dm.id}"]:has-text("Alice 爱丽丝")`, {
      state: "attached",
    });
  });
});

Deno.test("a muted member's composer is off, saying why and until when; it comes back when lifted", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const owner = await signUp(server);
    const bob = await signUp(server);
    const g = await friendsGroup(server, owner.userId, "Quiet please", [bob.userId]);
    const b = await openConv(await loggedIn(browser, server, bob, DESKTOP), server, problems, g.id);
    assert.equal(await b.isDisabled('[data-testid="composer"]'), false);
    const ownerUser = (await getUser(server.kv, owner.userId))!;
    await mute(server.rt, ownerUser, g.id, bob.userId, 30);
    await b.waitForSelector('[data-testid="composer"]:disabled');
    await b.waitForSelector('[data-testid="muted-note"]');
    const placeholder = await b.getAttribute('[data-testid="composer"]', "placeholder");
    assert.match(placeholder ?? "", /muted in this group until/);
    assert.equal(await b.isDisabled('[data-testid="send"]'), true);
    await mute(server.rt, ownerUser, g.id, bob.userId, 0);
    await b.waitForSelector('[data-testid="composer"]:enabled');
  });
});

Deno.test("unread messages count in the tab's title; a muted chat shows 🔕 and leaves the count", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const dm = await friendsDm(server, alice.userId, bob.userId);
    const b = await (await loggedIn(browser, server, bob, DESKTOP)).newPage();
    problems.push(watchConsole(b));
    await b.goto(server.url("/"));
    await hydrated(b);
    await b.waitForSelector('[data-connection="online"]');
    // The bot's welcome is unread at first: "(1) …".
    const base = (await b.title()).replace(/^\(1\) /, "");
    assert.notEqual(await b.title(), base);
    // Alice writes twice; Bob has no chat open: "(2) …" (his bot's welcome counts too: read it).
    await b.click('[data-kind="bot"]');
    await b.waitForFunction((t) => document.title === t, base);
    const a = await WsClient.connect(server, alice.client);
    for (const cid of ["x1", "x2"]) {
      a.send({ type: "send", conv: dm.id, cid, text: `hello ${cid}` });
      await a.next("ack", (f) => f.cid === cid);
    }
    await b.waitForFunction((t) => document.title === `(2) ${t}`, base);
    // Bob mutes the chat: a bell in the list, and its messages leave the title's count.
    await b.click(`a.conv-item[data-conv="${dm.id}"]`);
    await b.click('[data-testid="mute-toggle"]');
    await b.waitForSelector('[data-testid="mute-toggle"][aria-pressed="true"]');
    await b.waitForSelector(`a.conv-item[data-conv="${dm.id}"] .muted-bell`);
    await b.click('[data-kind="bot"]');
    a.send({ type: "send", conv: dm.id, cid: "x3", text: "one more" });
    await b.waitForSelector(`a.conv-item[data-conv="${dm.id}"] .unread.quiet`);
    assert.equal(await b.title(), base);
    // It stays muted after a reload (kept on the server).
    await b.reload();
    await hydrated(b);
    await b.waitForSelector(`a.conv-item[data-conv="${dm.id}"] .muted-bell`);
    await a.close();
  });
});

Deno.test("an invite link opened logged out: log in, and be back at the invite to join", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const owner = await signUp(server);
    const friend = await signUp(server);
    const guest = await signUp(server);
    const g = await friendsGroup(server, owner.userId, "Book club", [friend.userId]);
    const ownerUser = (await getUser(server.kv, owner.userId))!;
    const { token } = await createInvite(server.rt, ownerUser, g.id, null);
    // The guest's browser has no session: a fresh context.
    const ctx = await browser.newContext({ viewport: PHONE });
    const page = await ctx.newPage();
    problems.push(watchConsole(page));
    await page.goto(server.url(`/join#token=${token}`));
    await hydrated(page);
    await page.click('[data-testid="join-login"]');
    await hydrated(page);
    await page.fill('input[name="login"]', guest.input.username);
    await page.fill('input[name="password"]', guest.input.password);
    await page.click('form[data-form="login"] button[type="submit"]');
    await page.waitForSelector('[data-testid="join-group"]');
    assert.equal(new URL(page.url()).pathname, "/join");
    await page.click('[data-testid="join-group"]');
    await page.waitForURL((u) => u.pathname !== "/join");
    // The chat page has loaded what it loads (its API calls need the session cookie that the
    // next step clears: a 401 from them would be this test's doing, not the app's).
    await hydrated(page);
    await page.waitForSelector('[data-connection="online"]');
    await page.waitForLoadState("networkidle");
    // A "next" that leaves the site is ignored: home instead.
    await ctx.clearCookies();
    await page.goto(server.url(`/login#next=${encodeURIComponent("//evil.example/x")}`));
    await hydrated(page);
    await page.fill('input[name="login"]', guest.input.username);
    await page.fill('input[name="password"]', guest.input.password);
    await page.click('form[data-form="login"] button[type="submit"]');
    await page.waitForURL(server.url("/"));
  });
});

Deno.test("the blocked people page lists whom this user blocked, and Unblock lets them back", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    assert.equal((await bob.client.post(`/api/blocks/${alice.userId}`, {})).status, 200);
    const b = await (await loggedIn(browser, server, bob, PHONE, "zh-CN")).newPage();
    problems.push(watchConsole(b));
    await b.goto(server.url("/contacts"));
    await hydrated(b);
    await b.click('[data-testid="blocked-link"]');
    await hydrated(b);
    await b.waitForSelector(`[data-testid="blocked"] [data-user="${alice.userId}"]`);
    await b.click('[data-testid="unblock"]');
    await b.waitForSelector('[data-testid="blocked-none"]');
    assert.equal((await server.kv.get(["block", bob.userId, alice.userId])).value, null);
  });
});

Deno.test("dark mode: the system's by default, or the user's choice in Settings, kept across pages", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const me = await signUp(server);
    const ctx = await loggedIn(browser, server, me, PHONE);
    const page = await ctx.newPage();
    problems.push(watchConsole(page));
    await page.emulateMedia({ colorScheme: "light" });
    await page.goto(server.url("/settings"));
    await hydrated(page);
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await bg();
    await page.check('[data-testid="theme-dark"]');
    await page.waitForFunction(() => document.documentElement.dataset.theme === "dark");
    const dark = await bg();
    assert.notEqual(dark, light);
    // The next page is rendered dark by the server (no flash of light).
    await page.goto(server.url("/"));
    assert.equal(await page.getAttribute("html", "data-theme"), "dark");
    assert.equal(await bg(), dark);
    // Back to the system's (light here; dark when the system is).
    await page.goto(server.url("/settings"));
    await hydrated(page);
    await page.check('[data-testid="theme-system"]');
    await page.reload();
    assert.equal(await page.getAttribute("html", "data-theme"), null);
    assert.equal(await bg(), light);
    await page.emulateMedia({ colorScheme: "dark" });
    assert.equal(await bg(), dark);
  });
});

Deno.test("a chat read and left at once keeps its read mark: it goes with the page, not after it", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const dm = await friendsDm(server, alice.userId, bob.userId);
    await storeTexts(server, dm.id, "b", [{ from: bob.userId, text: "看到回我" }]);
    const readSeq = async () => {
      const [s] = await summarize(server.kv, alice.userId, [
        (await listUserConvs(server.kv, alice.userId)).find((e) => e.convId === dm.id)!,
      ], "en");
      return { read: s.readSeq, last: s.lastSeq };
    };
    assert.ok((await readSeq()).read < (await readSeq()).last, "unread at first");
    const ctx = await loggedIn(browser, server, alice, PHONE);
    const page = await ctx.newPage();
    problems.push(watchConsole(page));
    // The read mark's 250 ms debounce never ends on its own here (the page's 250 ms timers are
    // held; the rest run), so only what the page sends as it goes can reach the server.
    await page.addInitScript(() => {
      const real = globalThis.setTimeout;
      // deno-lint-ignore no-explicit-any
      (globalThis as any).setTimeout = (fn: () => void, ms?: number, ...args: unknown[]) =>
        ms === 250 ? real(() => {}, 1e9) : real(fn, ms, ...args);
    });
    await page.goto(server.url(`/?c=${dm.id}`));
    await page.waitForSelector('.conv-view [data-testid="msg"]');
    // Seen, so marked read here (the list's badge goes) and sent after a 250 ms debounce: the
    // user leaves before that.
    await page.waitForSelector(`[data-conv="${dm.id}"] [data-testid="unread"]`, {
      state: "detached",
    });
    assert.equal((await readSeq()).read, 0, "not sent yet: its timer stands still");
    await page.goto(server.url("/contacts"));
    await page.waitForURL("**/contacts");
    const end = Date.now() + 5000;
    let got = await readSeq();
    while (got.read < got.last && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      got = await readSeq();
    }
    assert.equal(got.read, got.last, "the server has the read mark");
    await ctx.close();
  });
});
