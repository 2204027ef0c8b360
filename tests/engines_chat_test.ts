/**
 * Chatting in each engine (Chromium, Firefox, WebKit), each flow written once (tests/engines.ts):
 * a DM in real time between a phone and a desktop, history paged in by scrolling up, Chinese IME
 * composition that must not send on Enter, and the offline banner with a message written offline.
 */
import assert from "node:assert/strict";
import { friendsDm, signUp, storeTexts, type TestServer } from "./helpers.ts";
import { DESKTOP, eachEngine, type EngineTest, PHONE, type Size, type Tab } from "./engines.ts";
import { pageBefore } from "../lib/chat/history.ts";
import { t as tr } from "../lib/i18n/i18n.ts";
import { CLOSE } from "../lib/wire/protocol.ts";

type Person = Awaited<ReturnType<typeof signUp>>;

const COMPOSER = '[data-testid="composer"]';
const SEND = '[data-testid="send"]';
/** The messages of the open conversation (sent or pending), not the list's previews. */
const MSG = '.conv-view [data-testid="messages"] [data-testid="msg"]';

/** A logged-in tab on the chat screen, connected. */
async function chatTab(t: EngineTest, who: Person, size: Size): Promise<Tab> {
  const tab = await t.tab({ size, cookies: who.client.cookies, locale: "en" });
  await tab.goto("/");
  await tab.waitFor('[data-testid="chat"][data-connection="online"]', { state: "attached" });
  return tab;
}

/** Alice and her friend Bob; Alice on a desktop with their DM open. */
async function aliceInDm(t: EngineTest) {
  const alice = await signUp(t.server);
  const bob = await signUp(t.server);
  const dm = await friendsDm(t.server, alice.userId, bob.userId);
  const a = await chatTab(t, alice, DESKTOP);
  await openConv(a, dm.id);
  return { alice, bob, dm, a };
}

async function openConv(tab: Tab, conv: string): Promise<void> {
  await tab.click(`.conv-item[data-conv="${conv}"]`);
  await tab.waitFor(`.conv-view[data-conv="${conv}"] ${COMPOSER}`);
}

async function sendByButton(tab: Tab, text: string): Promise<void> {
  await tab.fill(COMPOSER, text);
  await tab.click(SEND);
}

/** Each message shown: its text, and whether it is on this user's side. */
function shown(tab: Tab): Promise<{ text: string; mine: boolean; pending: boolean }[]> {
  return tab.eval((sel: string) =>
    [...document.querySelectorAll<HTMLElement>(sel)].map((li) => ({
      text: li.querySelector(".text")?.textContent ?? "",
      mine: li.classList.contains("mine"),
      pending: li.hasAttribute("data-pending"),
    })), MSG);
}

/**
 * Waits until the open conversation shows exactly `want` (oldest first), none of them pending;
 * fails with what it showed last.
 */
async function expectShown(tab: Tab, want: { text: string; mine: boolean }[]): Promise<void> {
  const wanted = JSON.stringify(want.map((w) => ({ ...w, pending: false })));
  try {
    await tab.until(
      (sel: string, w: string) =>
        JSON.stringify(
          [...document.querySelectorAll<HTMLElement>(sel)].map((li) => ({
            text: li.querySelector(".text")?.textContent ?? "",
            mine: li.classList.contains("mine"),
            pending: li.hasAttribute("data-pending"),
          })),
        ) === w,
      [MSG, wanted],
      { what: `exactly ${wanted}` },
    );
  } catch (err) {
    // The assert says what differs.
    assert.deepEqual(await shown(tab), JSON.parse(wanted), (err as Error).message);
  }
}

/** The text messages stored for a conversation, oldest first, with who sent them. */
async function stored(server: TestServer, conv: string): Promise<{ from: string; text: string }[]> {
  const { messages } = await pageBefore(server.kv, conv, undefined, 1000);
  return messages.filter((m) => m.kind === "text").map((m) => ({ from: m.from, text: m.text }));
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------------

eachEngine("a DM in real time both ways: Alice on a phone, Bob on a desktop", async (t) => {
  const alice = await signUp(t.server);
  const bob = await signUp(t.server);
  const dm = await friendsDm(t.server, alice.userId, bob.userId);
  const a = await chatTab(t, alice, PHONE);
  const b = await chatTab(t, bob, DESKTOP);
  await dmBothWays(t, a, b, dm.id, alice, bob);
});

async function dmBothWays(
  t: EngineTest,
  a: Tab,
  b: Tab,
  conv: string,
  alice: Person,
  bob: Person,
): Promise<void> {
  await openConv(a, conv);
  await openConv(b, conv);
  assert.equal(
    await a.eval(() => !!document.querySelector<HTMLElement>(".conv-list")?.offsetParent),
    false,
    "the phone shows the conversation instead of the list",
  );
  // The header's 🔔 and 🔍 sit together at its end, at both sizes (they once split the free
  // space, the bell floating in the middle of a desktop's header).
  for (const tab of [a, b]) {
    const gap = await tab.eval(() => {
      const box = (id: string) =>
        document.querySelector(`.conv-header [data-testid="${id}"]`)!.getBoundingClientRect();
      const header = document.querySelector(".conv-header")!.getBoundingClientRect();
      return {
        between: box("conv-search").left - box("mute-toggle").right,
        end: header.right - box("conv-search").right,
      };
    });
    assert.ok(
      gap.between >= 0 && gap.between < 16,
      `${t.engine}: 🔔 next to 🔍 (${gap.between}px)`,
    );
    assert.ok(gap.end < 24, `${t.engine}: 🔍 at the header's end (${gap.end}px)`);
    // Icon buttons draw their icon themselves, not with an emoji glyph: Chromium and WebKit take
    // emoji from the system's fonts, and on a machine with no colour-emoji font (this one) they
    // were empty boxes there, while Firefox, which brings its own, drew them.
    const icons = await tab.eval(() =>
      ["mute-toggle", "conv-search", "emoji-toggle", "attach"].map((id) => {
        const button = document.querySelector(`.conv-view [data-testid="${id}"]`)!;
        const svg = button.querySelector("svg");
        const r = svg?.getBoundingClientRect();
        const stroke = svg ? getComputedStyle(svg).stroke : "";
        return {
          id,
          text: button.textContent!.trim(),
          drawn: !!r && r.width >= 14 && r.height >= 14 && !/rgba\(0, 0, 0, 0\)|none/.test(stroke),
        };
      })
    );
    for (const i of icons) {
      assert.equal(i.text, "", `${t.engine}: ${i.id} has no glyph text`);
      assert.ok(i.drawn, `${t.engine}: ${i.id} draws its icon`);
    }
  }

  const sent: { text: string; byAlice: boolean }[] = [];
  const check = async () => {
    await expectShown(a, sent.map((m) => ({ text: m.text, mine: m.byAlice })));
    await expectShown(b, sent.map((m) => ({ text: m.text, mine: !m.byAlice })));
  };

  // Alice (phone) sends with the button; Bob sees it without a reload.
  sent.push({ text: "Hi Bob! 你好 from the phone", byAlice: true });
  await sendByButton(a, sent.at(-1)!.text);
  await check();
  assert.equal(
    await a.eval((s: string) => document.querySelector<HTMLTextAreaElement>(s)!.value, COMPOSER),
    "",
  );

  // Bob (desktop) answers with the button, then with Enter.
  sent.push({ text: "Hello Alice, desktop here", byAlice: false });
  await sendByButton(b, sent.at(-1)!.text);
  await check();
  sent.push({ text: "Enter sends on a desktop ⏎", byAlice: false });
  await b.fill(COMPOSER, sent.at(-1)!.text);
  await b.press(COMPOSER, "Enter");
  await check();
  assert.equal(
    await b.eval((s: string) => document.querySelector<HTMLTextAreaElement>(s)!.value, COMPOSER),
    "",
    "Enter emptied the composer",
  );

  // Alice again, right after: both sides keep the order.
  // Typed text stays in the BMP: WebKitWebDriver's typing drops characters beyond it (an emoji
  // such as U+1F44D never reaches the page, whatever the app), so no astral emoji here.
  sent.push({ text: "Got both ✔", byAlice: true });
  await sendByButton(a, sent.at(-1)!.text);
  await check();

  // A moment later nothing came twice (a late echo or a resend would show up here).
  await pause(600);
  await check();
  assert.deepEqual(
    await stored(t.server, conv),
    sent.map((m) => ({ from: m.byAlice ? alice.userId : bob.userId, text: m.text })),
    "the server stored each message once, in order",
  );
}

// ------------------------------------------------------------------------------------------------

eachEngine("history pages in on scroll up: every message once, in order", async (t) => {
  const alice = await signUp(t.server);
  const bob = await signUp(t.server);
  const dm = await friendsDm(t.server, alice.userId, bob.userId);
  // More than two pages of 30 (the client asks for 30 at a time), from both sides.
  const N = 75;
  const all = Array.from({ length: N }, (_, i) => `old message #${i + 1}`);
  await storeTexts(
    t.server,
    dm.id,
    "seed",
    all.map((text, i) => ({ from: i % 3 ? alice.userId : bob.userId, text })),
  );

  const b = await chatTab(t, bob, DESKTOP);
  await openConv(b, dm.id);
  const texts = async () => (await shown(b)).map((m) => m.text);
  // The newest page first, at the bottom.
  await b.until((sel: string) => document.querySelectorAll(sel).length === 30, [MSG], {
    what: "the newest page of 30",
  });
  assert.deepEqual(await texts(), all.slice(N - 30));

  // Scrolled to the top once: the page before comes in above, and the reader stays where they were
  // (the message that was on top is still in view, not pushed down by the 30 put above it).
  const firstShown = all[N - 30];
  await b.eval(() => {
    document.querySelector('[data-testid="messages"]')!.scrollTop = 0;
  });
  await b.until((sel: string) => document.querySelectorAll(sel).length === 60, [MSG], {
    what: "the second page",
  });
  await pause(150);
  const place = await b.eval(
    (sel: string, text: string) => {
      const box = document.querySelector('[data-testid="messages"]')!;
      const li = [...document.querySelectorAll(sel)].find((e) => e.textContent?.includes(text))!;
      return {
        top: li.getBoundingClientRect().top - box.getBoundingClientRect().top,
        height: box.clientHeight,
      };
    },
    MSG,
    firstShown,
  );
  assert.ok(
    place.top > -60 && place.top < place.height - 20,
    `"${firstShown}" stays in view after the older page came (at ${place.top}px of ${place.height})`,
  );

  // Up to the very first message: scroll to the top again each time a page has come in.
  await b.until(
    (sel: string, first: string, edge: string) => {
      const box = document.querySelector('[data-testid="messages"]')!;
      box.scrollTop = 0;
      return document.querySelector(sel)?.textContent?.includes(first) &&
        box.querySelector(".history-edge")?.textContent === edge;
    },
    [MSG, all[0], tr("en", "chat.noMore")],
    { what: "the first message and the start of the conversation" },
  );
  await pause(300);
  assert.deepEqual(await texts(), all, "every message once, oldest first");
  const seqs = await b.eval(
    (sel: string) =>
      [...document.querySelectorAll<HTMLElement>(sel)].map((e) => Number(e.dataset.seq)),
    MSG,
  );
  assert.equal(new Set(seqs).size, N, "no seq shown twice");
  assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), "in seq order");
});

// ------------------------------------------------------------------------------------------------

/**
 * Types `pinyin` through a simulated IME into the composer and commits `committed`, pressing Enter
 * on the way as the engines do: "during" (Chromium, Firefox: the Enter that picks the candidate
 * comes while composing, isComposing true, keyCode 229), or "after" (Safari: compositionend comes
 * first, then the Enter keydown with isComposing false but keyCode 229). Returns whether the page
 * let each Enter keydown through (not cancelled).
 */
async function composeInPage(
  sel: string,
  pinyin: string,
  committed: string,
  order: "during" | "after",
): Promise<boolean> {
  const el = document.querySelector<HTMLTextAreaElement>(sel)!;
  el.focus();
  // Each key of an IME comes in a task of its own: the page renders in between, as it would.
  const tick = () => new Promise((r) => setTimeout(r, 20));
  const enter = (composing: boolean) => {
    const e = new KeyboardEvent("keydown", {
      key: "Enter",
      code: "Enter",
      bubbles: true,
      cancelable: true,
      isComposing: composing,
    });
    // Not settable through the constructor in every engine.
    Object.defineProperty(e, "keyCode", { get: () => 229 });
    Object.defineProperty(e, "which", { get: () => 229 });
    return el.dispatchEvent(e);
  };
  const input = (composing: boolean, data: string) =>
    el.dispatchEvent(
      new InputEvent("input", {
        bubbles: true,
        isComposing: composing,
        inputType: composing ? "insertCompositionText" : "insertText",
        data,
      }),
    );
  el.dispatchEvent(new CompositionEvent("compositionstart", { bubbles: true, data: "" }));
  for (let i = 1; i <= pinyin.length; i++) {
    const part = pinyin.slice(0, i);
    el.dispatchEvent(new CompositionEvent("compositionupdate", { bubbles: true, data: part }));
    el.value = part;
    input(true, part);
    await tick();
  }
  let through = true;
  if (order === "during") {
    // Enter picks the candidate: the composer holds "ni hao", which must not go.
    through = enter(true);
    await tick();
  }
  el.dispatchEvent(new CompositionEvent("compositionupdate", { bubbles: true, data: committed }));
  el.value = committed;
  input(true, committed);
  el.dispatchEvent(new CompositionEvent("compositionend", { bubbles: true, data: committed }));
  await tick();
  if (order === "after") through = enter(false);
  // Whatever an Enter did shows after a render: give it time.
  await new Promise((r) => setTimeout(r, 300));
  return through;
}

eachEngine(
  "Chinese IME: Enter while composing sends nothing; a plain Enter then sends once",
  async (t) => {
    const { alice, dm, a } = await aliceInDm(t);
    const value = () =>
      a.eval((s: string) => document.querySelector<HTMLTextAreaElement>(s)!.value, COMPOSER);

    for (const order of ["during", "after"] as const) {
      await a.fill(COMPOSER, "");
      const through = await a.eval(composeInPage, COMPOSER, "ni hao", "你好", order);
      assert.equal(await a.count(MSG), 0, `${order}: nothing sent by the IME's Enter`);
      assert.equal(await value(), "你好", `${order}: the composer holds the committed text`);
      assert.ok(through, `${order}: the IME's Enter is left to the IME (not cancelled)`);
    }

    // Now a real Enter: sent once, and the composer is empty.
    await a.press(COMPOSER, "Enter");
    await expectShown(a, [{ text: "你好", mine: true }]);
    assert.equal(await value(), "");
    await pause(500);
    await expectShown(a, [{ text: "你好", mine: true }]);
    assert.deepEqual(await stored(t.server, dm.id), [{ from: alice.userId, text: "你好" }]);
  },
);

// ------------------------------------------------------------------------------------------------

/** Records in the page every state the chat's connection goes through (a drop can be brief). */
function watchConnection(): void {
  const w = window as unknown as { __conn: string[]; __offlineBanner: boolean };
  const chat = document.querySelector<HTMLElement>('[data-testid="chat"]')!;
  w.__conn = [chat.dataset.connection ?? ""];
  w.__offlineBanner = false;
  new MutationObserver(() => {
    const now = chat.dataset.connection ?? "";
    if (w.__conn.at(-1) !== now) w.__conn.push(now);
    if (chat.querySelector('[data-testid="conn-banner"].offline')) w.__offlineBanner = true;
  }).observe(chat, { attributes: true, childList: true, subtree: true });
}

eachEngine(
  "offline: the banner shows, a message written meanwhile goes once when back",
  async (t) => {
    const { alice, dm, a } = await aliceInDm(t);
    await a.eval(watchConnection);

    if (await a.setOffline(true)) {
      // The network is gone: the banner says so within a few seconds (not after a socket timeout).
      await a.waitFor('[data-testid="conn-banner"].offline', { timeout: 5_000 });
      await a.waitFor('[data-testid="chat"][data-connection="offline"]', { state: "attached" });
      // Written offline: it waits, pending.
      const text = "written offline 离线";
      await sendByButton(a, text);
      await a.waitFor(`${MSG}[data-pending="pending"]`);
      await pause(300);
      assert.deepEqual(await stored(t.server, dm.id), [], "nothing reached the server offline");

      await a.setOffline(false);
      // Back: the app reconnects (its backoff may have grown while offline) and sends it once.
      await a.waitFor('[data-testid="chat"][data-connection="online"]', {
        state: "attached",
        timeout: 20_000,
      });
      await expectShown(a, [{ text, mine: true }]);
      await a.waitFor('[data-testid="conn-banner"]', { state: "detached" });
      await pause(500);
      await expectShown(a, [{ text, mine: true }]);
      assert.deepEqual(await stored(t.server, dm.id), [{ from: alice.userId, text }], "sent once");
    } else {
      // WebKit: WebDriver classic has no network emulation (the layer's setOffline says false), so
      // the connection is lost the other way: the server drops Alice's socket. The app shows the
      // banner and reconnects by itself.
      assert.equal(t.engine, "webkit", "only WebKit cannot go offline here");
      let dropped = 0;
      for (const c of t.server.rt.conns) {
        if (c.userId === alice.userId) (c.close(CLOSE.slowConsumer, "test drop"), dropped++);
      }
      assert.equal(dropped, 1, "Alice's one socket");
      await a.until(
        () => {
          const w = window as unknown as { __conn: string[]; __offlineBanner: boolean };
          return w.__offlineBanner && w.__conn.includes("offline");
        },
        [],
        { what: "the offline banner" },
      );
      await a.waitFor('[data-testid="chat"][data-connection="online"]', {
        state: "attached",
        timeout: 20_000,
      });
      await a.waitFor('[data-testid="conn-banner"]', { state: "detached" });
      // Really back: a message goes once.
      const text = "back after the drop";
      await sendByButton(a, text);
      await expectShown(a, [{ text, mine: true }]);
      assert.deepEqual(await stored(t.server, dm.id), [{ from: alice.userId, text }], "sent once");
    }
    const seen = await a.eval(() => (window as unknown as { __conn: string[] }).__conn);
    assert.deepEqual(seen.slice(0, 2), ["online", "offline"], `went offline (${seen.join(" → ")})`);
    assert.equal(seen.at(-1), "online");
  },
  {
    // While offline, the app's reconnect attempts fail; each engine logs that its own way.
    allow: [
      /WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/ws' failed: .*ERR_INTERNET_DISCONNECTED/,
      /can.t establish a connection to the server at ws:\/\/127\.0\.0\.1:\d+\/ws/,
    ],
  },
);

// ------------------------------------------------------------------------------------------------

/** The run test's server clock: real time, unless held at a moment to store a message then. */
let runClock: number | null = null;

eachEngine(
  "a run of one sender's messages shows one avatar and one time (375×812 and desktop)",
  async (t) => {
    const alice = await signUp(t.server);
    const bob = await signUp(t.server);
    const dm = await friendsDm(t.server, alice.userId, bob.userId);
    // Ten minutes ago, one every 20 s: one run of three minutes, so the time at its end is not
    // the one its separator says (a bubble does not repeat its separator's time).
    let start = Date.now() - 10 * 60_000;
    const midnight = new Date().setHours(0, 0, 0, 0);
    // Not across midnight, where the new day would end the run.
    if (start < midnight && start + 9 * 20_000 >= midnight) start = midnight - 4 * 60_000;
    try {
      for (let i = 0; i < 10; i++) {
        runClock = start + i * 20_000;
        await storeTexts(t.server, dm.id, `run${i}`, [
          { from: bob.userId, text: `run message ${i + 1}` },
        ]);
      }
    } finally {
      runClock = null;
    }
    for (const size of [{ width: 375, height: 812 }, DESKTOP]) {
      const a = await chatTab(t, alice, size);
      await openConv(a, dm.id);
      await a.until((sel: string) => document.querySelectorAll(`${sel}:not(.mine)`).length === 10, [
        MSG,
      ]);
      // Alice answers three times in a row: her own run.
      for (const text of ["one", "two", "three"].map((w) => `${w} ${size.width}`)) {
        await sendByButton(a, text);
      }
      await a.until((sel: string) => !document.querySelector(`${sel}[data-pending]`), [MSG]);
      const runs = await a.eval((sel: string) => {
        const all = [...document.querySelectorAll<HTMLElement>(sel)];
        const theirs = all.filter((li) => !li.classList.contains("mine"));
        const mine = all.filter((li) => li.classList.contains("mine"));
        const tops = theirs.map((li) => li.getBoundingClientRect().top);
        return {
          theirs: theirs.length,
          avatars: theirs.filter((li) => li.querySelector(".avatar")).length,
          firstHasAvatar: !!theirs[0]?.querySelector(".avatar"),
          theirTimes: theirs.filter((li) => li.querySelector(".meta time")).length,
          lastTheirsHasTime: !!theirs.at(-1)?.querySelector(".meta time"),
          myStatuses: mine.filter((li) => li.querySelector("[data-status]")).length,
          lastMineHasStatus: !!mine.at(-1)?.querySelector("[data-status]"),
          // Tight: ten one-line bubbles take little more than ten bubbles' height.
          spread: tops.at(-1)! - tops[0],
          bubble: theirs[0].querySelector(".bubble")!.getBoundingClientRect().height,
        };
      }, MSG);
      assert.equal(runs.theirs, 10);
      assert.equal(runs.avatars, 1, `${t.engine} ${size.width}: one avatar for the run`);
      assert.ok(runs.firstHasAvatar, "on the run's first message");
      assert.equal(runs.theirTimes, 1, `${t.engine} ${size.width}: one time for the run`);
      assert.ok(runs.lastTheirsHasTime, "on the run's last message");
      assert.equal(runs.myStatuses, 1, `${t.engine} ${size.width}: one read state for my run`);
      assert.ok(runs.lastMineHasStatus, "on my run's last message");
      assert.ok(
        runs.spread < 9 * runs.bubble * 1.35,
        `${t.engine} ${size.width}: the run is tight (${runs.spread}px for 9 steps of ${runs.bubble}px)`,
      );
      await a.close();
    }
  },
  { server: { now: () => runClock ?? Date.now() } },
);

// ------------------------------------------------------------------------------------------------

eachEngine(
  "the on-screen keyboard: the composer rides above it and the newest message stays in view",
  async (t) => {
    const alice = await signUp(t.server);
    const bob = await signUp(t.server);
    const dm = await friendsDm(t.server, alice.userId, bob.userId);
    await storeTexts(
      t.server,
      dm.id,
      "kb",
      Array.from({ length: 30 }, (_, i) => ({
        from: i % 2 ? alice.userId : bob.userId,
        text: `keyboard message ${i + 1}`,
      })),
    );
    const phone = { width: 375, height: 812 };
    const a = await chatTab(t, alice, phone);
    await openConv(a, dm.id);
    await a.waitForText("keyboard message 30", MSG);
    await a.eval((s: string) => document.querySelector<HTMLElement>(s)!.focus(), COMPOSER);
    /** Where the composer and the newest message are, against the visible height. */
    const layout = () =>
      a.eval(
        (composer: string, msg: string) => {
          const vh = globalThis.visualViewport?.height ?? innerHeight;
          const box = document.querySelector(composer)!.getBoundingClientRect();
          const last = [...document.querySelectorAll(msg)].at(-1)!.getBoundingClientRect();
          const list = document.querySelector('[data-testid="messages"]')!.getBoundingClientRect();
          return {
            vh,
            composerBottom: box.bottom,
            composerTop: box.top,
            lastBottom: last.bottom,
            lastTop: last.top,
            listTop: list.top,
            fontSize: parseFloat(getComputedStyle(document.querySelector(composer)!).fontSize),
          };
        },
        COMPOSER,
        MSG,
      );
    const inView = (l: Awaited<ReturnType<typeof layout>>, what: string) => {
      assert.ok(
        l.composerBottom <= l.vh + 1,
        `${t.engine} ${what}: composer visible (${JSON.stringify(l)})`,
      );
      assert.ok(
        l.lastBottom <= l.composerTop + 1 && l.lastTop >= l.listTop - 1,
        `${t.engine} ${what}: the newest message in view (${JSON.stringify(l)})`,
      );
    };
    /**
     * Waits (a few frames at most: the list's ResizeObserver runs at a rendering update, which a
     * headless WebKit paces slowly) until the composer fits `vh` and the newest message sits above
     * it; the assertions after it then say what is wrong if it never does.
     */
    const settled = (vh: number) =>
      a.until(
        (composer: string, msg: string, h: number) => {
          const box = document.querySelector(composer)!.getBoundingClientRect();
          const last = [...document.querySelectorAll(msg)].at(-1)!.getBoundingClientRect();
          return box.bottom <= h + 1 && last.bottom <= box.top + 1;
        },
        [COMPOSER, MSG, vh],
        { timeout: 3000 },
      ).catch(() => {});
    const before = await layout();
    inView(before, "before");
    // No zoom on focus (iOS zooms into fields under 16 px).
    assert.ok(before.fontSize >= 16, `composer font ${before.fontSize}px`);

    // A keyboard as Safari on iOS has it: only the visual viewport shrinks.
    await a.eval(() => {
      const vv = globalThis.visualViewport!;
      Object.defineProperty(vv, "height", { configurable: true, get: () => 420 });
      vv.dispatchEvent(new Event("resize"));
    });
    await settled(420);
    inView(await layout(), "visual viewport 420px");
    await a.eval(() => {
      const vv = globalThis.visualViewport!;
      delete (vv as unknown as { height?: number }).height;
      vv.dispatchEvent(new Event("resize"));
    });

    // A keyboard as Chrome on Android has it: the whole viewport gets shorter.
    await a.resize({ width: 375, height: 480 });
    await a.until(() => innerHeight < 600);
    await settled(await a.eval(() => innerHeight));
    inView(await layout(), "viewport resized");
  },
);
