/** /api/me: the logged-in user's own account, profile, avatar and feedback. */
import { Hono } from "hono";
import type { Env } from "../../lib/state.ts";
import { readJson, requireUser, str } from "../../lib/body.ts";
import { toPublic } from "../../lib/users.ts";
import { removeAvatar, setAvatar, updateProfile } from "../../lib/profile.ts";
import { HttpError } from "../../lib/http_error.ts";
import { AVATAR_MAX_BYTES } from "../../lib/images.ts";
import { submitFeedback } from "../../lib/feedback.ts";
import { enforce, LIMITS_RATE } from "../../lib/accounts.ts";

export const meApi = new Hono<Env>();

meApi.get("/", (c) => {
  const { user } = requireUser(c);
  return c.json({ user: { ...toPublic(user), email: user.email, locale: user.locale } });
});

meApi.patch("/", async (c) => {
  const { user } = requireUser(c);
  const b = await readJson(c);
  const input: Record<string, string> = {};
  for (const f of ["nickname", "gender", "region", "bio", "website"]) if (f in b) input[f] = str(b, f);
  const next = await updateProfile(c.var.deps.kv, user.id, input);
  return c.json({ ok: true, user: toPublic(next) });
});

/** The body is the picture itself (any Content-Type: the bytes decide). */
meApi.put("/avatar", async (c) => {
  const { user } = requireUser(c);
  const declared = Number(c.req.header("Content-Length") ?? "0");
  if (declared > AVATAR_MAX_BYTES) throw new HttpError(413, "image_too_big", "Image is too large", { params: { max: "5 MB" } });
  const bytes = await readLimited(c.req.raw, AVATAR_MAX_BYTES);
  const next = await setAvatar(c.var.deps.kv, user.id, bytes);
  return c.json({ ok: true, user: toPublic(next) });
});

meApi.delete("/avatar", async (c) => {
  const { user } = requireUser(c);
  const next = await removeAvatar(c.var.deps.kv, user.id);
  return c.json({ ok: true, user: toPublic(next) });
});

meApi.post("/feedback", async (c) => {
  const { user } = requireUser(c);
  const { kv, mailer, config } = c.var.deps;
  await enforce(kv, "feedback", `user:${user.id}`, LIMITS_RATE.feedbackUser, Date.now());
  const b = await readJson(c);
  await submitFeedback({ kv, mailer, adminEmail: config.adminEmail }, user, {
    message: str(b, "message"),
    userAgent: c.req.header("User-Agent") ?? "",
  });
  return c.json({ ok: true }, 201);
});

/** Reads a body, stopping with 413 as soon as it passes `max` bytes. */
async function readLimited(req: Request, max: number): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array();
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of req.body) {
    total += chunk.length;
    if (total > max) throw new HttpError(413, "image_too_big", "Image is too large", { params: { max: "5 MB" } });
    parts.push(chunk);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
