/** /avatars/:id: pictures of users and groups, for logged-in users only. */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { getBlob } from "../lib/kv/blobs.ts";
import { HttpError } from "../lib/errors.ts";

export const avatars = new Hono<Env>();

// Public to logged-in users; served with the stored type and a sandbox CSP.
avatars.get("/:id", async (c) => {
  if (!c.var.user) throw new HttpError(401, "unauthorized", "Log in first");
  const id = c.req.param("id");
  if (!/^[0-9a-z]{20}$/.test(id)) throw new HttpError(404, "not_found", "Not found");
  const blob = await getBlob(c.var.deps.kv, id);
  if (!blob || !blob.meta.type.startsWith("image/")) {
    throw new HttpError(404, "not_found", "Not found");
  }
  return c.body(blob.bytes as Uint8Array<ArrayBuffer>, 200, {
    "Content-Type": blob.meta.type,
    "Cache-Control": "private, max-age=31536000, immutable",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Content-Disposition": `inline; filename="${id}.jpg"`,
  });
});
