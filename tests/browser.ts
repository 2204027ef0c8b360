/** Browser test support: Debian's Chromium driven by playwright-core (never a downloaded browser). */
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import assert from "node:assert/strict";
import { CHROMIUM_FLAGS, chromiumPath } from "./chromium.ts";
import { startTestServer, type TestServer } from "./helpers.ts";

export { CHROMIUM_FLAGS, chromiumPath };

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

export async function launchBrowser(): Promise<Browser> {
  const executablePath = await chromiumPath();
  if (!executablePath) {
    throw new Error("Chromium not found: install Debian's chromium or set CHROMIUM_PATH");
  }
  return await chromium.launch({
    executablePath,
    args: [...CHROMIUM_FLAGS, "--disable-quic"],
  });
}

/** A context at phone or desktop size, in the given UI language. */
export async function newContext(
  browser: Browser,
  size: typeof PHONE,
  locale = "en-US",
): Promise<BrowserContext> {
  return await browser.newContext({
    viewport: size,
    locale,
    isMobile: size === PHONE,
    hasTouch: size === PHONE,
    deviceScaleFactor: 1,
  });
}

/** Console errors and uncaught exceptions of a page; `allow` skips expected ones. */
export function watchConsole(page: Page, allow: RegExp[] = []): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    const text = m.text();
    const csp = /Content Security Policy|Refused to/i.test(text);
    if ((m.type() === "error" || csp) && !allow.some((re) => re.test(text))) {
      problems.push(`${m.type()} on ${page.url()}: ${text}`);
    }
  });
  page.on("pageerror", (err) => problems.push(`pageerror on ${page.url()}: ${err.message}`));
  return problems;
}

/**
 * Waits until every island on the page has hydrated. A page still being parsed may not hold its
 * islands yet (a click that navigates returns once the new page has started).
 */
export async function hydrated(page: Page): Promise<void> {
  await page.waitForFunction(() =>
    document.readyState !== "loading" &&
    [...document.querySelectorAll<HTMLElement>("[data-island]")].every((el) =>
      el.dataset.hydrated === "1"
    )
  );
}

/** A browser context at `size`, logged in as `who` (their session cookie), failing fast (10 s). */
export async function loggedIn(
  browser: Browser,
  server: { url(path: string): string },
  who: { client: { cookies: Map<string, string> } },
  size: typeof PHONE,
  locale = "en-US",
): Promise<BrowserContext> {
  const ctx = await newContext(browser, size, locale);
  ctx.setDefaultTimeout(10_000);
  await ctx.addCookies(
    [...who.client.cookies].map(([name, value]) => ({ name, value, url: server.url("/") })),
  );
  return ctx;
}

/** What a browser test gets: a fresh server, Chromium, and a list for each page's console problems. */
export interface BrowserTest {
  server: TestServer;
  browser: Browser;
  /** Push `watchConsole(page)` here: the test fails if any page logged an error. */
  problems: string[][];
}

/**
 * Runs `fn` with a fresh server and browser, checks that no watched page logged an error, and
 * always closes both.
 */
export async function withBrowser(
  fn: (t: BrowserTest) => Promise<void>,
  opts: Parameters<typeof startTestServer>[0] = {},
): Promise<void> {
  const server = await startTestServer(opts);
  const browser = await launchBrowser();
  const problems: string[][] = [];
  try {
    await fn({ server, browser, problems });
    assert.deepEqual(problems.flat(), [], "no console errors");
  } finally {
    await browser.close();
    await server.close();
  }
}
