/**
 * Chatting in real browsers: two people (one on a phone, one on a desktop with two tabs) in a DM
 * and a group, with unread badges, read marks, typing and presence live; one goes offline,
 * messages arrive meanwhile and come back in order on reconnect; the bot answers.
 * SHOTS=/tmp/shots saves screenshots.
 */
import assert from "node:assert/strict";
import type { BrowserContext, Page } from "playwright-core";
import { friendsDm, friendsGroup, signUp, storeTexts, type TestServer } from "./helpers.ts";
import { DESKTOP, hydrated, loggedIn, PHONE, watchConsole, withBrowser } from "./browser.ts";
import { CLOSE } from "../lib/wire/protocol.ts";

const SHOTS = Deno.env.get("SHOTS");
if (SHOTS) await Deno.mkdir(SHOTS, { recursive: true });

type Person = Awaited<ReturnType<typeof signUp>>;

async function openChat(
  ctx: BrowserContext,
  server: TestServer,
  problems: string[][],
): Promise<Page> {
  const page = await ctx.newPage();
  // While the test takes the network away, failed reconnects are expected console errors.
  problems.push(watchConsole(page, [/ERR_INTERNET_DISCONNECTED/]));
  await page.goto(server.url("/"));
  await hydrated(page);
  await page.waitForSelector('[data-connection="online"]');
  // The list header (title, "Find groups", "New group") fits its column at every size.
  const over = await page.$eval(".list-head", (el) => el.scrollWidth - el.clientWidth);
  assert.ok(over <= 0, `the chat list header overflows by ${over}px`);
  return page;
}

async function send(page: Page, text: string): Promise<void> {
  await page.fill('[data-testid="composer"]', text);
  await page.click('[data-testid="send"]');
}

const texts = (page: Page) =>
  page.$$eval(
    '[data-testid="messages"] [data-testid="msg"] .bubble',
    (els) => els.map((e) => e.textContent),
  );

async function shot(page: Page, name: string) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/chat-${name}.png` });
}

Deno.test("two people chat in a DM and a group with unread, read marks, typing, presence and reconnect", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const dm = await friendsDm(server, alice.userId, bob.userId);
    const group = await friendsGroup(server, alice.userId, "Weekend <b>trip</b>", [bob.userId]);

    const aCtx = await loggedIn(browser, server, alice, DESKTOP);
    const a1 = await openChat(aCtx, server, problems);
    const a2 = await openChat(aCtx, server, problems);
    const bCtx = await loggedIn(browser, server, bob, PHONE);
    const b = await openChat(bCtx, server, problems);

    // Presence: Bob is online in Alice's list.
    await a1.waitForSelector(`[data-conv="${dm.id}"] .online-dot`);

    // Alice writes in the DM; Bob's list shows an unread badge before he opens it.
    await a1.click(`[data-conv="${dm.id}"]`);
    await send(a1, "Hi Bob! 你好");
    await a1.waitForSelector('[data-status="sent"]');
    await b.waitForSelector(`[data-conv="${dm.id}"] [data-testid="unread"]`);
    assert.equal(await b.textContent(`[data-conv="${dm.id}"] [data-testid="unread"]`), "1");
    await shot(b, "phone-list-unread");

    // Bob opens it (phone: the list gives way to the conversation), reads, types and answers.
    await b.click(`[data-conv="${dm.id}"]`);
    await b.waitForSelector('.conv-view [data-testid="msg"]');
    assert.equal(
      await b.isVisible('[data-testid="conv-list"]'),
      false,
      "phone shows one screen at a time",
    );
    await a1.waitForSelector('[data-status="read"]');
    await b.type('[data-testid="composer"]', "typing…");
    await a1.waitForSelector('[data-testid="conv-sub"].typing');
    await b.fill('[data-testid="composer"]', "");
    await send(b, "Hello Alice");
    await a1.waitForSelector("text=Hello Alice");
    // Alice's other tab saw her own message and Bob's answer too.
    await a2.click(`[data-conv="${dm.id}"]`);
    await a2.waitForSelector("text=Hello Alice");
    assert.deepEqual(await texts(a2), ["Hi Bob! 你好", "Hello Alice"]);
    await shot(a1, "desktop-dm");
    await shot(b, "phone-dm");

    // Bob goes offline: his socket drops and the network is gone while Alice writes three times.
    await bCtx.setOffline(true);
    for (const c of server.rt.conns) {
      if (c.userId === bob.userId) c.close(CLOSE.slowConsumer, "test drop");
    }
    await b.waitForSelector('[data-connection="offline"]');
    assert.equal(
      await b.isVisible('[data-testid="conn-banner"]'),
      true,
      "the connection state shows in the conversation",
    );
    for (const t of ["one", "two", "three"]) await send(a1, t);
    await a1.waitForFunction(() => !document.querySelector('[data-status="pending"]'));
    // Bob can still write: his message waits, pending, and goes once he is back.
    await send(b, "typed offline");
    await b.waitForSelector('[data-pending="pending"]');
    await shot(b, "phone-offline");
    await bCtx.setOffline(false);
    await b.waitForSelector('[data-connection="online"]', { timeout: 20_000 });
    await b.waitForSelector(".conv-view >> text=three");
    await b.waitForFunction(() => !document.querySelector("[data-pending]"));
    await a1.waitForSelector(".conv-view >> text=typed offline");
    assert.deepEqual(
      (await texts(b)).filter((t) => t !== "typed offline"),
      ["Hi Bob! 你好", "Hello Alice", "one", "two", "three"],
      "in order, none twice",
    );
    assert.deepEqual(
      (await texts(a1)).filter((t) => t === "typed offline").length,
      1,
      "sent once",
    );

    // The group: sender names, and the name shown as text.
    await b.click('[data-testid="back"]');
    await b.click(`[data-conv="${group.id}"]`);
    await send(b, "Who brings snacks?");
    await a1.click(`[data-conv="${group.id}"]`);
    await a1.waitForSelector("text=Who brings snacks?");
    assert.equal(await a1.textContent('[data-testid="conv-title"]'), "Weekend <b>trip</b>");
    assert.ok(
      (await a1.textContent(".msg .sender"))?.includes(bob.input.nickname),
      "sender name in groups",
    );
    await b.waitForSelector('[data-status="read"]');
    assert.match((await b.textContent('[data-status="read"]')) ?? "", /1 read/);

    // The bot answers at once.
    await a1.click('[data-kind="bot"]');
    await send(a1, "hello");
    await a1.waitForSelector("text=/HappyChat bot/");
    await shot(a1, "desktop-bot");
  });
});

Deno.test("history loads page by page on scroll up and keeps the reader's place", async () => {
  await withBrowser(async ({ server, browser }) => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const dm = await friendsDm(server, alice.userId, bob.userId);
    await storeTexts(
      server,
      dm.id,
      "h",
      Array.from({ length: 80 }, (_, k) => ({
        from: (k + 1) % 2 ? alice.userId : bob.userId,
        text: `message ${k + 1}`,
      })),
    );
    const ctx = await loggedIn(browser, server, bob, DESKTOP);
    const page = await openChat(ctx, server, []);
    await page.click(`[data-conv="${dm.id}"]`);
    // In the message list, not the chat list's preview of the last message.
    await page.locator('[data-testid="messages"] .bubble', { hasText: "message 80" }).waitFor();
    assert.equal((await texts(page)).length, 30, "the newest page first");
    // Scroll to the top: the next page comes in above, and the message that was at the top stays put.
    await page.$eval('[data-testid="messages"]', (el) => el.scrollTop = 0);
    await page.waitForSelector("text=message 50");
    await page.waitForTimeout(100);
    // At the top, message 51 was the first one in view; it must still be in view, not pushed down.
    const offset = await page.$eval(
      ".conv-view >> text=message 51",
      (el) =>
        el.getBoundingClientRect().top -
        document.querySelector('[data-testid="messages"]')!.getBoundingClientRect().top,
    );
    assert.ok(
      offset > -100 && offset < 300,
      `the reader's place is kept (message 51 at ${offset}px)`,
    );
    await page.$eval('[data-testid="messages"]', (el) => el.scrollTop = 0);
    await page.waitForSelector("text=message 20");
    await page.$eval('[data-testid="messages"]', (el) => el.scrollTop = 0);
    await page.waitForSelector("text=message 1");
    await page.waitForSelector("text=This is the start of the conversation");
    const all = await texts(page);
    assert.deepEqual(all, Array.from({ length: 80 }, (_, i) => `message ${i + 1}`));
  });
});
