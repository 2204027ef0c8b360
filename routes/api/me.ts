/** /api/me: the logged-in user's own account, profile, avatar and feedback. */
import { Hono } from "hono";
import type { Env } from "../../lib/http/state.ts";
import { body, readJson, readUpload } from "../../lib/http/body.ts";
import { requireUser } from "../../lib/http/access.ts";
import { str } from "../../lib/http/fields.ts";
import { toPublic } from "../../lib/accounts/users.ts";
import {
  announceProfile,
  removeAvatar,
  setAvatar,
  updateProfile,
} from "../../lib/accounts/profile.ts";
import { AVATAR_MAX_BYTES, imageTooBig } from "../../lib/media/images.ts";
import { submitFeedback } from "../../lib/accounts/feedback.ts";
import { enforce, LIMITS_RATE } from "../../lib/accounts/accounts.ts";

export const meApi = new Hono<Env>();

meApi.get("/", (c) => {
  const { user } = requireUser(c);
  return c.json({ user: { ...toPublic(user), email: user.email, locale: user.locale } });
});

meApi.patch("/", body.json, async (c) => {
  const { user } = requireUser(c);
  const b = readJson(c);
  const input: Record<string, string> = {};
  for (const f of ["nickname", "gender", "region", "bio", "website"]) {
    if (f in b) input[f] = str(b, f);
  }
  const next = await updateProfile(c.var.deps.kv, user.id, input);
  await announceProfile(c.var.deps.rt, user, next);
  return c.json({ ok: true, user: toPublic(next) });
});

/** The body is the picture itself (any Content-Type: the bytes decide). */
meApi.put("/avatar", body.upload(AVATAR_MAX_BYTES, imageTooBig), async (c) => {
  const { user } = requireUser(c);
  const bytes = await readUpload(c);
  const next = await setAvatar(c.var.deps.kv, user.id, bytes);
  await announceProfile(c.var.deps.rt, user, next);
  return c.json({ ok: true, user: toPublic(next) });
});

meApi.delete("/avatar", body.none, async (c) => {
  const { user } = requireUser(c);
  const next = await removeAvatar(c.var.deps.kv, user.id);
  await announceProfile(c.var.deps.rt, user, next);
  return c.json({ ok: true, user: toPublic(next) });
});

meApi.post("/feedback", body.json, async (c) => {
  const { user } = requireUser(c);
  const { kv, mailer, config } = c.var.deps;
  await enforce(kv, "feedback", `user:${user.id}`, LIMITS_RATE.feedbackUser, Date.now());
  const b = readJson(c);
  await submitFeedback({ kv, mailer, adminEmail: config.adminEmail }, user, {
    message: str(b, "message"),
    userAgent: c.req.header("User-Agent") ?? "",
  });
  return c.json({ ok: true }, 201);
});
