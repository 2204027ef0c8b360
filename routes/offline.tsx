/**
 * /offline: the page the service worker (islands/sw.ts) shows for a page it cannot fetch. It is
 * cached once on install and then stands in for any URL, for every visitor: so it names no one,
 * has no header with links that need the network, and says everything in both languages.
 */
import { Hono } from "hono";
import { renderToString } from "preact-render-to-string";
import type { Env } from "../lib/http/state.ts";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import { Island } from "../components/Island.tsx";
import OfflineRetry from "../islands/OfflineRetry.tsx";

export const offlinePage = new Hono<Env>();

/** Where the worker finds it in its cache. */
export const OFFLINE_URL = "/offline";

const BOTH: readonly Locale[] = ["en", "zh-CN"];

offlinePage.get("/", (c) => {
  const { assets } = c.var.deps;
  const both = (key: Parameters<typeof t>[1]) => BOTH.map((l) => t(l, key)).join(" · ");
  const html = renderToString(
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />
        <meta name="color-scheme" content="light dark" />
        <meta name="robots" content="noindex" />
        <title>{`${both("offline.title")} · ${t("en", "app.name")}`}</title>
        <link rel="stylesheet" href={`/static/app.css?v=${assets.version}`} />
        <link rel="icon" href="/static/icon.svg" type="image/svg+xml" />
        {assets.bootUrl && <script type="module" nonce={c.var.nonce} src={assets.bootUrl}></script>}
      </head>
      <body>
        <main class="main">
          <section class="card narrow offline-page" data-testid="offline">
            <img src="/static/icon.svg" alt="" width={64} height={64} />
            {BOTH.map((l) => (
              <div lang={l} key={l}>
                <h1>{t(l, "offline.title")}</h1>
                <p class="muted">{t(l, "offline.text")}</p>
              </div>
            ))}
            <Island of={OfflineRetry} props={{ label: both("offline.retry") }} />
          </section>
        </main>
      </body>
    </html>,
  );
  return c.html("<!doctype html>" + html);
});
