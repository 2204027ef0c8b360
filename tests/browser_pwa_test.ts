/**
 * The installable app: a manifest in the page's language with icons that load at their sizes,
 * a service worker that takes the page and shows the offline page when the network is gone
 * (the app's files still coming from its cache), and a new version that waits for the banner.
 * What Chromium here cannot show: the install prompt itself (it reports installability instead).
 */
import assert from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import {
  CHROMIUM_FLAGS,
  chromiumPath,
  DESKTOP,
  hydrated,
  loggedIn,
  newContext,
  PHONE,
  watchConsole,
  withBrowser,
} from "./browser.ts";
import { signUp, withServer } from "./helpers.ts";
import { loadAssets } from "../lib/http/assets.ts";

/** Width and height from a PNG's IHDR chunk; throws when the bytes are no PNG. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  assert.deepEqual([...bytes.slice(0, 8)], signature, "a PNG signature");
  assert.equal(new TextDecoder().decode(bytes.slice(12, 16)), "IHDR");
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Waits until the worker is active, then reloads: the page is then controlled by it. */
async function controlled(page: Page): Promise<string> {
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => null));
  await page.reload();
  const url = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null);
  assert.ok(url, "a service worker controls the page after a reload");
  return url;
}

/** The worker's caches, each with the paths (and queries) it holds. */
function cacheContents(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(async () => {
    const out: Record<string, string[]> = {};
    for (const name of await caches.keys()) {
      const keys = await (await caches.open(name)).keys();
      out[name] = keys.map((r) => new URL(r.url).pathname + new URL(r.url).search);
    }
    return out;
  });
}

Deno.test("each page links the manifest of its language, which Chromium reads, with icons that load at their sizes", async () => {
  const css = await Deno.readTextFile(new URL("../static/app.css", import.meta.url));
  await withBrowser(async ({ server, browser, problems }) => {
    for (const [locale, lang, name] of [["en-US", "en", "HappyChat"], ["zh-CN", "zh-CN", "乐聊"]]) {
      const ctx = await newContext(browser, PHONE, locale);
      const page = await ctx.newPage();
      problems.push(watchConsole(page));
      await page.goto(server.url("/"));
      const head = (sel: string, attr: string) => page.getAttribute(`head ${sel}`, attr);
      assert.equal(
        await head('link[rel="manifest"]', "href"),
        `/manifest.webmanifest?lang=${lang}`,
      );
      assert.equal(
        await head('link[rel="apple-touch-icon"]', "href"),
        "/static/apple-touch-icon.png",
      );
      assert.equal(await head('meta[name="apple-mobile-web-app-capable"]', "content"), "yes");
      assert.equal(
        await head('meta[name="apple-mobile-web-app-status-bar-style"]', "content"),
        "default",
      );
      assert.equal(await head('meta[name="apple-mobile-web-app-title"]', "content"), name);
      assert.equal(await head('meta[name="theme-color"]', "content"), "#07c160");

      // What Chromium itself made of the manifest it fetched for the page.
      const cdp = await ctx.newCDPSession(page);
      const got = await cdp.send("Page.getAppManifest") as {
        url: string;
        errors: unknown[];
        data: string;
      };
      assert.equal(got.url, server.url(`/manifest.webmanifest?lang=${lang}`));
      assert.deepEqual(got.errors, [], "Chromium finds nothing wrong with the manifest");
      const m = JSON.parse(got.data);
      assert.equal(m.name, name);
      assert.equal(m.short_name, name);
      assert.equal(m.lang, lang);
      assert.equal(m.id, "/", "one app in both languages");
      assert.equal(m.start_url, "/");
      assert.equal(m.scope, "/");
      assert.equal(m.display, "standalone");
      // The colours are the stylesheet's: the brand for the bars, the page's background.
      assert.equal(m.theme_color, "#07c160");
      assert.ok(css.includes(`--brand: ${m.theme_color};`), "theme_color is app.css's --brand");
      assert.ok(css.includes(`--bg: ${m.background_color};`), "background_color is app.css's --bg");

      const icons = m.icons as { src: string; sizes: string; type: string; purpose: string }[];
      const find = (sizes: string, purpose: string) =>
        icons.find((i) => i.sizes === sizes && i.type === "image/png" && i.purpose === purpose);
      assert.ok(find("192x192", "any"), "a 192 PNG");
      assert.ok(find("512x512", "any"), "a 512 PNG");
      assert.ok(find("512x512", "maskable"), "a maskable 512 PNG");
      assert.ok(icons.some((i) => i.type === "image/svg+xml"), "the SVG");
      const apple = { src: "/static/apple-touch-icon.png", sizes: "180x180", type: "image/png" };
      for (const icon of [...icons, apple]) {
        const res = await page.request.get(server.url(icon.src));
        assert.equal(res.status(), 200, icon.src);
        assert.equal(res.headers()["content-type"]?.split(";")[0], icon.type, icon.src);
        if (icon.type !== "image/png") continue;
        const { width, height } = pngSize(await res.body());
        assert.equal(`${width}x${height}`, icon.sizes, icon.src);
      }
      await ctx.close();
    }
  });
});

Deno.test("Chromium finds the app installable (a normal profile: the test contexts are incognito)", async () => {
  await withServer(async (server) => {
    const dir = await Deno.makeTempDir();
    const ctx = await chromium.launchPersistentContext(dir, {
      executablePath: (await chromiumPath())!,
      args: [...CHROMIUM_FLAGS],
    });
    try {
      const page = await ctx.newPage();
      await page.goto(server.url("/"));
      await page.evaluate(() => navigator.serviceWorker.ready.then(() => null));
      const cdp = await ctx.newCDPSession(page);
      const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
      assert.deepEqual(installabilityErrors, []);
    } finally {
      await ctx.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("the service worker takes the page; offline, any page is the offline page, made of cached files; online again, the app works", async () => {
  const { version, hash } = await loadAssets();
  await withBrowser(async ({ server, browser, problems }) => {
    const who = await signUp(server);
    const ctx = await loggedIn(browser, server, who, DESKTOP);
    const page = await ctx.newPage();
    // Offline, the test's own fetch of the API fails on purpose (it must not come from a cache).
    problems.push(watchConsole(page, [/ERR_INTERNET_DISCONNECTED/]));
    await page.goto(server.url("/"));
    await hydrated(page);
    await page.waitForSelector('[data-connection="online"]');
    assert.equal(await controlled(page), server.url("/sw.js"));
    await page.waitForSelector('[data-connection="online"]');

    // One cache, of this build: the offline page, the styles, icons and bundles; nothing per user.
    const caches = await cacheContents(page);
    assert.deepEqual(Object.keys(caches), [`happychat-${version}`]);
    const kept = caches[`happychat-${version}`];
    for (
      const path of [
        "/offline",
        `/static/app.css?v=${version}`,
        `/static/chat.css?v=${version}`,
        "/static/icon-192.png",
        `/_build/${hash}/_boot.js`,
        `/_build/${hash}/ChatApp.js`,
        `/_build/${hash}/OfflineRetry.js`,
      ]
    ) {
      assert.ok(kept.includes(path), `${path} is precached`);
    }
    const personal = kept.filter((p) => /^\/(api|ws|media|avatars)\b|^\/$|^\/\?/.test(p));
    assert.deepEqual(personal, [], "no API answer, socket, upload, avatar or page is kept");

    await ctx.setOffline(true);
    for (const path of ["/a/page/never/visited", "/contacts"]) {
      await page.goto(server.url(path));
      await page.waitForSelector('[data-testid="offline"]');
      assert.equal(page.url(), server.url(path), "the offline page stands in at the same URL");
      const text = await page.textContent('[data-testid="offline"]');
      assert.match(text ?? "", /You're offline/);
      assert.match(text ?? "", /你已离线/);
      // Its script, island bundle, stylesheet and icon all came from the cache.
      await hydrated(page);
      const looks = await page.evaluate(() => ({
        bg: getComputedStyle(document.body).backgroundColor,
        icon: document.querySelector<HTMLImageElement>(".offline-page img")!.naturalWidth,
      }));
      assert.equal(looks.bg, "rgb(242, 243, 245)", "app.css applies");
      assert.ok(looks.icon > 0, "the icon shows");
    }
    const fetched = await page.evaluate(async () => {
      const icon = await fetch("/static/icon-512.png").then((r) => r.status, () => "failed");
      const api = await fetch("/api/me").then((r) => r.status, () => "failed");
      return { icon, api };
    });
    assert.deepEqual(fetched, { icon: 200, api: "failed" }, "files from the cache, the API never");

    // Back online, the offline page loads its URL again by itself (on "online", or its next try).
    await ctx.setOffline(false);
    await page.waitForSelector('[data-testid="add-friends"]', { timeout: 15_000 });
    await hydrated(page);
    await page.goto(server.url("/"));
    await hydrated(page);
    await page.waitForSelector('[data-connection="online"]');
  });
});

Deno.test("a new version waits until the banner's Reload, then takes over and the page reloads once", async () => {
  const built = await loadAssets();
  // What the server serves; the test swaps in the next build's worker below.
  const assets = { ...built };
  await withBrowser(async ({ server, browser, problems }) => {
    const ctx = await newContext(browser, PHONE, "zh-CN");
    ctx.setDefaultTimeout(10_000);
    const page = await ctx.newPage();
    problems.push(watchConsole(page));
    await page.goto(server.url("/login"));
    await hydrated(page);
    await controlled(page);
    assert.equal(await page.locator('[data-testid="update-banner"]').count(), 0, "none at first");

    // A deploy: another build's worker (its version names a new cache).
    assets.version = "nextbuild001";
    assets.worker = built.worker + "\n// the next build\n";
    await page.reload();
    const banner = page.locator('[data-testid="update-banner"]');
    await banner.waitFor();
    assert.match((await banner.textContent()) ?? "", /新版本已就绪.*刷新/);
    assert.deepEqual(
      Object.keys(await cacheContents(page)).sort(),
      [`happychat-${built.version}`, "happychat-nextbuild001"],
      "the new worker has installed next to the old one, which still runs",
    );

    let loads = 0;
    page.on("load", () => loads++);
    await Promise.all([page.waitForEvent("load"), page.click('[data-testid="update-reload"]')]);
    await hydrated(page);
    await page.waitForTimeout(500); // time for a second reload, which must not come
    assert.equal(loads, 1, "one reload");
    const after = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      return {
        controller: navigator.serviceWorker.controller?.state ?? null,
        waiting: !!reg?.waiting,
        banner: !!document.querySelector('[data-testid="update-banner"]'),
      };
    });
    assert.deepEqual(after, { controller: "activated", waiting: false, banner: false });
    assert.deepEqual(Object.keys(await cacheContents(page)), ["happychat-nextbuild001"]);
  }, { assets });
});
