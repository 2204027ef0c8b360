/**
 * /sw.js: the service worker (islands/sw.ts, bundled by scripts/build.ts), behind the build's
 * version and the files to precache (lib/wire/sw.ts `WorkerBuild`). Each build is a different
 * script, so browsers install the new worker after a deploy; `no-cache` makes them ask each time.
 * Served at the root because a worker controls only the URLs under its own path.
 */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import type { Assets } from "../lib/http/assets.ts";
import { HttpError } from "../lib/errors.ts";
import { LOCALES } from "../lib/i18n/i18n.ts";
import type { WorkerBuild } from "../lib/wire/sw.ts";
import { ICONS, manifestUrl } from "./manifest.ts";
import { OFFLINE_URL } from "./offline.tsx";

export const serviceWorker = new Hono<Env>();

/** islands/_boot.ts, an island (islands/Name.tsx) or a chunk they share. */
const PAGE_BUNDLE = /^(_boot|[A-Z][A-Za-z0-9]*|chunk-[A-Z0-9]+)\.js$/;

/**
 * What a build's worker keeps from the start: what the offline page needs, the styles of every
 * page (by the URLs the layout writes), the icons and manifests, and the bundles pages load: the
 * boot script, the islands and their shared chunks. Not the modules loaded on demand (the emoji
 * picker and its data; the bundler names them `<module>-<HASH>.js`): cached on first use.
 */
export function workerBuild(assets: Assets): WorkerBuild {
  const v = assets.version;
  return {
    version: v,
    offline: OFFLINE_URL,
    precache: [
      OFFLINE_URL,
      `/static/app.css?v=${v}`,
      `/static/chat.css?v=${v}`,
      ...ICONS.map((i) => i.src),
      ...LOCALES.map(manifestUrl),
      ...assets.files
        .filter((f) => PAGE_BUNDLE.test(f))
        .map((f) => `/_build/${assets.hash}/${f}`),
    ],
  };
}

serviceWorker.get("/", (c) => {
  const { assets } = c.var.deps;
  if (!assets.worker || !assets.hash) throw new HttpError(404, "not_found", "Not found");
  const build = JSON.stringify(workerBuild(assets));
  return c.body(`const HC_BUILD = ${build};\n${assets.worker}`, 200, {
    "Content-Type": "text/javascript; charset=utf-8",
    "Cache-Control": "no-cache",
  });
});
