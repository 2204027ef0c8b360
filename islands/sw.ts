/**
 * The service worker. scripts/build.ts bundles it alone into _build/sw.js (a classic script: no
 * imports left), and GET /sw.js (routes/sw.ts) serves it behind `const HC_BUILD = {…};`, the
 * build's version and what to precache (lib/wire/sw.ts `WorkerBuild`). A new build is a new
 * script, so the browser installs a new worker; islands/sw_register.ts lets the user switch.
 *
 * It keeps one cache per build: the offline page, styles, icons and the island bundles, fetched
 * on install; files of the build are answered from it; pages come from the network, or the
 * offline page without one. Everything else (the API, /ws, uploads, avatars, other methods) it
 * never touches: `cacheRule()` decides.
 */
import { cacheRule, type WorkerBuild } from "../lib/wire/sw.ts";

declare const HC_BUILD: WorkerBuild;

// deno.json's "lib" is the page's (dom), which has no worker scope: the parts used here.
interface ExtendableEvent extends Event {
  waitUntil(work: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(answer: Promise<Response>): void;
}
interface WorkerScope {
  readonly location: Location;
  skipWaiting(): Promise<void>;
  addEventListener(type: "install" | "activate", fn: (e: ExtendableEvent) => void): void;
  addEventListener(type: "fetch", fn: (e: FetchEvent) => void): void;
  addEventListener(type: "message", fn: (e: MessageEvent) => void): void;
}

const sw = self as unknown as WorkerScope;
const PREFIX = "happychat-";
const CACHE = PREFIX + HC_BUILD.version;

sw.addEventListener("install", (e) => {
  // All or nothing: a file that fails (a deploy in between) fails the install, and the next
  // page load tries the newer worker. Around the HTTP cache, which may hold an older copy.
  e.waitUntil(
    caches.open(CACHE).then((cache) =>
      cache.addAll(HC_BUILD.precache.map((url) => new Request(url, { cache: "reload" })))
    ),
  );
  // No skipWaiting() here: a new version waits until the page's banner says so (SKIP_WAITING),
  // so an open chat never runs half old code, half new. The first one activates at once anyway.
});

sw.addEventListener("activate", (e) => {
  // No clients.claim(): the page that installed the first worker keeps loading its files itself
  // until its next load; navigations from it already go through the worker (offline page).
  e.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
      }
    })(),
  );
});

sw.addEventListener("message", (e) => {
  if ((e.data as { type?: string } | null)?.type === "SKIP_WAITING") void sw.skipWaiting();
});

sw.addEventListener("fetch", (e) => {
  const rule = cacheRule(e.request, sw.location.origin);
  if (rule === "network") e.respondWith(pageOrOffline(e.request));
  else if (rule === "cache") e.respondWith(fromCache(e));
});

/** A page from the network; the offline page when the network fails (not on an HTTP error). */
async function pageOrOffline(req: Request): Promise<Response> {
  try {
    return await fetch(req);
  } catch (err) {
    const offline = await caches.match(HC_BUILD.offline, { cacheName: CACHE });
    if (offline) return offline;
    throw err;
  }
}

/** A build's file from the cache, else from the network, kept when it is a good answer. */
async function fromCache(e: FetchEvent): Promise<Response> {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(e.request);
  if (hit) return hit;
  const res = await fetch(e.request);
  if (res.ok && res.type === "basic") e.waitUntil(cache.put(e.request, res.clone()));
  return res;
}

// ---- Push notifications: the "push" and "notificationclick" handlers go below this line. ----

interface PushEvent extends ExtendableEvent {
  readonly data: { json(): unknown } | null;
}
interface NotificationClickEvent extends ExtendableEvent {
  readonly notification: { data: unknown; close(): void };
}
interface WindowClientLike {
  readonly url: string;
  focus(): Promise<unknown>;
  navigate(url: string): Promise<unknown>;
}
const push = self as unknown as {
  registration: {
    showNotification(title: string, opts: Record<string, unknown>): Promise<void>;
  };
  clients: {
    matchAll(o: { type: "window"; includeUncontrolled: boolean }): Promise<WindowClientLike[]>;
    openWindow(url: string): Promise<unknown>;
  };
  addEventListener(type: "push", fn: (e: PushEvent) => void): void;
  addEventListener(type: "notificationclick", fn: (e: NotificationClickEvent) => void): void;
};

/** A message for this user while no page of theirs was open (lib/realtime/push.ts sends it). */
push.addEventListener("push", (e) => {
  const data = (e.data?.json() ?? {}) as {
    title?: string;
    body?: string;
    conv?: string;
    url?: string;
  };
  e.waitUntil(
    push.registration.showNotification(data.title || "HappyChat", {
      body: data.body ?? "",
      // One notification per conversation: a newer one replaces it.
      tag: data.conv,
      renotify: true,
      icon: "/static/icon.svg",
      data: { url: data.url ?? "/" },
    }),
  );
});

/** A click opens that conversation: in a chat tab already open, or a new one. */
push.addEventListener("notificationclick", (e) => {
  e.notification.close();
  const url = new URL((e.notification.data as { url?: string })?.url ?? "/", sw.location.origin);
  // Only this app's own pages.
  const target = url.origin === sw.location.origin ? url.href : sw.location.origin + "/";
  e.waitUntil((async () => {
    const open = await push.clients.matchAll({ type: "window", includeUncontrolled: true });
    const tab = open.find((c) => new URL(c.url).origin === sw.location.origin);
    if (tab) {
      await tab.navigate(target);
      await tab.focus();
    } else await push.clients.openWindow(target);
  })());
});
