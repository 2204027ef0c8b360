/**
 * What a message can do, in each engine (Chromium, Firefox, WebKit): a reply that quotes it, a
 * reaction and its chip, a recall; and an @mention picked from the list while typing, with the
 * other's "[有人@我]" mark. Alice is on a desktop in English, Bob on a phone in Chinese.
 */
import assert from "node:assert/strict";
import { friendsDm, friendsGroup, newUserInput, signUp, storeTexts } from "./helpers.ts";
import { DESKTOP, eachEngine, PHONE, type Tab } from "./engines.ts";

const COMPOSER = '[data-testid="composer"]';
const ONLINE = '[data-testid="chat"][data-connection="online"]';

/** The open conversation's message whose text has `text`, by its seq (it is re-rendered). */
async function msgWith(tab: Tab, text: string): Promise<string> {
  const seq = await tab.until(
    (t: string) =>
      [...document.querySelectorAll<HTMLElement>('.conv-view [data-testid="msg"][data-seq]')]
        .find((el) => el.querySelector(".text")?.textContent?.includes(t))?.dataset.seq,
    [text],
    { what: `the message "${text}"` },
  );
  return `.conv-view [data-testid="msg"][data-seq="${seq}"]`;
}

/** A tap (click) on a message's bubble opens its action bar. */
async function actionsOf(tab: Tab, text: string): Promise<string> {
  const msg = await msgWith(tab, text);
  await tab.click(`${msg} .bubble .text`);
  await tab.waitFor('[data-testid="actions"]');
  return msg;
}

async function chat(tab: Tab, conv: string): Promise<void> {
  await tab.goto("/");
  await tab.waitFor(ONLINE, { state: "attached" });
  await tab.click(`a.conv-item[data-conv="${conv}"]`);
  await tab.waitFor(`.conv-view[data-conv="${conv}"] ${COMPOSER}`);
}

async function send(tab: Tab, text: string): Promise<void> {
  await tab.fill(COMPOSER, text);
  await tab.click('[data-testid="send"]');
  await tab.until(
    (t: string) =>
      [...document.querySelectorAll('.conv-view [data-testid="msg"].mine')].some((el) =>
        el.querySelector(".text")?.textContent === t && !el.hasAttribute("data-pending")
      ),
    [text],
    { what: `"${text}" sent` },
  );
}

eachEngine("a reply quotes, a reaction counts both ways, a recall shows for both", async (t) => {
  const alice = await signUp(t.server);
  const bob = await signUp(t.server);
  const dm = await friendsDm(t.server, alice.userId, bob.userId);
  const a = await t.tab({ size: DESKTOP, locale: "en", cookies: alice.client.cookies });
  const b = await t.tab({ size: PHONE, locale: "zh-CN", cookies: bob.client.cookies });
  await chat(a, dm.id);
  await chat(b, dm.id);

  await send(a, "Plan for Saturday: the lake");
  // Bob answers that message: tap, 引用, write, send; Alice sees the quote.
  await actionsOf(b, "Plan for Saturday");
  await b.click('[data-testid="actions"] [data-testid="reply"]');
  await b.waitFor('[data-testid="replying"]');
  await send(b, "好的没问题");
  await b.waitFor('[data-testid="replying"]', { state: "detached" });
  const answer = await msgWith(a, "好的没问题");
  await a.waitForText("Plan for Saturday", `${answer} [data-testid="quote"]`);

  // Alice reacts 👍 to it; Bob sees one and adds his with a tap on the chip; Alice sees two.
  await actionsOf(a, "好的没问题");
  await a.click('[data-testid="actions"] [data-emoji="👍"]');
  const onB = await msgWith(b, "好的没问题");
  const chip = '[data-testid="reaction"][data-emoji="👍"]';
  await b.waitForText("1", `${onB} ${chip} .count`);
  assert.equal(
    await b.eval(
      (s: string) => document.querySelector(s)!.getAttribute("aria-pressed"),
      `${onB} ${chip}`,
    ),
    "false",
  );
  await b.click(`${onB} ${chip}`);
  await a.waitForText("2", `${answer} ${chip} .count`);

  // Alice recalls her plan: gone for both, each in their language; Bob's quote says so.
  await actionsOf(a, "Plan for Saturday");
  await a.click('[data-testid="actions"] [data-testid="recall"]');
  await a.waitForText("You recalled a message", '[data-testid="recalled"]');
  await b.waitForText("撤回了一条消息", '[data-testid="recalled"]');
  assert.equal(
    await b.eval(() =>
      [...document.querySelectorAll(".conv-view .text")].some((el) =>
        el.textContent?.includes("Plan for Saturday")
      )
    ),
    false,
    "the words are gone from Bob's screen",
  );
  await b.waitForText("引用内容已撤回", `${onB} [data-testid="quote"]`);
});

eachEngine("an @mention is picked while typing and marks the group for the other", async (t) => {
  const alice = await signUp(t.server);
  const bob = await signUp(t.server, { ...newUserInput("bob"), nickname: "Bobby Tables" });
  const g = await friendsGroup(t.server, alice.userId, "Hiking", [bob.userId]);
  const b = await t.tab({ size: PHONE, locale: "zh-CN", cookies: bob.client.cookies });
  await b.goto("/");
  await b.waitFor(ONLINE, { state: "attached" });
  const a = await t.tab({ size: DESKTOP, locale: "en", cookies: alice.client.cookies });
  await chat(a, g.id);

  // "@" opens the list, with Everyone for the owner; typing narrows it to Bob; Enter picks him.
  await a.fill(COMPOSER, "@");
  await a.waitFor('[data-testid="mention-pick"]');
  await a.waitForText("Everyone", '[data-testid="mention-pick"]');
  await a.type(COMPOSER, "Bobby");
  await a.waitForText("Bobby Tables", '[data-testid="mention-option"]');
  await a.press(COMPOSER, "Enter");
  await a.waitFor('[data-testid="mention-pick"]', { state: "detached" });
  await a.type(COMPOSER, "are you coming?");
  assert.equal(
    await a.eval((s: string) => document.querySelector<HTMLTextAreaElement>(s)!.value, COMPOSER),
    "@Bobby Tables are you coming?",
  );
  await a.press(COMPOSER, "Enter");

  // Bob's list marks the group until he reads it; the message is marked for him.
  await b.waitForText("[有人@我]", `a.conv-item[data-conv="${g.id}"] [data-testid="mentioned"]`);
  await b.click(`a.conv-item[data-conv="${g.id}"]`);
  const msg = await msgWith(b, "are you coming?");
  await b.waitFor(`${msg} .bubble.mention-me`);
  await b.click('[data-testid="back"]');
  await b.waitFor(`a.conv-item[data-conv="${g.id}"]`);
  await b.waitFor(`a.conv-item[data-conv="${g.id}"] [data-testid="mentioned"]`, {
    state: "detached",
  });
});

eachEngine(
  "right-click and a touch long-press open a message's menu; Copy copies its text",
  async (t) => {
    const alice = await signUp(t.server);
    const bob = await signUp(t.server);
    const dm = await friendsDm(t.server, alice.userId, bob.userId);
    await storeTexts(t.server, dm.id, "menu", [{ from: bob.userId, text: "hold me 按住我" }]);
    for (const size of [DESKTOP, PHONE]) {
      const a = await t.tab({ size, locale: "en", cookies: alice.client.cookies });
      await chat(a, dm.id);
      const msg = await msgWith(a, "hold me");
      // Right-click: the app's menu, not the browser's (the event is taken).
      const taken = await a.eval((sel: string) => {
        const bubble = document.querySelector<HTMLElement>(`${sel} .bubble .text`)!;
        const r = bubble.getBoundingClientRect();
        return !bubble.dispatchEvent(
          new MouseEvent("contextmenu", {
            bubbles: true,
            cancelable: true,
            button: 2,
            clientX: r.left + 5,
            clientY: r.top + 5,
          }),
        );
      }, msg);
      assert.ok(taken, `${t.engine}: the browser's menu is replaced`);
      await a.waitFor(`${msg} [data-testid="actions"]`);
      // A tap on the bubble toggles it: closed.
      await a.click(`${msg} .bubble .text`);
      await a.waitFor(`${msg} [data-testid="actions"]`, { state: "detached" });

      // A touch held still for half a second opens it; the click that ends the press leaves it.
      const held = await a.eval(async (sel: string) => {
        const el = document.querySelector<HTMLElement>(`${sel} .bubble .text`)!;
        const r = el.getBoundingClientRect();
        const at = { bubbles: true, cancelable: true, clientX: r.left + 5, clientY: r.top + 5 };
        const touch = { ...at, pointerType: "touch", pointerId: 7, isPrimary: true };
        el.dispatchEvent(new PointerEvent("pointerdown", touch));
        await new Promise((res) => setTimeout(res, 700));
        const openWhileHeld = !!document.querySelector(`${sel} [data-testid="actions"]`);
        el.dispatchEvent(new PointerEvent("pointerup", touch));
        el.dispatchEvent(new MouseEvent("click", at));
        return openWhileHeld;
      }, msg);
      assert.ok(held, `${t.engine}: open while the finger is still down`);
      await a.waitFor(`${msg} [data-testid="actions"]`);
      // Copy puts the text on the clipboard and closes the menu.
      await a.eval(() => {
        Object.defineProperty(navigator, "clipboard", {
          configurable: true,
          value: {
            writeText: (text: string) => {
              (window as unknown as { copied: string }).copied = text;
              return Promise.resolve();
            },
          },
        });
      });
      await a.click(`${msg} [data-testid="actions"] [data-testid="copy"]`);
      await a.waitFor(`${msg} [data-testid="actions"]`, { state: "detached" });
      assert.equal(
        await a.eval(() => (window as unknown as { copied: string }).copied),
        "hold me 按住我",
      );
      await a.close();
    }
  },
);

eachEngine(
  "a swipe from the left edge goes back to the list on a phone, not from mid-screen",
  async (t) => {
    const alice = await signUp(t.server);
    const bob = await signUp(t.server);
    const dm = await friendsDm(t.server, alice.userId, bob.userId);
    const a = await t.tab({ size: PHONE, locale: "en", cookies: alice.client.cookies });
    await chat(a, dm.id);
    const swipe = (fromX: number, toX: number) =>
      a.eval(
        async (x0: number, x1: number) => {
          const el = document.querySelector<HTMLElement>(".conv-view .messages")!;
          const y = el.getBoundingClientRect().top + 100;
          const at = (x: number) => ({
            bubbles: true,
            cancelable: true,
            clientX: x,
            clientY: y,
            pointerType: "touch",
            pointerId: 9,
            isPrimary: true,
          });
          el.dispatchEvent(new PointerEvent("pointerdown", at(x0)));
          await new Promise((r) => setTimeout(r, 50));
          el.dispatchEvent(new PointerEvent("pointermove", at((x0 + x1) / 2)));
          el.dispatchEvent(new PointerEvent("pointerup", at(x1)));
        },
        fromX,
        toX,
      );
    // From the middle of the screen: nothing (the list's own gestures).
    await swipe(150, 330);
    await new Promise((r) => setTimeout(r, 300));
    await a.waitFor(".conv-view");
    // From the edge: back to the list.
    await swipe(4, 200);
    await a.waitFor(".conv-view", { state: "detached" });
    await a.waitFor(`a.conv-item[data-conv="${dm.id}"]`);
    assert.equal(await a.eval(() => location.search), "", "the address is the list's again");
  },
);

eachEngine(
  "the chat list's + opens what starts something new; Escape or a tap elsewhere closes it",
  async (t) => {
    const alice = await signUp(t.server);
    for (const size of [PHONE, DESKTOP]) {
      const a = await t.tab({ size, locale: "zh-CN", cookies: alice.client.cookies });
      await a.goto("/");
      await a.waitFor(ONLINE, { state: "attached" });
      const plus = '[data-testid="list-plus"]';
      assert.equal(
        await a.eval((s: string) => document.querySelector(s)!.getAttribute("aria-expanded"), plus),
        "false",
      );
      await a.click(plus);
      await a.waitFor('[data-testid="plus-menu"]');
      assert.deepEqual(await a.texts('[data-testid="plus-menu"] a'), [
        "发起群聊",
        "添加朋友",
        "查找群聊",
        "通过链接加入",
      ]);
      // Escape closes it and leaves focus on the +.
      await a.press('[data-testid="plus-menu"] a', "Escape");
      await a.waitFor('[data-testid="plus-menu"]', { state: "detached" });
      assert.equal(
        await a.eval(() => document.activeElement?.getAttribute("data-testid")),
        "list-plus",
      );
      // Open again; a tap on the list closes it; then an item goes where it says.
      await a.click(plus);
      await a.waitFor('[data-testid="plus-menu"]');
      await a.eval(() =>
        document.querySelector(".conv-list")!.dispatchEvent(
          new PointerEvent("pointerdown", { bubbles: true }),
        )
      );
      await a.waitFor('[data-testid="plus-menu"]', { state: "detached" });
      await a.click(plus);
      await a.click('[data-testid="plus-menu"] [data-testid="add-friend"]');
      await a.until(() => location.pathname === "/contacts/new");
    }
  },
);
