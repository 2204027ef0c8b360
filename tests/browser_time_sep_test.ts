/**
 * Time separators in a conversation, in each engine (tests/engines.ts): messages stored at set
 * times by a movable server clock show a centred time above the first, after a pause of five
 * minutes or more and on a new day, in the viewer's language and time zone, and a bubble does not
 * repeat the time its separator says.
 */
import assert from "node:assert/strict";
import { friendsDm, signUp, storeTexts } from "./helpers.ts";
import { DESKTOP, eachEngine, type Tab } from "./engines.ts";
import { timeOf } from "../islands/chat/format.ts";

/** The server's clock: real time, unless a test holds it at a moment to store a message then. */
let held: number | null = null;

const VIEW = ".conv-view [data-testid='messages']";

/** What the open conversation shows, top to bottom: "sep <label>" and "msg <text> [<time>]". */
function rows(tab: Tab): Promise<string[]> {
  return tab.eval(
    (sel: string) =>
      [...document.querySelectorAll<HTMLElement>(`${sel} li.day, ${sel} li.msg`)].map((li) =>
        li.dataset.testid === "time-sep"
          ? `sep ${li.textContent}`
          : `msg ${li.querySelector(".text")?.textContent}${
            li.querySelector(".meta time")
              ? ` [${li.querySelector(".meta time")!.textContent}]`
              : ""
          }`
      ),
    VIEW,
  );
}

eachEngine(
  "time separators: above the first message, after a ten-minute pause and on a new day, in English and Chinese",
  async (t) => {
    const alice = await signUp(t.server);
    const bob = await signUp(t.server);
    const dm = await friendsDm(t.server, alice.userId, bob.userId);
    // Yesterday at 10:00 local time: two messages a minute apart, one ten minutes later, then one
    // today (now).
    const y = new Date();
    y.setDate(y.getDate() - 1);
    y.setHours(10, 0, 0, 0);
    const today = Date.now();
    const seed = [
      { at: y.getTime(), from: bob.userId, text: "first" },
      { at: y.getTime() + 60_000, from: bob.userId, text: "a minute later" },
      { at: y.getTime() + 11 * 60_000, from: alice.userId, text: "ten minutes later" },
      { at: today, from: bob.userId, text: "next day" },
    ];
    try {
      for (const [i, m] of seed.entries()) {
        held = m.at;
        await storeTexts(t.server, dm.id, `sep${i}`, [m]);
      }
    } finally {
      held = null;
    }

    const want = {
      en: [
        "sep Yesterday 10:00 AM",
        "msg first",
        // Bob's run ends a minute after its separator: the bubble says when.
        "msg a minute later [10:01 AM]",
        // A one-message run under its own separator: the time once, in the separator.
        "sep Yesterday 10:11 AM",
        "msg ten minutes later",
        `sep ${timeOf(today, "en")}`,
        "msg next day",
      ],
      "zh-CN": [
        "sep 昨天 10:00",
        "msg first",
        "msg a minute later [10:01]",
        "sep 昨天 10:11",
        "msg ten minutes later",
        `sep ${timeOf(today, "zh-CN")}`,
        "msg next day",
      ],
    } as const;
    for (const locale of ["en", "zh-CN"] as const) {
      const tab = await t.tab({ size: DESKTOP, cookies: alice.client.cookies, locale });
      await tab.goto("/");
      await tab.waitFor('[data-testid="chat"][data-connection="online"]', { state: "attached" });
      await tab.click(`.conv-item[data-conv="${dm.id}"]`);
      await tab.until(
        (sel: string) => document.querySelectorAll(`${sel} li.msg`).length === 4,
        [VIEW],
        { what: "the four messages" },
      );
      assert.equal(await tab.count(`${VIEW} [data-testid="time-sep"]`), 3, `${t.engine} ${locale}`);
      assert.deepEqual(await rows(tab), want[locale], `${t.engine} ${locale}`);
      // Each separator's <time> holds the exact moment of the message under it.
      const stamps = await tab.eval(
        (sel: string) =>
          [...document.querySelectorAll(`${sel} [data-testid="time-sep"] time`)].map((e) =>
            e.getAttribute("datetime")
          ),
        VIEW,
      );
      assert.deepEqual(
        stamps,
        [seed[0], seed[2], seed[3]].map((m) => new Date(m.at).toISOString()),
      );
      await tab.close();
    }
  },
  { server: { now: () => held ?? Date.now() } },
);
