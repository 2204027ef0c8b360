/**
 * Emoji, pictures and the installable app in each engine (Chromium, Firefox, WebKit), written
 * once: Alice on a phone and Bob on a desktop, friends, in their DM; then the service worker,
 * the manifest and the offline page, at both sizes.
 *
 * What no engine here can show: push notifications (no push service and no permission prompt in
 * a headless or automated browser) and the install prompt (no engine shows it under automation;
 * tests/browser_pwa_test.ts asks Chromium for its installability instead).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import sharp from "sharp";
import { friendsDm, signUp } from "./helpers.ts";
import { DESKTOP, eachEngine, type EngineTest, PHONE, type Size, type Tab } from "./engines.ts";

const ONLINE = '[data-testid="chat"][data-connection="online"]';

/** A PNG of one colour, `width`×`height`. */
function png(width: number, height: number, rgb: [number, number, number]): Promise<Buffer> {
  const [r, g, b] = rgb;
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } }).png()
    .toBuffer();
}

/** The chat page, logged in and connected, with the DM open. */
async function openDm(tab: Tab, dm: string): Promise<void> {
  await tab.goto("/");
  await tab.waitFor(ONLINE, { state: "attached" });
  await tab.click(`[data-conv="${dm}"]`);
  await tab.waitFor(".conv-view");
  await tab.waitFor('[data-testid="composer"]');
}

/** Waits until the last picture matching `selector` has loaded; its natural size. */
function loadedImage(tab: Tab, selector: string): Promise<{ w: number; h: number }> {
  return tab.until(
    (sel: string) => {
      const img = [...document.querySelectorAll<HTMLImageElement>(sel)].pop();
      return img && img.complete && img.naturalWidth > 0
        ? { w: img.naturalWidth, h: img.naturalHeight }
        : null;
    },
    [selector],
    { what: `${selector} loaded`, timeout: 15_000 },
  ).then((size) => size!);
}

/** Opens the last picture matching `button` in the viewer, checks it whole, closes with Escape. */
async function viewAndClose(tab: Tab, button: string, width: number): Promise<void> {
  await tab.click(button);
  await tab.waitFor('[data-testid="viewer"]');
  const whole = await tab.until(
    () => {
      const img = document.querySelector<HTMLImageElement>('[data-testid="viewer-image"]');
      return img && img.complete && img.naturalWidth > 0 ? img.naturalWidth : 0;
    },
    [],
    { what: "the viewer's picture loaded", timeout: 15_000 },
  );
  assert.equal(whole, width, `${tab.engine}: the viewer shows the picture whole`);
  // The viewer takes the keyboard: its close button has the focus.
  assert.equal(
    await tab.eval(() => document.activeElement?.getAttribute("data-testid") ?? null),
    "viewer-close",
  );
  await tab.press('[data-testid="viewer-close"]', "Escape");
  await tab.waitFor('[data-testid="viewer"]', { state: "detached" });
}

/**
 * Pastes a picture into the composer the way a browser does: a `paste` event whose clipboardData
 * holds the file. Where the engine's ClipboardEvent constructor drops `clipboardData`, a plain
 * "paste" Event carries the DataTransfer instead. Says which it took, and whether the app took
 * the paste (it cancels the event then, so no text is pasted).
 */
function pastePicture(tab: Tab, b64: string): Promise<{ how: string; taken: boolean }> {
  return tab.eval((data: string) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], "pasted.png", { type: "image/png" }));
    const box = document.querySelector<HTMLTextAreaElement>('[data-testid="composer"]')!;
    box.focus();
    let ev: Event | null = null;
    let how = "ClipboardEvent";
    try {
      const ce = new ClipboardEvent("paste", {
        clipboardData: dt,
        bubbles: true,
        cancelable: true,
      });
      if (ce.clipboardData?.files.length === 1) ev = ce;
    } catch { /* no such constructor: below */ }
    if (!ev) {
      how = "Event + defineProperty";
      ev = new Event("paste", { bubbles: true, cancelable: true });
      Object.defineProperty(ev, "clipboardData", { value: dt });
    }
    box.dispatchEvent(ev);
    return { how, taken: ev.defaultPrevented };
  }, b64);
}

eachEngine(
  "emoji and pictures in a DM: picked, sent, shown large; a picture chosen, one pasted, both opened",
  async (t: EngineTest) => {
    const alice = await signUp(t.server);
    const bob = await signUp(t.server);
    const dm = await friendsDm(t.server, alice.userId, bob.userId);
    const dir = await Deno.makeTempDir({ prefix: "engines-rich-" });
    try {
      const photo = `${dir}/photo.png`;
      await Deno.writeFile(photo, await png(640, 480, [51, 102, 204]));
      const pasted = (await png(300, 200, [230, 80, 40])).toString("base64");

      // Alice on a phone, Bob on a desktop.
      const a = await t.tab({ size: PHONE, cookies: alice.client.cookies });
      await openDm(a, dm.id);
      const b = await t.tab({ size: DESKTOP, cookies: bob.client.cookies });
      await openDm(b, dm.id);

      // Alice opens the picker, finds the panda by name, and sends it alone.
      await a.click('[data-testid="emoji-toggle"]');
      await a.waitFor('[data-testid="emoji-picker"]');
      await a.fill('[data-testid="emoji-search"]', "panda");
      await a.clickText('[data-testid="emoji-grid"] [data-testid="emoji"]', "🐼");
      assert.equal(
        await a.eval(() =>
          document.querySelector<HTMLTextAreaElement>('[data-testid="composer"]')!.value
        ),
        "🐼",
        `${t.engine}: the picked emoji is in the composer`,
      );
      await a.click('[data-testid="send"]');

      // Bob sees it large: the bubble is "jumbo", its text far bigger than a normal message's.
      const big = (await b.until(
        () => {
          const msg = [...document.querySelectorAll('[data-testid="msg"]:not(.mine)')]
            .find((m) => m.querySelector(".text")?.textContent === "🐼");
          const bubble = msg?.querySelector<HTMLElement>(".bubble");
          if (!bubble) return null;
          return {
            jumbo: bubble.classList.contains("jumbo"),
            size: parseFloat(getComputedStyle(bubble).fontSize),
            base: parseFloat(getComputedStyle(document.documentElement).fontSize),
          };
        },
        [],
        { what: "Alice's 🐼 at Bob's" },
      ))!;
      assert.ok(big.jumbo, `${t.engine}: an emoji-only message is marked jumbo`);
      assert.ok(big.size >= 2 * big.base, `${t.engine}: shown large (${big.size}px)`);
      // Picking again would add to the text: Alice closes the picker with Escape.
      await a.press('[data-testid="emoji-search"]', "Escape");
      await a.waitFor('[data-testid="emoji-picker"]', { state: "detached" });

      // Alice picks a photo with the file input: it goes on its own, Bob's copy loads.
      await a.setFiles('[data-testid="file-input"]', [photo]);
      const fromAlice = '[data-testid="msg"]:not(.mine) [data-testid="media-image"] img';
      const seen = await loadedImage(b, fromAlice);
      assert.ok(
        Math.abs(seen.w / seen.h - 640 / 480) < 0.02,
        `${t.engine}: Bob sees Alice's photo (${seen.w}×${seen.h})`,
      );

      // Bob pastes a picture into his composer; the app takes the paste and Alice gets it.
      const paste = await pastePicture(b, pasted);
      assert.ok(paste.taken, `${t.engine}: the composer took the pasted picture (${paste.how})`);
      const got = await loadedImage(a, fromAlice);
      assert.ok(
        Math.abs(got.w / got.h - 300 / 200) < 0.02,
        `${t.engine}: Alice sees Bob's pasted picture (${got.w}×${got.h}, by ${paste.how})`,
      );
      assert.equal(
        await b.eval(() =>
          document.querySelector<HTMLTextAreaElement>('[data-testid="composer"]')!.value
        ),
        "",
        "nothing pasted as text",
      );

      // Each opens the other's picture whole; Escape closes the viewer.
      const button = '[data-testid="msg"]:not(.mine) [data-testid="media-image"]';
      await viewAndClose(b, button, 640);
      await viewAndClose(a, button, 300);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/**
 * The installable app at a size: the manifest the page links (and its content type), the service
 * worker that takes the page, and, where the engine can take the network away here, the offline
 * page that stands in for any page and the chat's own offline banner, and the way back.
 */
const installable = (size: Size) => async (t: EngineTest) => {
  const who = await signUp(t.server);
  const tab = await t.tab({ size, cookies: who.client.cookies });
  await tab.goto("/");
  await tab.waitFor(ONLINE, { state: "attached" });

  // Every engine: the manifest of the page's language, served as a manifest, naming the app.
  const head = await tab.eval(async () => {
    const href = document.querySelector('head link[rel="manifest"]')?.getAttribute("href") ?? "";
    const res = await fetch(href);
    const m = await res.json() as { name: string; start_url: string; display: string };
    return {
      href,
      status: res.status,
      type: res.headers.get("content-type"),
      name: m.name,
      start: m.start_url,
      display: m.display,
      apple: document.querySelector('head link[rel="apple-touch-icon"]')?.getAttribute("href"),
      theme: document.querySelector('head meta[name="theme-color"]')?.getAttribute("content"),
      secure: isSecureContext,
      sw: "serviceWorker" in navigator,
    };
  });
  assert.deepEqual(head, {
    href: "/manifest.webmanifest?lang=en",
    status: 200,
    type: "application/manifest+json; charset=utf-8",
    name: "HappyChat",
    start: "/",
    display: "standalone",
    apple: "/static/apple-touch-icon.png",
    theme: "#07c160",
    secure: true,
    // All three engines here have service workers, WebKitGTK's MiniBrowser too (an engine built
    // without them would stop here, with the checks above).
    sw: true,
  }, `${t.engine}: the manifest and the head's app tags`);

  // Push notifications and the install prompt are not checked in any engine: headless and
  // automated browsers here have no push service, ask no permission and offer no install.

  // The worker registers (islands/sw_register.ts, after the page's load) and becomes active.
  const active = await tab.eval(() =>
    Promise.race([
      navigator.serviceWorker.ready.then((r) => r.active?.scriptURL ?? "no active worker"),
      new Promise<string>((r) => setTimeout(() => r("not ready after 15 s"), 15_000)),
    ])
  );
  assert.equal(active, t.server.url("/sw.js"), `${t.engine}: the service worker is active`);
  // It precached the offline page; from the next load on, it controls the page.
  const cached = await tab.eval(async () =>
    !!await caches.match("/offline", { ignoreSearch: true })
  );
  assert.ok(cached, `${t.engine}: the offline page is in the worker's cache`);
  await tab.goto("/");
  await tab.waitFor(ONLINE, { state: "attached" });
  assert.equal(
    await tab.eval(() => navigator.serviceWorker.controller?.scriptURL ?? null),
    t.server.url("/sw.js"),
    `${t.engine}: the worker controls the page after a reload`,
  );

  if (!await tab.setOffline(true)) {
    // WebKit here: WebDriver classic has no network emulation and WebKitWebDriver no extension
    // for it, so neither the offline page nor the chat's offline banner can be reached; the
    // manifest and the worker above are what WebKit can show.
    assert.equal(t.engine, "webkit", "only WebKit cannot go offline here");
    return;
  }
  // Firefox: WebDriver BiDi's emulation.setNetworkConditions (puppeteer's setOfflineMode) takes
  // the network from the tab only, not from its service worker, whose fetch of a page still
  // reaches the server: a page loaded "offline" is the real page there, never the offline page.
  // So Firefox shows the chat's offline banner and the worker's cache, not the offline page.
  const workerOffline = t.engine !== "firefox";
  try {
    // The open chat says it lost the network at once ("offline" event), and keeps its screen.
    await tab.waitFor('[data-testid="chat"][data-connection="offline"]', { state: "attached" });
    await tab.waitForText("Offline. Reconnecting…", '[data-testid="conn-banner"]');
    // The build's files still come (from the worker's cache); the API does not, from anywhere.
    // A few tries, a moment apart: the engine may take the network from the page and from its
    // worker one after the other. Every try is in the message if none comes out right.
    const tries: string[] = [];
    for (let i = 0; i < 5; i++) {
      const got = await tab.eval(async () => ({
        icon: await fetch("/static/icon-512.png").then((r) => r.status, (e) => String(e)),
        api: await fetch("/api/me").then((r) => r.status, () => "failed"),
      }));
      tries.push(JSON.stringify(got));
      if (got.icon === 200 && got.api === "failed") break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(
      tries.at(-1),
      JSON.stringify({ icon: 200, api: "failed" }),
      `${t.engine}: offline, files from the cache and the API never: ${tries.join(", ")}`,
    );

    if (workerOffline) {
      // A page loaded while offline is the worker's offline page, at the URL asked for.
      await tab.goto("/contacts");
      await tab.waitFor('[data-testid="offline"]');
      const offline = await tab.eval(() => ({
        path: location.pathname,
        text: document.querySelector<HTMLElement>('[data-testid="offline"]')!.innerText,
        // Its styles and icon came from the cache too.
        bg: getComputedStyle(document.body).backgroundColor,
        icon: document.querySelector<HTMLImageElement>(".offline-page img")?.naturalWidth ?? 0,
      }));
      assert.equal(offline.path, "/contacts", `${t.engine}: the offline page stands in`);
      assert.match(offline.text, /You're offline/);
      assert.match(offline.text, /你已离线/);
      assert.equal(offline.bg, "rgb(242, 243, 245)", `${t.engine}: app.css applies offline`);
      assert.ok(offline.icon > 0, `${t.engine}: the icon shows offline`);
    }
  } finally {
    await tab.setOffline(false);
  }
  if (workerOffline) {
    // Online again, the offline page loads its URL by itself; then the chat connects again.
    await tab.waitFor('[data-testid="add-friends"]', { timeout: 20_000 });
    await tab.goto("/");
  } else {
    // Online again ("online" event), the same chat page reconnects and says so for a moment.
    // Visible at both sizes (it once hid on desktops: chat.css's ".back", the header's back
    // button, is display:none there, and the banner's state was called "back").
    await tab.waitForText("Back online", '[data-testid="conn-banner"].back-online');
  }
  await tab.waitFor(ONLINE, { state: "attached" });
};

// While offline, Chromium logs the request to the API that fails on purpose; nothing else.
const offlineNoise = [/^error: Failed to load resource: net::ERR_INTERNET_DISCONNECTED$/];
eachEngine(
  "the installable app on a phone: manifest, service worker, offline page, back online",
  installable(PHONE),
  {
    allow: offlineNoise,
  },
);
eachEngine(
  "the installable app on a desktop: manifest, service worker, offline page, back online",
  installable(DESKTOP),
  {
    allow: offlineNoise,
  },
);
