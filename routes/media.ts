/**
 * /media/:conv/:id/full and /thumb: a conversation's pictures and files, to its members only
 * (lib/chat/media.ts readMedia). Served with the stored type, nosniff and a sandbox CSP; a file is
 * always a download under its safe name, never shown by the browser.
 */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { HttpError } from "../lib/errors.ts";
import { readMedia } from "../lib/chat/media.ts";

export const media = new Hono<Env>();

media.get("/:conv/:id/:variant", async (c) => {
  if (!c.var.user) throw new HttpError(401, "unauthorized", "Log in first");
  const { conv, id, variant } = c.req.param();
  if (
    !/^[0-9a-z]{1,40}$/.test(conv) || !/^[0-9a-z]{20}$/.test(id) ||
    (variant !== "full" && variant !== "thumb")
  ) {
    throw new HttpError(404, "not_found", "Not found");
  }
  const got = await readMedia(c.var.deps.kv, conv, id, c.var.user.id, variant);
  if (!got) throw new HttpError(404, "not_found", "Not found");
  const { rec, bytes } = got;
  const disposition = rec.kind === "image"
    ? `inline; filename="${id}.webp"`
    : `attachment; filename="${asciiName(rec.name ?? "file")}"; filename*=UTF-8''${
      encodeURIComponent(rec.name ?? "file")
    }`;
  return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
    "Content-Type": rec.type,
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Content-Disposition": disposition,
    "Cache-Control": "private, max-age=31536000, immutable",
  });
});

/** The name for old clients' filename="": printable ASCII only. */
function asciiName(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
}
