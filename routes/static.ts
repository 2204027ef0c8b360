/**
 * /static/*: the files in static/ (styles, icons, the manifest), cached for an hour. Their names
 * carry no hash, so a strong ETag (SHA-1 of the content) lets a browser revalidate with a 304.
 */
import { Hono } from "hono";
import { etag } from "hono/etag";
import type { Env } from "../lib/http/state.ts";
import { serveStatic } from "hono/deno";

export const staticFiles = new Hono<Env>();

staticFiles.use(
  "/*",
  async (c, next) => {
    await next();
    // A 304 repeats the caching rule of the 200 it stands for.
    if (c.res.ok || c.res.status === 304) c.header("Cache-Control", "public, max-age=3600");
  },
  etag(),
  serveStatic({ root: "./" }),
);
