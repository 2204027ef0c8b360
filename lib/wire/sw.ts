/**
 * What the service worker (islands/sw.ts) is told by the server (routes/sw.ts), and the one rule
 * that decides how it answers a request. Pure, so the rule is tested without a browser.
 */

/** Written by GET /sw.js in front of the worker's script as `const HC_BUILD = {…};`. */
export interface WorkerBuild {
  /** The build's version: names the cache, so a new deploy starts a new one. */
  version: string;
  /** Fetched into the cache on install: the offline page, styles, icons, the island bundles. */
  precache: string[];
  /** The page shown for a navigation the network cannot answer. */
  offline: string;
}

/**
 * - `pass`: the worker stays out of it (the browser fetches as if there were no worker);
 * - `network`: a page: from the network, or the offline page when there is none;
 * - `cache`: a file that only changes with a new build: from the cache, else fetched and kept.
 */
export type CacheRule = "pass" | "network" | "cache";

/**
 * Never answered from a cache, not even as a page: per-user data and live connections (the API,
 * the WebSocket, uploaded pictures and avatars, which need the session's rights checked each
 * time), the worker's own script, and the server's own endpoints.
 */
export const NEVER_CACHED: readonly string[] = [
  "/api/",
  "/ws",
  "/media/",
  "/avatars/",
  "/sw.js",
  "/healthz",
  "/metrics",
  "/dev/",
];

/** Immutable per build (the hash is in the path, or the version in the cache's name). */
const CACHED: readonly string[] = ["/_build/", "/static/", "/manifest.webmanifest"];

/** Whether `path` is `prefix`, or below it when the prefix ends with "/". */
function under(path: string, prefix: string): boolean {
  return prefix.endsWith("/")
    ? path.startsWith(prefix)
    : path === prefix || path.startsWith(prefix + "/");
}

/** How the worker answers a request of the page at `origin`. */
export function cacheRule(
  req: { method: string; url: string; mode: string },
  origin: string,
): CacheRule {
  if (req.method !== "GET") return "pass";
  const url = new URL(req.url);
  if (url.origin !== origin) return "pass";
  if (NEVER_CACHED.some((p) => under(url.pathname, p))) return "pass";
  if (req.mode === "navigate") return "network";
  if (CACHED.some((p) => under(url.pathname, p))) return "cache";
  return "pass";
}
