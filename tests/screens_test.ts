/**
 * The pictures of the main screens in docs/screens/ (docs/README links them), made here so that
 * they show the app as it is: phone (375 × 812, touch) and desktop (1280 × 800), Chinese and
 * English. Every run takes them and checks each one; `deno task screens` (UPDATE_SCREENS=1) also
 * writes them into docs/screens/, otherwise they go to a temporary folder.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { friendsGroup, newUserInput, signUp, storeTexts, type TestServer } from "./helpers.ts";
import { hydrated, watchConsole, withBrowser } from "./browser.ts";

const OUT = Deno.env.get("UPDATE_SCREENS") === "1"
  ? new URL("../docs/screens/", import.meta.url).pathname
  : `${await Deno.makeTempDir({ prefix: "screens-" })}/`;

type Locale = "zh-CN" | "en";
const PHONE = { width: 375, height: 812 };
const DESKTOP = { width: 1280, height: 800 };

/** The server's clock, held at set moments while the story's messages are stored. */
let held: number | null = null;

interface Story {
  me: Awaited<ReturnType<typeof signUp>>;
  group: string;
}

/** A weekend plan in a group of three, some of it an hour ago, the rest just now. */
async function story(server: TestServer): Promise<Story> {
  const person = (nickname: string, prefix: string) =>
    signUp(server, { ...newUserInput(prefix), nickname });
  const hourAgo = Date.now() - 60 * 60_000;
  // The accounts and the group are made a little before the chat starts. (No emoji in the
  // chat: a machine without a colour emoji font draws them as empty boxes.)
  held = hourAgo - 10 * 60_000;
  const me = await person("小明 Ming", "ming");
  const fang = await person("王芳 Fang", "fang");
  const lei = await person("李雷 Lei", "lei");
  const group =
    (await friendsGroup(server, me.userId, "周末爬山 Hiking", [fang.userId, lei.userId])).id;
  const lines: { from: string; text: string; at: number }[] = [
    { from: fang.userId, text: "周六去香山吗？Fragrant Hills on Saturday?", at: hourAgo },
    { from: fang.userId, text: "天气预报说是晴天", at: hourAgo + 20_000 },
    { from: lei.userId, text: "我可以！I'm in", at: hourAgo + 90_000 },
    { from: me.userId, text: "好呀，几点出发？", at: hourAgo + 30 * 60_000 },
    { from: me.userId, text: "What time do we leave?", at: hourAgo + 30 * 60_000 + 15_000 },
    { from: fang.userId, text: "早上八点，地铁站见", at: Date.now() - 60_000 },
    { from: lei.userId, text: "好的 OK", at: Date.now() - 30_000 },
  ];
  try {
    for (const [i, m] of lines.entries()) {
      held = m.at;
      await storeTexts(server, group, `story${i}`, [m]);
    }
  } finally {
    held = null;
  }
  return { me, group };
}

/** Takes one picture and checks it: a JPEG of the screen's size with something on it. */
async function shoot(page: Page, name: string): Promise<void> {
  await hydrated(page);
  // The fonts and the avatars' images are in, and no transition is half-way.
  await page.evaluate(() => document.fonts.ready);
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() =>
    document.documentElement.scrollWidth - document.documentElement.clientWidth
  );
  assert.ok(overflow <= 0, `${name}: scrolls sideways by ${overflow}px`);
  const path = `${OUT}${name}.jpg`;
  await page.screenshot({ path, type: "jpeg", quality: 80 });
  const bytes = await Deno.readFile(path);
  assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff], `${name}: a JPEG`);
  // A blank screen compresses to a few kB; a screen with the app on it does not.
  assert.ok(bytes.length > 12_000, `${name}: only ${bytes.length} bytes, blank?`);
}

async function screens(browser: Browser, server: TestServer, s: Story, locale: Locale) {
  const problems: string[][] = [];
  const open = async (size: typeof PHONE) => {
    const ctx = await browser.newContext({
      viewport: size,
      isMobile: size === PHONE,
      hasTouch: size === PHONE,
      deviceScaleFactor: 1,
      locale,
      reducedMotion: "reduce",
    });
    await ctx.addCookies(
      [...s.me.client.cookies, ["lang", locale] as const].map(([name, value]) => ({
        name,
        value,
        url: server.url("/"),
      })),
    );
    const page = await ctx.newPage();
    problems.push(watchConsole(page));
    return { ctx, page };
  };
  const lang = locale === "en" ? "en" : "zh";
  const online = '[data-testid="chat"][data-connection="online"]';

  const phone = await open(PHONE);
  await phone.page.goto(server.url("/"));
  await phone.page.waitForSelector(online, { state: "attached" });
  await phone.page.waitForSelector('[data-testid="tab-unread"]');
  await shoot(phone.page, `phone-chats-${lang}`);
  await phone.page.goto(server.url(`/?c=${s.group}`));
  await phone.page.waitForSelector(online, { state: "attached" });
  await phone.page.waitForSelector('.conv-view [data-testid="msg"] >> nth=6');
  await shoot(phone.page, `phone-chat-${lang}`);
  await phone.page.goto(server.url("/contacts"));
  await phone.page.waitForSelector('[data-testid="add-friends"]');
  await shoot(phone.page, `phone-contacts-${lang}`);
  await phone.page.goto(server.url("/me"));
  await phone.page.waitForSelector('[data-testid="me-card"]');
  await shoot(phone.page, `phone-me-${lang}`);
  await phone.ctx.close();

  const desk = await open(DESKTOP);
  await desk.page.goto(server.url(`/?c=${s.group}`));
  await desk.page.waitForSelector(online, { state: "attached" });
  await desk.page.waitForSelector('.conv-view [data-testid="msg"] >> nth=6');
  await shoot(desk.page, `desktop-chat-${lang}`);
  await desk.ctx.close();
  assert.deepEqual(problems.flat(), [], "no console errors");
}

Deno.test("the main screens at phone and desktop size, in Chinese and English", async () => {
  await Deno.mkdir(OUT, { recursive: true });
  await withBrowser(async ({ server, browser }) => {
    const s = await story(server);
    for (const locale of ["zh-CN", "en"] as const) await screens(browser, server, s, locale);
  }, { now: () => held ?? Date.now() });
  const names = [...Deno.readDirSync(OUT)].map((e) => e.name).filter((n) => n.endsWith(".jpg"));
  for (const lang of ["zh", "en"]) {
    for (
      const screen of ["phone-chats", "phone-chat", "phone-contacts", "phone-me", "desktop-chat"]
    ) {
      assert.ok(names.includes(`${screen}-${lang}.jpg`), `${screen}-${lang}.jpg`);
    }
  }
});
