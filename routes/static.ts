/** /static/*: the files in static/ (styles, icons, the manifest), cached for an hour. */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { serveStatic } from "hono/deno";

export const staticFiles = new Hono<Env>();

staticFiles.use(
  "/*",
  async (c, next) => {
    await next();
    if (c.res.ok) c.header("Cache-Control", "public, max-age=3600");
  },
  serveStatic({ root: "./" }),
);
