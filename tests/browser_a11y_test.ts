/**
 * Accessibility: axe-core (WCAG 2.0/2.1 A and AA, and best practice) finds nothing on every page,
 * logged out and in, in English and Chinese, on a phone and a desktop, with the emoji picker and a
 * message's action bar open; and the chat works from the keyboard alone.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { friendsDm, friendsGroup, signUp } from "./helpers.ts";
import {
  DESKTOP,
  hydrated,
  loggedIn,
  newContext,
  PHONE,
  watchConsole,
  withBrowser,
} from "./browser.ts";
import { WsClient } from "./ws_client.ts";
import { AXE_SOURCE, axeViolations } from "./axe.ts";

/** axe's violations on the page as it is now, one line each. */
async function audit(page: Page, what: string): Promise<string[]> {
  // page.evaluate runs in the page without its CSP (a <script> tag would need the nonce).
  if (!await page.evaluate("typeof axe !== 'undefined'")) await page.evaluate(AXE_SOURCE);
  return (await page.evaluate(axeViolations)).map((line) => `${what}: ${line}`);
}

async function visit(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await hydrated(page);
}

const LOGGED_OUT = [
  "/",
  "/login",
  "/register",
  "/register/sent?email=x@example.com",
  "/forgot",
  "/resend",
  "/reset#token=x",
  "/activate#token=x",
];

Deno.test("axe-core finds no violation on any page, in both languages, at both sizes", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const dm = await friendsDm(server, alice.userId, bob.userId);
    const group = await friendsGroup(server, alice.userId, "Weekend trip", [bob.userId]);
    const wb = await WsClient.connect(server, bob.client);
    wb.send({ type: "send", conv: dm.id, cid: "b1", text: "Hi Alice! https://example.com" });
    await wb.next("ack");
    wb.send({ type: "send", conv: group.id, cid: "b2", text: "Saturday?" });
    await wb.next("ack");

    const found: string[] = [];
    const groupPages = [
      "/contacts",
      "/contacts/new",
      "/settings",
      `/u/${encodeURIComponent(bob.input.username)}`,
      `/g/${group.id}`,
      "/groups/find",
      "/g/new",
      "/feedback",
      "/offline",
      "/join#token=bad",
      "/join",
      "/me",
    ];
    /** Every page in one language at one size: one page navigating, logged out then in. */
    async function auditAll(locale: string, size: typeof PHONE): Promise<void> {
      // Each language and each size is seen once light and once dark.
      const colorScheme = (locale === "en-US") === (size === PHONE) ? "light" : "dark";
      const tag = `${locale} ${size === PHONE ? "phone" : "desktop"} ${colorScheme}`;
      const out = await newContext(browser, size, locale);
      const p = await out.newPage();
      await p.emulateMedia({ colorScheme });
      problems.push(watchConsole(p, [/401|Unauthorized|status of 4\d\d/]));
      for (const path of LOGGED_OUT) {
        await visit(p, server.url(path));
        found.push(...await audit(p, `${tag} ${path}`));
      }
      await out.close();

      const ctx = await loggedIn(browser, server, alice, size, locale);
      const page = await ctx.newPage();
      await page.emulateMedia({ colorScheme });
      problems.push(watchConsole(page, [/status of 4\d\d/]));
      await visit(page, server.url(`/?c=${dm.id}`));
      await page.waitForSelector('[data-connection="online"]');
      await page.waitForSelector('.conv-view [data-testid="msg"]');
      const hello = `Hello Bob ${tag}`;
      await page.fill('[data-testid="composer"]', hello);
      await page.click('[data-testid="send"]');
      await page.waitForSelector(`[data-testid="msg"]:has-text("${hello}") [data-status="sent"]`);
      found.push(...await audit(page, `${tag} chat DM`));

      await page.click('[data-testid="emoji-toggle"]');
      await page.waitForSelector('[data-testid="emoji-grid"] [data-testid="emoji"]');
      found.push(...await audit(page, `${tag} emoji picker`));
      await page.keyboard.press("Escape");
      await page.waitForSelector('[data-testid="emoji-picker"]', { state: "detached" });

      const bubble = await page.waitForSelector('[data-testid="msg"]:not(.mine) .bubble');
      const box = (await bubble.boundingBox())!;
      await page.mouse.click(box.x + 4, box.y + box.height - 3);
      await page.waitForSelector('[data-testid="actions"]');
      found.push(...await audit(page, `${tag} action bar`));

      await page.keyboard.press("Escape");
      if (size === PHONE) await page.click('[data-testid="back"]');
      await page.click(`[data-conv="${group.id}"]`);
      await page.waitForSelector(`.conv-view[data-conv="${group.id}"] [data-testid="msg"]`);
      found.push(...await audit(page, `${tag} chat group`));

      await visit(page, server.url("/"));
      await page.click('[data-testid="list-plus"]');
      await page.waitForSelector('[data-testid="plus-menu"]');
      found.push(...await audit(page, `${tag} + menu`));

      for (const path of groupPages) {
        await visit(page, server.url(path));
        // The join form shows once the island has read the address (no token: the paste field).
        if (path.startsWith("/join")) await page.waitForSelector("#invite-link");
        found.push(...await audit(page, `${tag} ${path}`));
      }
      await ctx.close();
    }
    // One after another: four at once is no faster on two cores.
    for (const locale of ["en-US", "zh-CN"]) {
      for (const size of [PHONE, DESKTOP]) await auditAll(locale, size);
    }
    assert.deepEqual(found, [], `axe violations:\n${found.join("\n")}`);
  });
});

/** The element that has focus, described by its test id, class or tag. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return el?.dataset.testid ?? el?.dataset.conv ?? el?.className ?? el?.tagName ?? "";
  });

/** Presses Tab (Shift+Tab with `back`) until the focused element matches `sel`. */
async function tabTo(page: Page, sel: string, back = false): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, sel)) return;
  }
  assert.fail(`Tab never reached ${sel} (stuck at ${await focused(page)})`);
}

Deno.test("the chat works from the keyboard: list, messages, composer, emoji picker", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const dm = await friendsDm(server, alice.userId, bob.userId);
    const wb = await WsClient.connect(server, bob.client);
    // Enough to scroll, within the send burst.
    for (let i = 0; i < 6; i++) {
      const text = Array.from({ length: 8 }, (_, j) => `line ${i}.${j}`).join("\n");
      wb.send({ type: "send", conv: dm.id, cid: `k${i}`, text });
      await wb.next("ack");
    }
    const ctx = await loggedIn(browser, server, alice, DESKTOP);
    const page = await ctx.newPage();
    problems.push(watchConsole(page));
    await visit(page, server.url("/"));
    await page.waitForSelector('[data-connection="online"]');

    // Tab from the page start reaches the conversation list; Enter opens the conversation.
    await tabTo(page, `[data-conv="${dm.id}"]`);
    await page.keyboard.press("Enter");
    await page.waitForSelector('.conv-view [data-testid="msg"]');
    assert.match(page.url(), new RegExp(`c=${dm.id}`));

    // Tab reaches the message list, which scrolls with the keyboard.
    await tabTo(page, '[data-testid="messages"]');
    const top = () => page.$eval('[data-testid="messages"]', (el) => el.scrollTop);
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid="messages"]')!;
      return el.scrollHeight - el.scrollTop - el.clientHeight < 4;
    });
    const before = await top();
    await page.keyboard.press("PageUp");
    await page.waitForFunction(
      (b) => document.querySelector('[data-testid="messages"]')!.scrollTop < b,
      before,
    );
    const outline = await page.$eval(
      '[data-testid="messages"]',
      (el) => getComputedStyle(el).outlineStyle,
    );
    assert.notEqual(outline, "none", "the focused message list shows its focus");

    // A message's "⋯" opens its action bar; Escape closes it and gives focus back.
    await tabTo(page, '[data-testid="msg-more"]');
    await page.keyboard.press("Enter");
    await page.waitForSelector('[data-testid="actions"]');
    await page.keyboard.press("Escape");
    await page.waitForSelector('[data-testid="actions"]', { state: "detached" });
    assert.equal(await focused(page), "msg-more", "focus returns to the message's ⋯");

    // Tab reaches the composer; typing and Enter sends.
    await tabTo(page, '[data-testid="composer"]');
    await page.keyboard.type("sent from the keyboard");
    await page.keyboard.press("Enter");
    await wb.next("msg", (f) => f.msg.text === "sent from the keyboard");

    // The emoji picker opens from the keyboard; Escape closes it and gives focus back.
    await tabTo(page, '[data-testid="emoji-toggle"]', true);
    await page.keyboard.press("Enter");
    await page.waitForSelector('[data-testid="emoji-picker"]');
    await page.keyboard.press("Escape");
    await page.waitForSelector('[data-testid="emoji-picker"]', { state: "detached" });
    assert.equal(await focused(page), "emoji-toggle", "focus returns to the emoji button");
    await ctx.close();
  });
});
