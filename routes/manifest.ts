/**
 * /manifest.webmanifest?lang=en|zh-CN: the web app manifest, named in the page's language (the
 * layout links the one of its language; browsers fetch a manifest without cookies). Both have the
 * same `id`, so they describe one app.
 */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { type Locale, t, toLocale } from "../lib/i18n/i18n.ts";

export const manifest = new Hono<Env>();

/** static/icon.svg, and the PNGs scripts/icons.ts draws from it (committed in static/). */
export const ICONS = [
  { src: "/static/icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
  { src: "/static/icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
  {
    src: "/static/icon-maskable-512.png",
    sizes: "512x512",
    type: "image/png",
    purpose: "maskable",
  },
  { src: "/static/icon.svg", sizes: "any", type: "image/svg+xml", purpose: "any" },
] as const;

/** The manifest's URL for a page in `locale` (components/Layout.tsx links it). */
export function manifestUrl(locale: Locale): string {
  return `/manifest.webmanifest?lang=${locale}`;
}

/** The colours are static/app.css's: `--brand` for the bars, `--bg` behind the splash screen. */
export function webManifest(locale: Locale) {
  return {
    id: "/",
    name: t(locale, "app.name"),
    short_name: t(locale, "app.name"),
    description: t(locale, "app.tagline"),
    lang: locale,
    dir: "ltr",
    start_url: "/",
    scope: "/",
    display: "standalone",
    theme_color: "#07c160",
    background_color: "#f2f3f5",
    icons: ICONS,
  };
}

manifest.get("/", (c) => {
  const asked = toLocale(c.req.query("lang"));
  const body = JSON.stringify(webManifest(asked ?? c.var.locale));
  return c.body(body, 200, {
    "Content-Type": "application/manifest+json; charset=utf-8",
    // Without ?lang= the answer follows the visitor's cookie or Accept-Language: not shared.
    "Cache-Control": asked ? "public, max-age=3600" : "no-store",
  });
});
