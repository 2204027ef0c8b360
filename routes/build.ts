/** /_build/:hash/:name: the island bundles (scripts/build.ts), cached for good (hash-named). */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { HttpError } from "../lib/errors.ts";

export const bundles = new Hono<Env>();

bundles.get("/:hash/:name", async (c) => {
  const bytes = await c.var.deps.assets.readBuilt(c.req.param("hash"), c.req.param("name"));
  if (!bytes) throw new HttpError(404, "not_found", "Not found");
  return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
    "Content-Type": "text/javascript; charset=utf-8",
    "Cache-Control": "public, max-age=31536000, immutable",
  });
});
