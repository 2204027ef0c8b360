/**
 * The phone's screens, in each engine: the bottom tab bar 消息 / 通讯录 / 我 with live unread and
 * request counts on the three main screens, none inside a conversation (which takes the screen),
 * the "Me" screen with the account's entries; and the desktop, which keeps its top bar and the
 * list beside the conversation.
 */
import assert from "node:assert/strict";
import { friendsDm, signUp, storeTexts } from "./helpers.ts";
import { DESKTOP, eachEngine, type Size, type Tab } from "./engines.ts";

/** The phone the issue names: 375 × 812 (touch). */
const PHONE_S: Size = { width: 375, height: 812 };
const ONLINE = '[data-testid="chat"][data-connection="online"]';

/** Whether the element is on screen (present, not display: none, with a box). */
function shown(tab: Tab, selector: string): Promise<boolean> {
  return tab.eval((s: string) => {
    const el = document.querySelector<HTMLElement>(s);
    return !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  }, selector);
}

async function until(tab: Tab, selector: string, want: boolean): Promise<void> {
  await tab.until(
    (s: string, w: boolean) => {
      const el = document.querySelector<HTMLElement>(s);
      return (!!el && el.getClientRects().length > 0) === w || undefined;
    },
    [selector, want],
    { what: `${selector} ${want ? "shown" : "hidden"}` },
  );
}

/** The tab bar's box: at the bottom edge of the screen, across its width. */
function barBox(
  tab: Tab,
): Promise<{ top: number; bottom: number; width: number; vh: number; vw: number }> {
  return tab.eval(() => {
    const r = document.querySelector('[data-testid="tabbar"]')!.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, width: r.width, vh: innerHeight, vw: innerWidth };
  });
}

/**
 * The controls on screen smaller than 44 × 44 px, the size a finger hits: every link, button and
 * field that shows, but links inside a sentence and visually hidden ones (WCAG 2.5.5 exceptions).
 */
function smallTargets(tab: Tab): Promise<string[]> {
  return tab.eval(() =>
    [...document.querySelectorAll<HTMLElement>(
      "a, button, input:not([type=hidden]), textarea, select, summary",
    )]
      .filter((el) => {
        const css = getComputedStyle(el);
        const r = el.getBoundingClientRect();
        return el.getClientRects().length > 0 && css.visibility !== "hidden" &&
          css.opacity !== "0" && css.display !== "inline" && r.width > 1 && r.height > 1 &&
          (r.width < 44 || r.height < 44);
      })
      .map((el) => {
        const r = el.getBoundingClientRect();
        return `${el.tagName.toLowerCase()}.${el.className} "${
          (el.textContent ?? "").trim().slice(0, 20)
        }" ${Math.round(r.width)}×${Math.round(r.height)}`;
      })
  );
}

const current = (tab: Tab) =>
  tab.eval(() =>
    document.querySelector('[data-testid="tabbar"] [aria-current="page"]')?.getAttribute(
      "data-testid",
    ) ?? null
  );

eachEngine(
  "phone: the tab bar on the main screens with live badges, none in a chat; Me holds the account",
  async (t) => {
    const alice = await signUp(t.server);
    const bob = await signUp(t.server);
    const carol = await signUp(t.server);
    const dm = await friendsDm(t.server, alice.userId, bob.userId);
    await storeTexts(t.server, dm.id, "b", [
      { from: bob.userId, text: "在吗" },
      { from: bob.userId, text: "周六爬山？" },
      { from: bob.userId, text: "早上八点" },
    ]);
    assert.equal(
      (await carol.client.post("/api/friends/requests", { to: alice.userId })).status,
      200,
    );
    const a = await t.tab({ size: PHONE_S, locale: "zh-CN", cookies: alice.client.cookies });

    // 消息: the list under its own header, the tab bar at the bottom, no desktop top bar (and no
    // "log out" a tap away), the three unread and the request counted from the first paint.
    await a.goto("/");
    await a.waitFor(ONLINE, { state: "attached" });
    assert.equal(await shown(a, '[data-testid="tabbar"]'), true, "the tab bar");
    assert.equal(await shown(a, ".topbar"), false, "no top bar on a phone");
    assert.equal(await shown(a, ".nav form[action='/logout'] button"), false);
    const bar = await barBox(a);
    assert.ok(Math.abs(bar.bottom - bar.vh) <= 1, `the bar ends at the screen's bottom: ${bar}`);
    // (WebKit's window is 447 px at the least.)
    assert.equal(bar.width, bar.vw, "across the screen");
    assert.deepEqual(await a.texts('[data-testid="tabbar"] .tab-label'), ["消息", "通讯录", "我"]);
    assert.equal(await current(a), "tab-chats");
    assert.equal(
      await a.text('[data-testid="tab-unread"]'),
      "4",
      "Bob's three and the bot's welcome",
    );
    assert.equal(await a.text('[data-testid="tab-requests"]'), "1");
    assert.deepEqual(await smallTargets(a), [], "the chat list's tap targets");
    // Each tab is a comfortable tap target.
    const heights = await a.eval(() =>
      [...document.querySelectorAll('[data-testid="tabbar"] .tab')].map((el) =>
        el.getBoundingClientRect().height
      )
    );
    assert.ok(heights.every((h) => h >= 44), `tabs of 44 px or more: ${heights}`);

    // In the conversation: no tab bar, the conversation's own header at the top of the screen.
    await a.click(`a.conv-item[data-conv="${dm.id}"]`);
    await a.waitFor(`.conv-view[data-conv="${dm.id}"] [data-testid="composer"]`);
    await until(a, '[data-testid="tabbar"]', false);
    const headTop = await a.eval(() =>
      document.querySelector(".conv-view .conv-header")!.getBoundingClientRect().top
    );
    assert.ok(headTop <= 1, `the conversation's header at the top: ${headTop}`);
    assert.deepEqual(await smallTargets(a), [], "the conversation's tap targets");
    // Read there: back on the list, only the bot's welcome is counted, without a reload.
    await a.click(".conv-view .back");
    await until(a, '[data-testid="tabbar"]', true);
    await a.waitForText("1", '[data-testid="tab-unread"]'); // the bot's welcome

    // A new message while the list shows: counted at once.
    await storeTexts(t.server, dm.id, "b2", [{ from: bob.userId, text: "别忘了带水" }]);
    await a.waitForText("2", '[data-testid="tab-unread"]');

    // 通讯录 and 我 are one tap each, with the bar still there.
    await a.click('[data-testid="tab-contacts"]');
    await a.waitFor('[data-testid="add-friends"]');
    assert.equal(await current(a), "tab-contacts");
    // (The page may be rendered a moment before the server stored the read mark the last page
    // sent as it went; the client's welcome then puts it right.)
    await a.waitForText("2", '[data-testid="tab-unread"]');
    assert.deepEqual(await smallTargets(a), [], "the contacts' tap targets");
    await a.click('[data-testid="tab-me"]');
    await a.waitFor('[data-testid="me-card"]');
    assert.equal(await current(a), "tab-me");
    assert.equal(await shown(a, '[data-testid="tabbar"]'), true);
    assert.ok((await a.text('[data-testid="me-card"]')).includes(alice.input.nickname));
    assert.deepEqual(await smallTargets(a), [], "Me's tap targets");
    for (const id of ["me-settings", "me-devices", "me-blocked", "me-feedback", "me-lang"]) {
      assert.equal(await shown(a, `[data-testid="${id}"]`), true, id);
    }
    // The language switch stays on "Me", now in English.
    await a.click('[data-testid="me-lang"]');
    await a.waitForText("Me", '[data-testid="tab-me"] .tab-label');
    assert.equal(await a.eval(() => location.pathname), "/me");
    // Devices opens the settings where the devices are.
    await a.click('[data-testid="me-devices"]');
    await a.waitFor("#sessions");
    assert.equal(await current(a), "tab-me", "settings belong to Me");
    await a.waitFor('#sessions [data-testid="sessions"] li');
    assert.deepEqual(await smallTargets(a), [], "the settings' tap targets");
    // Join by link, from the list's + menu.
    await a.goto("/join");
    await a.waitFor("#invite-link");
    assert.deepEqual(await smallTargets(a), [], "the join form's tap targets");
    await a.click('[data-testid="tab-me"]');
    await a.click('[data-testid="me-logout"]');
    await a.until(() => location.pathname === "/login" || !!document.querySelector(".hero"), [], {
      what: "logged out",
    });
    assert.equal(await a.count('[data-testid="tabbar"]'), 0, "no tab bar for visitors");
  },
);

eachEngine(
  "desktop: the top bar navigates, no tab bar, the list beside the conversation",
  async (t) => {
    const alice = await signUp(t.server);
    const bob = await signUp(t.server);
    const dm = await friendsDm(t.server, alice.userId, bob.userId);
    await storeTexts(t.server, dm.id, "b", [{ from: bob.userId, text: "hello" }]);
    const a = await t.tab({ size: DESKTOP, locale: "en", cookies: alice.client.cookies });
    await a.goto(`/?c=${dm.id}`);
    await a.waitFor(ONLINE, { state: "attached" });
    assert.equal(await shown(a, ".topbar"), true);
    assert.equal(await shown(a, '[data-testid="tabbar"]'), false);
    const [list, main] = await a.eval(() =>
      [".chat-list", ".chat-main"].map((s) => {
        const r = document.querySelector(s)!.getBoundingClientRect();
        return { left: r.left, right: r.right, width: r.width };
      })
    );
    assert.ok(list.width > 200 && main.left >= list.right - 1, "side by side");
    // "Me" works on a wide screen too (the page behind the top bar's avatar menu on phones).
    await a.goto("/me");
    await a.waitFor('[data-testid="me-card"]');
    assert.equal(await shown(a, '[data-testid="tabbar"]'), false);
  },
);
