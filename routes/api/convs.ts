/**
 * /api/convs: what a conversation holds besides its log.
 *
 * POST /api/convs/:id/media?kind=image|file&name=…: a picture or file for a conversation, before
 * the message that carries it (docs/api.md#media). The body is the bytes themselves; what they
 * are is decided by their first bytes, never by a name or Content-Type.
 */
import { Hono } from "hono";
import type { Env } from "../../lib/http/state.ts";
import { body, readUpload } from "../../lib/http/body.ts";
import { requireUser } from "../../lib/http/access.ts";
import { HttpError } from "../../lib/errors.ts";
import { hitLimit, releaseSlot, tooMany } from "../../lib/kv/rate_limit.ts";
import { FILE_MAX_BYTES, fileTooBig, mediaField, storeMedia } from "../../lib/chat/media.ts";
import { getMember } from "../../lib/chat/conversations.ts";

/** Uploads per user and hour: every one is bytes kept in KV. */
export const UPLOADS_PER_HOUR = { max: 60, windowMs: 60 * 60_000 };

export const convsApi = new Hono<Env>();

convsApi.post("/:id/media", body.upload(FILE_MAX_BYTES, fileTooBig), async (c) => {
  const { user } = requireUser(c);
  const { kv } = c.var.deps;
  const conv = c.req.param("id");
  const kind = c.req.query("kind");
  if (kind !== "image" && kind !== "file") {
    throw new HttpError(400, "bad_kind", 'Query "kind" must be "image" or "file"');
  }
  if (!/^[0-9a-z]{1,40}$/.test(conv) || !await getMember(kv, conv, user.id)) {
    throw new HttpError(404, "not_member", `Not a member of conversation "${conv.slice(0, 40)}"`);
  }
  // Counted before the bytes are read or decoded; a refused upload is given back.
  const now = c.var.deps.now?.() ?? Date.now();
  const taken = await hitLimit(kv, "upload", `user:${user.id}`, UPLOADS_PER_HOUR, now);
  if (!taken.ok) throw tooMany(taken.retryAfter);
  try {
    const bytes = await readUpload(c);
    if (!bytes.length) throw new HttpError(400, "empty_upload", "The upload is empty");
    const rec = await storeMedia(kv, user.id, conv, kind, bytes, c.req.query("name") ?? "");
    return c.json(mediaField(rec), 201);
  } catch (err) {
    await releaseSlot(kv, taken.slot!);
    throw err;
  }
});
