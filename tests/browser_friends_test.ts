/**
 * Friends in real browsers, Alice on a desktop (English) and Bob on a phone (Chinese): they find
 * each other, befriend, set a remark and chat; then delete friend and block, each screen updating
 * live. SHOTS=/tmp/shots saves screenshots.
 */
import assert from "node:assert/strict";
import type { BrowserContext, Page } from "playwright-core";
import { friendsDm, newUserInput, signUp, type TestServer } from "./helpers.ts";
import { DESKTOP, hydrated, loggedIn, PHONE, watchConsole, withBrowser } from "./browser.ts";

const SHOTS = Deno.env.get("SHOTS");
if (SHOTS) await Deno.mkdir(SHOTS, { recursive: true });

type Person = Awaited<ReturnType<typeof signUp>>;

async function open(
  ctx: BrowserContext,
  server: TestServer,
  path: string,
  problems: string[][],
): Promise<Page> {
  const page = await ctx.newPage();
  problems.push(watchConsole(page));
  await go(page, server, path);
  return page;
}

async function go(page: Page, server: TestServer, path: string): Promise<void> {
  await page.goto(server.url(path));
  await hydrated(page);
}

async function shot(page: Page, name: string) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/friends-${name}.png`, fullPage: true });
}

/** The page does not scroll sideways (everything fits the width). */
async function fits(page: Page) {
  const over = await page.evaluate(() =>
    document.documentElement.scrollWidth - document.documentElement.clientWidth
  );
  assert.ok(over <= 0, `page is ${over}px wider than the screen at ${page.url()}`);
}

Deno.test("two people find each other, befriend, set a remark and chat (desktop and phone)", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const alice = await signUp(server, { ...newUserInput("alice"), nickname: "Alice <b>A</b>" });
    const bob = await signUp(server, { ...newUserInput("bob"), nickname: "张伟" });
    const a = await open(
      await loggedIn(browser, server, alice, DESKTOP, "en-US"),
      server,
      "/contacts/new",
      problems,
    );
    const bCtx = await loggedIn(browser, server, bob, PHONE, "zh-CN");
    const bChat = await open(bCtx, server, "/", problems);
    await bChat.waitForSelector('[data-connection="online"]');
    assert.equal(await bChat.isVisible('[data-testid="tab-requests"]'), false, "no requests yet");

    // Alice finds Bob by his exact username and asks, with a note that looks like HTML.
    await a.fill('[data-testid="find-q"]', bob.input.username);
    await a.click('[data-testid="find-go"]');
    await a.click(`[data-testid="result"][data-user="${bob.userId}"] [data-testid="add"]`);
    await a.fill('[data-testid="note"]', "<i>Hi</i> it's Alice");
    await shot(a, "desktop-add-note");
    await a.click('[data-testid="send-request"]');
    await a.waitForSelector(
      `[data-testid="result"][data-user="${bob.userId}"][data-relation="pending"]`,
    );
    await fits(a);

    // Bob's badge (on 通讯录 in the phone's tab bar) shows it at once, on the chat screen; New friends lists it as text.
    await bChat.waitForSelector('[data-testid="tab-requests"]:not([hidden])');
    assert.equal(await bChat.textContent('[data-testid="tab-requests"]'), "1");
    await go(bChat, server, "/contacts");
    assert.equal(await bChat.textContent('[data-testid="requests-badge"]'), "1");
    await shot(bChat, "phone-contacts-badge");
    await bChat.click('[data-testid="new-friends"]');
    await hydrated(bChat);
    assert.equal(
      await bChat.textContent('[data-testid="request"] [data-testid="request-note"]'),
      "<i>Hi</i> it's Alice",
    );
    assert.equal(
      await bChat.textContent('[data-testid="request"] .contact-name'),
      "Alice <b>A</b>",
    );
    await shot(bChat, "phone-new-friends");
    await fits(bChat);
    await bChat.click('[data-testid="accept"]');
    await bChat.waitForSelector('[data-testid="request"] [data-testid="send-message"]');
    await bChat.waitForSelector('[data-testid="tab-requests"][hidden]', { state: "attached" });

    // Alice sees the friendship live, and Bob in her contacts under Z (张伟 → Zhang).
    await a.waitForSelector(
      `[data-testid="result"][data-user="${bob.userId}"][data-relation="friend"]`,
    );
    await go(a, server, "/contacts");
    await a.waitForSelector(`[data-letter="Z"] [data-testid="contact"][data-user="${bob.userId}"]`);
    await a.fill('[data-testid="contacts-search"]', "zzz");
    await a.waitForSelector('[data-testid="no-match"]');
    await a.fill('[data-testid="contacts-search"]', "张");
    await a.waitForSelector(`[data-testid="contact"][data-user="${bob.userId}"]`);
    await a.fill('[data-testid="contacts-search"]', "");
    await shot(a, "desktop-contacts");

    // Alice sets a remark on Bob's card; it replaces his nickname on her screens.
    await a.click(`[data-testid="contact"][data-user="${bob.userId}"]`);
    await hydrated(a);
    await a.fill('[data-testid="remark"]', "Boss <u>W</u>");
    await a.click('[data-testid="save-remark"]');
    await a.waitForSelector('[data-testid="friend-status"]:has-text("Remark saved")');
    // The name follows the friends list, which the saved remark reaches by a fetch or a frame.
    await a.waitForSelector('[data-testid="profile-name"]:text-is("Boss <u>W</u>")');
    await shot(a, "desktop-profile-friend");
    await a.click('[data-testid="send-message"]');
    await hydrated(a);
    await a.waitForSelector('[data-connection="online"]');
    assert.equal(await a.textContent('[data-testid="conv-title"]'), "Boss <u>W</u>");
    assert.equal(
      await a.textContent(`[data-conv] .conv-title >> text=Boss <u>W</u>`),
      "Boss <u>W</u>",
    );
    await a.fill('[data-testid="composer"]', "Hi boss");
    await a.click('[data-testid="send"]');

    // Bob opens the chat from New friends and answers; he sees Alice's own nickname.
    await bChat.click('[data-testid="send-message"]');
    await hydrated(bChat);
    await bChat.waitForSelector(".conv-view >> text=Hi boss");
    assert.equal(await bChat.textContent('[data-testid="conv-title"]'), "Alice <b>A</b>");
    await bChat.fill('[data-testid="composer"]', "你好");
    await bChat.click('[data-testid="send"]');
    await a.waitForSelector(".conv-view >> text=你好");
    await shot(bChat, "phone-dm");
  });
});

Deno.test("delete friend and block take effect at once on the other screen (phone and desktop)", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const dm = await friendsDm(server, alice.userId, bob.userId);
    const a = await open(
      await loggedIn(browser, server, alice, PHONE, "en-US"),
      server,
      `/u/${bob.input.username}`,
      problems,
    );
    const b = await open(
      await loggedIn(browser, server, bob, DESKTOP, "zh-CN"),
      server,
      `/?c=${dm.id}`,
      problems,
    );
    await b.waitForSelector('[data-connection="online"]');
    await a.waitForSelector('[data-testid="friend-actions"][data-relation="friend"]');
    await shot(a, "phone-profile-friend");
    await fits(a);

    // Delete friend, with a confirmation: Bob's open DM closes for sending at once.
    await a.click('[data-testid="remove-friend"]');
    await shot(a, "phone-confirm-remove");
    await a.click('[data-testid="confirm-yes"]');
    await a.waitForSelector('[data-testid="friend-actions"][data-relation="none"]');
    await b.waitForSelector('[data-testid="not-friends"]');
    assert.equal(await b.isDisabled('[data-testid="composer"]'), true);
    await shot(b, "desktop-dm-closed");

    // Block: Bob is not told; his request and messages never reach Alice.
    await a.click('[data-testid="block"]');
    await a.click('[data-testid="confirm-yes"]');
    await a.waitForSelector('[data-testid="friend-actions"][data-blocked="1"]');
    await go(b, server, `/u/${alice.input.username}`);
    await b.click('[data-testid="add-friend"]');
    await b.click('[data-testid="send-request"]');
    await b.waitForSelector('[data-testid="friend-actions"][data-relation="pending"]');
    await a.waitForTimeout(300);
    assert.equal(await a.isVisible('[data-testid="tab-requests"]'), false, "no request arrives");
    await go(a, server, "/contacts");
    assert.equal(await a.isVisible('[data-testid="requests-badge"]'), false);
    assert.equal(await a.isVisible('[data-testid="no-friends"]'), true);

    // Unblock; Bob can ask again later (a new request arrives live).
    await go(a, server, `/u/${bob.input.username}`);
    await a.click('[data-testid="unblock"]');
    await a.waitForSelector('[data-testid="friend-actions"][data-blocked="0"]');

    // Someone else asks: the badge on the phone's Contacts tab appears live, and the page still fits.
    const carol = await signUp(server);
    await carol.client.json("/api/friends/requests", {
      method: "POST",
      json: { to: alice.userId, note: "" },
    });
    await a.waitForSelector('[data-testid="tab-requests"]:not([hidden])');
    await fits(a);
    await shot(a, "phone-badge-en");
  });
});
