/** Browser test support for the group pages: logged-in contexts, page checks, selectors. */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import sharp from "sharp";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { signUp, TestServer } from "./helpers.ts";
import { hydrated, loggedIn, PHONE, watchConsole } from "./browser.ts";
import type { Locale } from "../lib/i18n/i18n.ts";

export const SHOTS = Deno.env.get("SHOTS");
if (SHOTS) await Deno.mkdir(SHOTS, { recursive: true });

export type Person = Awaited<ReturnType<typeof signUp>>;
export type Size = typeof PHONE;

export function as(
  browser: Browser,
  server: TestServer,
  who: Person,
  size: Size,
  locale: Locale,
): Promise<BrowserContext> {
  return loggedIn(browser, server, who, size, locale === "zh-CN" ? "zh-CN" : "en-US");
}

/** Goes to a page, waits for its islands, and checks that it fits and labels its fields. */
export async function visit(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await ready(page);
}

export async function ready(page: Page): Promise<void> {
  await page.waitForLoadState("load");
  await hydrated(page);
  // The page's own content fits the width (the shared header is checked by the accounts test).
  const overflow = await page.evaluate(() =>
    Math.max(
      0,
      ...[...document.querySelectorAll("main *")].map((el) => el.getBoundingClientRect().right),
    ) - document.documentElement.clientWidth
  );
  assert.ok(overflow <= 0.5, `${page.url()} content is wider than the screen by ${overflow}px`);
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLInputElement>("input:not([type=hidden]), select, textarea")]
      .filter((el) => !el.labels?.length && !el.getAttribute("aria-label"))
      .map((el) => el.outerHTML)
  );
  assert.deepEqual(unlabelled, [], `${page.url()} has form fields without a label`);
}

export async function shot(page: Page, name: string) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/groups-${name}.png`, fullPage: true });
}

export const systemTexts = (page: Page) =>
  page.$$eval(".conv-view li.system span", (els) => els.map((e) => e.textContent ?? ""));
export const inList = (id: string) => `[data-testid="conv-list"] [data-conv="${id}"]`;
export const member = (id: string) => `[data-testid="member"][data-user="${id}"]`;

export async function memberAction(page: Page, id: string, action: string): Promise<void> {
  await page.click(`${member(id)} [data-testid="member-menu"]`);
  await page.click(`${member(id)} [data-testid="${action}"]`);
}

export async function pngFile() {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><rect width="200" height="200" fill="#4f46e5"/><circle cx="100" cy="100" r="60" fill="#fde68a"/></svg>`;
  return {
    name: "group.png",
    mimeType: "image/png",
    buffer: await sharp(Buffer.from(svg)).png().toBuffer(),
  };
}

/** `open(ctx, url)`: a new page that reports console problems into `problems`, visited and checked. */
export function opener(problems: string[][]): (ctx: BrowserContext, url: string) => Promise<Page> {
  return async (ctx, url) => {
    const page = await ctx.newPage();
    problems.push(watchConsole(page));
    await visit(page, url);
    return page;
  };
}
