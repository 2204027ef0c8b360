/**
 * One browser layer over the three engines, so that a flow is written once and runs in each:
 *
 * - Chromium: Debian's `chromium`, driven by playwright-core (as the Chromium-only tests are);
 * - Firefox: Debian's `firefox-esr`, driven by puppeteer-core over WebDriver BiDi, headless;
 * - WebKit: Debian's `webkit2gtk-driver` (WebKitWebDriver driving WebKitGTK's MiniBrowser, the
 *   engine of Safari), over WebDriver classic spoken here with fetch; it needs a display, so the
 *   layer starts its own Xvfb (`xvfb`) and gives its number to the driver alone.
 *
 * An engine does only what needs the browser itself: navigate, run a function in the page, click
 * and type with real input events, pick files, go offline, take a screenshot. Everything a flow
 * waits for (a selector, a text, a state) is polled in the page by the shared `Tab` below, the same
 * way in every engine. Selectors are CSS; text is matched in the page.
 */
import assert from "node:assert/strict";
import { type Browser as PwBrowser, chromium, type Page as PwPage } from "playwright-core";
import puppeteer, { type Browser as PpBrowser, type Page as PpPage } from "puppeteer-core";
import { CHROMIUM_FLAGS, chromiumPath } from "./chromium.ts";
import { startTestServer, type TestServer } from "./helpers.ts";
import { say } from "../lib/log.ts";

export type EngineName = "chromium" | "firefox" | "webkit";
export const ENGINES: readonly EngineName[] = ["chromium", "firefox", "webkit"];

export interface Size {
  width: number;
  height: number;
}
export const PHONE: Size = { width: 390, height: 844 };
export const DESKTOP: Size = { width: 1280, height: 800 };

export const FIREFOX_PATH = "/usr/bin/firefox-esr";
export const WEBKIT_DRIVER = "/usr/bin/WebKitWebDriver";
export const MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

/** A key the flows press. */
export type Key = "Enter" | "Escape" | "Tab" | "Backspace";

/** What one engine's page can do; everything else is built on these in `Tab`. */
interface Driver {
  goto(url: string): Promise<void>;
  /** Runs `(${fn})(...args)` in the page and returns its JSON-able result (awaited). */
  run<T>(fn: string, args: unknown[]): Promise<T>;
  /** A real click in the middle of the first element that matches. */
  click(selector: string): Promise<void>;
  /** Focuses the element and types `text` key by key. */
  type(selector: string, text: string): Promise<void>;
  press(selector: string, key: Key): Promise<void>;
  setFiles(selector: string, paths: string[]): Promise<void>;
  /** False when this engine cannot take the network away here. */
  setOffline(offline: boolean): Promise<boolean>;
  /** A new viewport size (WebKit: the window's, less the MiniBrowser's bars). */
  resize(size: Size): Promise<void>;
  screenshot(path: string): Promise<void>;
  /** Console errors and uncaught exceptions seen so far. */
  problems(): Promise<string[]>;
  close(): Promise<void>;
}

interface TabOptions {
  size: Size;
  /** The UI language, by the app's own `lang` cookie (the same in every engine). */
  locale?: "en" | "zh-CN";
  /** Session cookies of a user logged in through the API (`signUp(...).client.cookies`). */
  cookies?: Map<string, string>;
}

interface EngineDriver {
  readonly name: EngineName;
  open(origin: string, cookies: [string, string][], size: Size): Promise<Driver>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- Chromium (playwright-core)

class ChromiumEngine implements EngineDriver {
  readonly name = "chromium";
  constructor(private browser: PwBrowser) {}
  static async launch(): Promise<ChromiumEngine> {
    const executablePath = await chromiumPath();
    if (!executablePath) throw new Error("Chromium not found: apt-get install -y chromium");
    return new ChromiumEngine(
      await chromium.launch({ executablePath, args: [...CHROMIUM_FLAGS, "--disable-quic"] }),
    );
  }
  async open(origin: string, cookies: [string, string][], size: Size): Promise<Driver> {
    const phone = size.width < 600;
    const ctx = await this.browser.newContext({
      viewport: size,
      isMobile: phone,
      hasTouch: phone,
      deviceScaleFactor: 1,
    });
    ctx.setDefaultTimeout(10_000);
    await ctx.addCookies(cookies.map(([name, value]) => ({ name, value, url: origin })));
    const page = await ctx.newPage();
    const seen = consoleProblems(page);
    return {
      goto: async (url) => void await page.goto(url),
      run: (fn, args) => page.evaluate(pageCall(fn, args)),
      click: (s) => page.click(s),
      type: async (s, text) => {
        await page.focus(s);
        await page.keyboard.type(text);
      },
      press: (s, key) => page.press(s, key),
      setFiles: (s, paths) => page.setInputFiles(s, paths),
      setOffline: async (off) => (await ctx.setOffline(off), true),
      resize: (size) => page.setViewportSize(size),
      screenshot: async (path) => void await page.screenshot({ path }),
      problems: () => Promise.resolve(seen),
      close: () => ctx.close(),
    };
  }
  close() {
    return this.browser.close();
  }
}

function consoleProblems(page: PwPage | PpPage): string[] {
  const seen: string[] = [];
  // Both libraries name these events and their methods alike.
  const p = page as PwPage;
  p.on("console", (m) => {
    const text = m.text();
    if (m.type() === "error" || /Content Security Policy|Refused to/i.test(text)) {
      seen.push(`${m.type()}: ${text}`);
    }
  });
  p.on("pageerror", (err) => seen.push(`pageerror: ${(err as Error).message}`));
  return seen;
}

// ---------------------------------------------------------------- Firefox (puppeteer-core, BiDi)

class FirefoxEngine implements EngineDriver {
  readonly name = "firefox";
  constructor(private browser: PpBrowser, readonly profile: string) {}
  static async launch(): Promise<FirefoxEngine> {
    // A profile folder of our own, so that it can be removed even when Firefox is killed.
    const profile = await Deno.makeTempDir({ prefix: "hc-firefox-" });
    const browser = await puppeteer.launch({
      browser: "firefox",
      executablePath: FIREFOX_PATH,
      userDataDir: profile,
      headless: true,
      extraPrefsFirefox: {
        // Nothing phones home, no first-run pages.
        "app.update.enabled": false,
        "browser.shell.checkDefaultBrowser": false,
        "datareporting.policy.dataSubmissionEnabled": false,
        "toolkit.telemetry.enabled": false,
        "network.captive-portal-service.enabled": false,
        "network.connectivity-service.enabled": false,
      },
    });
    return new FirefoxEngine(browser, profile);
  }
  get pid(): number {
    return this.browser.process()?.pid ?? 0;
  }
  get connected(): boolean {
    return this.browser.connected;
  }
  async open(origin: string, cookies: [string, string][], size: Size): Promise<Driver> {
    const ctx = await this.browser.createBrowserContext();
    // A window of its own: tabs of one window would be "hidden" but for the last, and the app
    // treats a hidden page as away (no read marks, notifications instead).
    const page = await ctx.newPage({ type: "window" });
    page.setDefaultTimeout(10_000);
    await page.setViewport({ ...size, deviceScaleFactor: 1 });
    if (cookies.length) {
      // On the context: a page's setCookie before its first navigation is lost (about:blank).
      const domain = new URL(origin).hostname;
      await ctx.setCookie(...cookies.map(([name, value]) => ({ name, value, domain, path: "/" })));
    }
    const seen = consoleProblems(page);
    return {
      goto: async (url) => void await page.goto(url),
      run: <T>(fn: string, args: unknown[]) => page.evaluate(pageCall(fn, args)) as Promise<T>,
      click: (s) => page.click(s),
      type: (s, text) => page.type(s, text),
      press: async (s, key) => {
        await page.focus(s);
        await page.keyboard.press(key);
      },
      setFiles: async (s, paths) => {
        const el = await page.$(s);
        if (!el) throw new Error(`no ${s}`);
        await (el as unknown as { uploadFile(...p: string[]): Promise<void> }).uploadFile(...paths);
      },
      setOffline: async (off) => (await page.setOfflineMode(off), true),
      resize: (size) => page.setViewport({ ...size, deviceScaleFactor: 1 }),
      screenshot: async (path) => void await page.screenshot({ path: path as `${string}.png` }),
      problems: () => Promise.resolve(seen),
      close: () => ctx.close(),
    };
  }
  async close() {
    await this.browser.close().catch(() => {});
    await Deno.remove(this.profile, { recursive: true }).catch(() => {});
  }
}

// ---------------------------------------------------------------- WebKit (WebDriver classic)

/** Xvfb for this process, started once: it picks a free display and tells us its number. */
let xvfb: Promise<{ display: string; proc: Deno.ChildProcess }> | null = null;
let xvfbUsers = 0;
function startXvfb() {
  return xvfb ??= (async () => {
    const proc = new Deno.Command("Xvfb", {
      args: ["-displayfd", "1", "-screen", "0", "1400x1000x24", "-nolisten", "tcp"],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = proc.stdout.getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("Xvfb ended before it named its display");
      text += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    proc.stdout.cancel().catch(() => {});
    return { display: `:${text.trim()}`, proc };
  })();
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** WebDriver's key code for each key (the spec's "normalised key value" table). */
const WD_KEYS: Record<Key, string> = {
  Enter: "\uE007",
  Escape: "\uE00C",
  Tab: "\uE004",
  Backspace: "\uE003",
};
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

/** One WebKitWebDriver: it drives one session (one MiniBrowser) at a time, so each tab has its own. */
class WebKitDriverProcess {
  constructor(readonly base: string, private proc: Deno.ChildProcess) {}
  static async start(display: string): Promise<WebKitDriverProcess> {
    const port = freePort();
    const proc = new Deno.Command(WEBKIT_DRIVER, {
      args: [`--port=${port}`, "--host=127.0.0.1"],
      env: { DISPLAY: display },
      stdout: "null",
      stderr: "null",
    }).spawn();
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0;; i++) {
      try {
        const r = await fetch(`${base}/status`);
        await r.body?.cancel();
        if (r.ok) break;
      } catch (err) {
        if (i > 100) throw err;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return new WebKitDriverProcess(base, proc);
  }
  async wd<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await fetch(this.base + path, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const j = await r.json() as { value: T & { error?: string; message?: string } };
    if (!r.ok) throw new Error(`WebDriver ${method} ${path}: ${j.value.error} ${j.value.message}`);
    return j.value;
  }
  async stop(): Promise<void> {
    try {
      this.proc.kill();
    } catch { /* already gone */ }
    await this.proc.status;
  }
}

class WebKitEngine implements EngineDriver {
  readonly name = "webkit";
  private drivers = new Set<WebKitDriverProcess>();
  constructor(private display: string) {}
  static async launch(): Promise<WebKitEngine> {
    const { display } = await startXvfb();
    xvfbUsers++;
    return new WebKitEngine(display);
  }
  async open(origin: string, cookies: [string, string][], size: Size): Promise<Driver> {
    const driver = await WebKitDriverProcess.start(this.display);
    this.drivers.add(driver);
    try {
      return await this.session(driver, origin, cookies, size);
    } catch (err) {
      this.drivers.delete(driver);
      await driver.stop();
      throw err;
    }
  }
  private async session(
    driver: WebKitDriverProcess,
    origin: string,
    cookies: [string, string][],
    size: Size,
  ): Promise<Driver> {
    const wd = <T>(method: string, path: string, body?: unknown) =>
      driver.wd<T>(method, path, body);
    const { sessionId } = await wd<{ sessionId: string }>("POST", "/session", {
      capabilities: {
        alwaysMatch: {
          "webkitgtk:browserOptions": { binary: MINIBROWSER, args: ["--automation"] },
        },
      },
    });
    const s = `/session/${sessionId}`;
    // The window's outer size; the page gets it less the MiniBrowser's own bars.
    await wd("POST", `${s}/window/rect`, size);
    if (cookies.length) {
      // A cookie is set for the page's own origin: visit a small page of it first.
      await wd("POST", `${s}/url`, { url: `${origin}/healthz` });
      for (const [name, value] of cookies) {
        await wd("POST", `${s}/cookie`, { cookie: { name, value, path: "/" } });
      }
    }
    const find = async (selector: string) => {
      const el = await wd<Record<string, string>>("POST", `${s}/element`, {
        using: "css selector",
        value: selector,
      });
      return el[ELEMENT];
    };
    const run = <T>(fn: string, args: unknown[]) =>
      wd<T>("POST", `${s}/execute/async`, {
        script: `const done = arguments[arguments.length - 1];
          Promise.resolve((${fn}).apply(null, ${JSON.stringify(args)}))
            .then((v) => done({ ok: v === undefined ? null : v }), (e) => done({ err: String(e && e.stack || e) }));`,
        args: [],
      }).then((r) => {
        const res = r as { ok?: T; err?: string };
        if (res.err !== undefined) throw new Error(`in the page: ${res.err}`);
        return res.ok as T;
      });
    /** Errors are caught by a listener put in each page as soon as it is there. */
    const collect = () =>
      run<string[]>(
        `() => { const w = window; const out = w.__problems ? w.__problems.splice(0) : [];
          if (!w.__problems) { w.__problems = [];
            addEventListener("error", (e) => w.__problems.push("pageerror: " + e.message));
            addEventListener("unhandledrejection", (e) => w.__problems.push("pageerror: " + (e.reason && e.reason.message || e.reason)));
            addEventListener("securitypolicyviolation", (e) => w.__problems.push("csp: " + e.violatedDirective + " " + e.blockedURI));
            const err = console.error; console.error = (...a) => { w.__problems.push("error: " + a.join(" ")); err.apply(console, a); };
          } return out; }`,
        [],
      ).catch(() => [] as string[]);
    const seen: string[] = [];
    return {
      goto: async (url) => {
        seen.push(...await collect());
        await wd("POST", `${s}/url`, { url });
        seen.push(...await collect());
      },
      run,
      click: async (sel) => void await wd("POST", `${s}/element/${await find(sel)}/click`, {}),
      type: async (sel, text) => {
        await wd("POST", `${s}/element/${await find(sel)}/value`, { text });
      },
      press: async (sel, key) => {
        await wd("POST", `${s}/element/${await find(sel)}/value`, { text: WD_KEYS[key] });
      },
      setFiles: async (sel, paths) => {
        await wd("POST", `${s}/element/${await find(sel)}/value`, { text: paths.join("\n") });
      },
      // WebDriver classic has no network emulation, and WebKitGTK's driver no extension for it.
      setOffline: () => Promise.resolve(false),
      resize: async (size) => void await wd("POST", `${s}/window/rect`, size),
      screenshot: async (path) => {
        const b64 = await wd<string>("GET", `${s}/screenshot`);
        await Deno.writeFile(path, Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
      },
      problems: async () => [...seen, ...await collect()],
      close: async () => {
        await wd("DELETE", s).catch(() => {});
        this.drivers.delete(driver);
        await driver.stop();
      },
    };
  }
  async close() {
    for (const d of this.drivers) await d.stop();
    this.drivers.clear();
    if (--xvfbUsers === 0 && xvfb) {
      const { proc } = await xvfb;
      xvfb = null;
      try {
        proc.kill();
      } catch { /* already gone */ }
      await proc.status;
    }
  }
}

/** The expression that calls a function's source with JSON-able arguments. */
function pageCall(fn: string, args: unknown[]): string {
  return `(${fn}).apply(null, ${JSON.stringify(args)})`;
}

/**
 * Firefox takes 6–8 s to start here (a new profile each time), three times its share of a short
 * flow, so the Firefox tests of one file share one Firefox: each tab is still a browser context of
 * its own (cookies, storage, cache and service workers apart), and every test has its own server
 * on its own port. It closes after the file's last Firefox test (counted as eachEngine registers
 * them), and is killed when the file's process ends sooner (a --filter, a failure).
 */
class SharedFirefox {
  /** Firefox tests this file registered, and how many have started. */
  planned = 0;
  #started = 0;
  #engine: Promise<FirefoxEngine> | null = null;
  #live: FirefoxEngine | null = null;

  constructor() {
    globalThis.addEventListener("unload", () => {
      const live = this.#live;
      if (!live) return;
      try {
        if (live.pid) Deno.kill(live.pid, "SIGKILL");
        Deno.removeSync(live.profile, { recursive: true });
      } catch { /* gone already */ }
    });
  }

  async take(): Promise<FirefoxEngine> {
    this.#started++;
    const current = await this.#engine?.catch(() => null);
    if (current?.connected) return current;
    // None yet, or the last one crashed or failed to start: a new one.
    await current?.close();
    this.#engine = FirefoxEngine.launch();
    this.#live = await this.#engine;
    return this.#live;
  }

  /** After a test: closes Firefox once no Firefox test of this file is left to run. */
  async release(): Promise<void> {
    if (this.#started < this.planned) return;
    const engine = await this.#engine?.catch(() => null);
    this.#engine = this.#live = null;
    await engine?.close();
  }
}
const sharedFirefox = new SharedFirefox();

export async function launchEngine(name: EngineName): Promise<EngineDriver> {
  switch (name) {
    case "chromium":
      return await ChromiumEngine.launch();
    case "firefox":
      return await FirefoxEngine.launch();
    case "webkit":
      return await WebKitEngine.launch();
  }
}

// ---------------------------------------------------------------- the shared verbs

export interface WaitOptions {
  timeout?: number;
}

/** A page in one engine, with the verbs the flows use. */
export class Tab {
  constructor(
    readonly engine: EngineName,
    readonly size: Size,
    private d: Driver,
    private origin: string,
  ) {}

  get phone(): boolean {
    return this.size.width < 600;
  }

  /** Opens a path of the app and waits until its islands have hydrated. */
  async goto(path: string): Promise<void> {
    await this.d.goto(new URL(path, this.origin).href);
    await this.hydrated();
  }

  async hydrated(): Promise<void> {
    await this.until(() =>
      document.readyState !== "loading" &&
      [...document.querySelectorAll<HTMLElement>("[data-island]")].every((el) =>
        el.dataset.hydrated === "1"
      )
    );
  }

  /** Runs a function in the page. It must not close over anything: pass what it needs as args. */
  eval<A extends unknown[], T>(fn: (...args: A) => T | Promise<T>, ...args: A): Promise<T> {
    return this.d.run<T>(fn.toString(), args);
  }

  /**
   * Runs a function body given as source (a library to put in the page, say) the way `eval` runs
   * a function: as the engine's own script, not under the page's CSP.
   */
  evalSource<T>(body: string): Promise<T> {
    return this.d.run<T>(`function () {\n${body}\n}`, []);
  }

  /** Polls `fn` in the page until it returns something truthy, and returns that. */
  async until<A extends unknown[], T>(
    fn: (...args: A) => T,
    args = [] as unknown as A,
    opts: WaitOptions & { what?: string } = {},
  ): Promise<T> {
    const end = Date.now() + (opts.timeout ?? 10_000);
    let last: unknown;
    for (;;) {
      try {
        const v = await this.d.run<T>(fn.toString(), args);
        if (v) return v;
        last = v;
      } catch (err) {
        // A navigation in between ends the page the call ran in: try again on the new one.
        last = err;
      }
      if (Date.now() > end) {
        throw new Error(
          `${this.engine}: timed out waiting for ${opts.what ?? fn.toString().slice(0, 200)}` +
            ` (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for a selector: visible (the default), merely in the page, or gone. */
  async waitFor(
    selector: string,
    opts: WaitOptions & { state?: "visible" | "enabled" | "attached" | "detached" } = {},
  ): Promise<void> {
    const state = opts.state ?? "visible";
    await this.until(
      (sel: string, st: string) => {
        const el = document.querySelector<HTMLElement>(sel);
        if (st === "detached") return !el;
        if (!el) return false;
        if (st === "attached") return true;
        const r = el.getBoundingClientRect();
        const shown = r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden";
        return shown && (st !== "enabled" || !(el as HTMLButtonElement).disabled);
      },
      [selector, state],
      { ...opts, what: `${selector} ${state}` },
    );
  }

  /** Waits until an element matching `selector` (visible) has `text` in it. */
  async waitForText(text: string, selector = "body", opts: WaitOptions = {}): Promise<void> {
    await this.until(
      (sel: string, t: string) =>
        [...document.querySelectorAll<HTMLElement>(sel)].some((el) =>
          el.offsetParent !== null && (el.innerText ?? el.textContent ?? "").includes(t)
        ),
      [selector, text],
      { ...opts, what: `"${text}" in ${selector}` },
    );
  }

  /** A real click, once the element is visible and not disabled (as a user would wait). */
  async click(selector: string): Promise<void> {
    await this.waitFor(selector, { state: "enabled" });
    await this.d.click(selector);
  }

  /** Clicks the first visible element matching `selector` whose text is `text`. */
  async clickText(selector: string, text: string): Promise<void> {
    const mark = `t${Math.random().toString(36).slice(2)}`;
    await this.until(
      (sel: string, t: string, m: string) => {
        const el = [...document.querySelectorAll<HTMLElement>(sel)].find((e) =>
          e.offsetParent !== null && (e.innerText ?? e.textContent ?? "").trim() === t
        );
        if (!el) return false;
        el.dataset.engineTarget = m;
        return true;
      },
      [selector, text, mark],
      { what: `${selector} "${text}"` },
    );
    await this.d.click(`[data-engine-target="${mark}"]`);
  }

  /** Empties a field and types `text` into it with real key events. */
  async fill(selector: string, text: string): Promise<void> {
    await this.waitFor(selector);
    await this.eval((sel: string) => {
      const el = document.querySelector<HTMLInputElement | HTMLTextAreaElement>(sel)!;
      el.focus();
      el.value = "";
      el.dispatchEvent(new Event("input", { bubbles: true }));
    }, selector);
    if (text) await this.d.type(selector, text);
  }

  /** Types `text` with real key events at the end of what the field holds. */
  async type(selector: string, text: string): Promise<void> {
    await this.waitFor(selector);
    await this.eval((sel: string) => {
      const el = document.querySelector<HTMLInputElement | HTMLTextAreaElement>(sel)!;
      el.focus();
      el.setSelectionRange(el.value.length, el.value.length);
    }, selector);
    await this.d.type(selector, text);
  }

  async press(selector: string, key: Key): Promise<void> {
    await this.waitFor(selector);
    await this.d.press(selector, key);
  }

  setFiles(selector: string, paths: string[]): Promise<void> {
    return this.d.setFiles(selector, paths);
  }

  /** A new viewport size, as when a phone's keyboard takes the lower part of the screen. */
  resize(size: Size): Promise<void> {
    return this.d.resize(size);
  }

  /** Takes the network away (or gives it back); false when this engine cannot here. */
  setOffline(offline: boolean): Promise<boolean> {
    return this.d.setOffline(offline);
  }

  text(selector: string): Promise<string> {
    return this.eval(
      (sel: string) => document.querySelector<HTMLElement>(sel)?.innerText ?? "",
      selector,
    );
  }

  texts(selector: string): Promise<string[]> {
    return this.eval(
      (sel: string) =>
        [...document.querySelectorAll<HTMLElement>(sel)].map((e) => e.innerText ?? ""),
      selector,
    );
  }

  count(selector: string): Promise<number> {
    return this.eval((sel: string) => document.querySelectorAll(sel).length, selector);
  }

  screenshot(path: string): Promise<void> {
    return this.d.screenshot(path);
  }

  problems(): Promise<string[]> {
    return this.d.problems();
  }

  close(): Promise<void> {
    return this.d.close();
  }
}

/** What a flow gets: a fresh server and one engine, and a way to open tabs in it. */
export interface EngineTest {
  engine: EngineName;
  server: TestServer;
  /** A new tab (its own cookie jar) at a size, optionally logged in and in a language. */
  tab(opts: TabOptions): Promise<Tab>;
}

/**
 * Runs `fn` with a fresh server and the engine, fails if a tab logged an error (other than
 * `allow`), and always closes everything.
 */
export async function withEngine(
  engine: EngineName,
  fn: (t: EngineTest) => Promise<void>,
  opts: { allow?: RegExp[]; server?: Parameters<typeof startTestServer>[0] } = {},
): Promise<void> {
  const server = await startTestServer(opts.server ?? {});
  const tabs: Tab[] = [];
  let browser: EngineDriver | null = null;
  try {
    browser = engine === "firefox" ? await sharedFirefox.take() : await launchEngine(engine);
    const b = browser;
    const origin = new URL(server.url("/")).origin;
    await fn({
      engine,
      server,
      tab: async ({ size, locale, cookies }) => {
        const jar = [...(cookies ?? new Map())];
        if (locale) jar.push(["lang", locale]);
        const tab = new Tab(engine, size, await b.open(origin, jar, size), origin);
        tabs.push(tab);
        return tab;
      },
    });
    const problems = (await Promise.all(tabs.map((t) => t.problems()))).flat()
      .filter((p) => !(opts.allow ?? []).some((re) => re.test(p)));
    assert.deepEqual(problems, [], `${engine}: no console errors`);
  } catch (err) {
    // SHOTS=<dir>: what each tab showed when the flow failed.
    const dir = Deno.env.get("SHOTS");
    if (dir) {
      await Deno.mkdir(dir, { recursive: true });
      for (const [i, t] of tabs.entries()) {
        const path = `${dir}/failed-${engine}-${Date.now()}-${i}.png`;
        await t.screenshot(path).then(() => say(`saved ${path}`), () => {});
      }
    }
    throw err;
  } finally {
    for (const t of tabs) await t.close().catch(() => {});
    if (engine === "firefox") await sharedFirefox.release();
    else await browser?.close().catch(() => {});
    await server.close();
  }
}

/** Registers one Deno test per engine for a flow written once. */
export function eachEngine(
  name: string,
  fn: (t: EngineTest) => Promise<void>,
  opts: {
    allow?: RegExp[];
    server?: Parameters<typeof startTestServer>[0];
    /** Fewer engines, where another test already covers the rest. */
    engines?: readonly EngineName[];
  } = {},
): void {
  for (const engine of opts.engines ?? ENGINES) {
    const test = () => withEngine(engine, fn, opts);
    if (engine !== "firefox") {
      Deno.test(`${engine}: ${name}`, test);
      continue;
    }
    sharedFirefox.planned++;
    // The shared Firefox's connection outlives the test (its server and tabs do not).
    Deno.test({
      name: `${engine}: ${name}`,
      sanitizeOps: false,
      sanitizeResources: false,
      fn: test,
    });
  }
}
