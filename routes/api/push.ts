/**
 * /api/push: Web Push for this user (docs/api.md#push). The server's public key (the browser's
 * applicationServerKey), this device's subscription, and the conversations muted for
 * notifications (免打扰).
 */
import { Hono } from "hono";
import type { Env } from "../../lib/http/state.ts";
import { body, readJson } from "../../lib/http/body.ts";
import { requireUser } from "../../lib/http/access.ts";
import { optBool, str } from "../../lib/http/fields.ts";
import { requireMember } from "../../lib/chat/conversations.ts";
import { HttpError } from "../../lib/errors.ts";
import { mutedConvs, setMuted, subscribe, unsubscribe, vapidKeys } from "../../lib/push/devices.ts";

export const pushApi = new Hono<Env>();

pushApi.get("/", body.none, async (c) => {
  const { user } = requireUser(c);
  const { kv } = c.var.deps;
  const [keys, muted] = await Promise.all([vapidKeys(kv), mutedConvs(kv, user.id)]);
  return c.json({ publicKey: keys.publicKey, muted });
});

pushApi.post("/subscriptions", body.json, async (c) => {
  const { user } = requireUser(c);
  const { kv, config, rt } = c.var.deps;
  const b = readJson(c);
  const device = await subscribe(kv, user.id, b.subscription, {
    previews: optBool(b, "previews") ?? false,
    locale: c.var.locale,
    now: rt.now(),
    // Plain http endpoints only where the operator allows private targets (tests on loopback).
    allowHttp: config.outbound.allow.length > 0,
  });
  return c.json({ ok: true, id: device.id, previews: device.previews }, 201);
});

pushApi.delete("/subscriptions", body.json, async (c) => {
  const { user } = requireUser(c);
  const endpoint = str(readJson(c), "endpoint");
  return c.json({ ok: await unsubscribe(c.var.deps.kv, user.id, endpoint) });
});

pushApi.put("/mutes/:conv", body.none, async (c) => {
  const { user } = requireUser(c);
  const { kv } = c.var.deps;
  const conv = c.req.param("conv");
  if (!/^[0-9a-z]{1,40}$/.test(conv)) throw new HttpError(404, "not_found", "No such conversation");
  await requireMember(kv, conv, user.id);
  await setMuted(kv, user.id, conv, true);
  return c.json({ ok: true });
});

pushApi.delete("/mutes/:conv", body.none, async (c) => {
  const { user } = requireUser(c);
  await setMuted(c.var.deps.kv, user.id, c.req.param("conv").slice(0, 40), false);
  return c.json({ ok: true });
});
