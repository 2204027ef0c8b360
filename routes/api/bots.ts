/**
 * /api/bots: a user's own bots (docs/bots.md): make one (its token is in this answer only), list
 * them, rename, describe, point the webhook somewhere, rotate or revoke the token. Changing the
 * token closes the bot's open sockets on every isolate.
 */
import { Hono } from "hono";
import type { Env } from "../../lib/http/state.ts";
import { body, readJson, readUpload } from "../../lib/http/body.ts";
import { AVATAR_MAX_BYTES, imageTooBig } from "../../lib/media/images.ts";
import { removeAvatar, setAvatar } from "../../lib/accounts/profile.ts";
import { toPublic } from "../../lib/accounts/users.ts";
import { requireUser } from "../../lib/http/access.ts";
import { str } from "../../lib/http/fields.ts";
import { botView, createBot, editBot, listBots, ownBot, setToken } from "../../lib/bots/bots.ts";
import { hitLimit } from "../../lib/kv/rate_limit.ts";
import { HttpError } from "../../lib/errors.ts";

export const botsApi = new Hono<Env>();

botsApi.get("/", body.none, async (c) => {
  const { user } = requireUser(c);
  const bots = await listBots(c.var.deps.kv, user.id);
  return c.json({ bots: bots.map(botView) });
});

botsApi.post("/", body.json, async (c) => {
  const { user } = requireUser(c);
  const b = readJson(c);
  const { kv } = c.var.deps;
  // Counted before anything is written: a script cannot mint usernames without end.
  const limit = await hitLimit(kv, "bot_create", user.id, { max: 30, windowMs: 3600_000 });
  if (!limit.ok) {
    throw new HttpError(429, "rate_limited", "Too many bots made; try again later", {
      retryAfter: limit.retryAfter,
    });
  }
  const { bot, token } = await createBot(kv, user, {
    username: str(b, "username"),
    name: str(b, "name"),
    description: str(b, "description"),
  }, c.var.deps.now?.());
  return c.json({ bot: botView(bot), token }, 201);
});

botsApi.patch("/:id", body.json, async (c) => {
  const { user } = requireUser(c);
  const b = readJson(c);
  const { kv, rt, config } = c.var.deps;
  const opt = (name: string) => (b[name] === undefined ? undefined : str(b, name));
  const bot = await editBot(kv, user.id, c.req.param("id"), {
    name: opt("name"),
    description: opt("description"),
    webhookUrl: opt("webhookUrl"),
  }, config.outbound.allow.length > 0);
  rt.webhooks.forget(bot.id);
  return c.json({ bot: botView(bot) });
});

botsApi.post("/:id/token", body.none, async (c) => {
  const { user } = requireUser(c);
  const { kv, rt } = c.var.deps;
  const bot = await ownBot(kv, user.id, c.req.param("id"));
  const token = await setToken(kv, user.id, bot.id, "rotate");
  await rt.endSessions(bot.id);
  return c.json({ token });
});

botsApi.delete("/:id/token", body.none, async (c) => {
  const { user } = requireUser(c);
  const { kv, rt } = c.var.deps;
  const bot = await ownBot(kv, user.id, c.req.param("id"));
  await setToken(kv, user.id, bot.id, "revoke");
  await rt.endSessions(bot.id);
  return c.json({ ok: true });
});

/** The bot's picture: the same intake as a person's (re-encoded, metadata stripped). */
botsApi.put("/:id/avatar", body.upload(AVATAR_MAX_BYTES, imageTooBig), async (c) => {
  const { user } = requireUser(c);
  const { kv } = c.var.deps;
  const bot = await ownBot(kv, user.id, c.req.param("id"));
  const next = await setAvatar(kv, bot.id, await readUpload(c));
  return c.json({ ok: true, user: toPublic(next) });
});

botsApi.delete("/:id/avatar", body.none, async (c) => {
  const { user } = requireUser(c);
  const { kv } = c.var.deps;
  const bot = await ownBot(kv, user.id, c.req.param("id"));
  const next = await removeAvatar(kv, bot.id);
  return c.json({ ok: true, user: toPublic(next) });
});
