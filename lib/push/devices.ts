/**
 * Who gets Web Push, in KV (docs/api.md#push): the server's VAPID keys (made once, at the first
 * start that needs them), each user's subscribed devices (at most DEVICES_MAX, keyed by the hash of
 * the endpoint, so a device subscribing again replaces itself), and the conversations a user
 * muted (免打扰: no push, no in-page notification).
 */
import { keys } from "../kv/keys.ts";
import { fail } from "../errors.ts";
import { sha256 } from "../ids.ts";
import { type Locale } from "../i18n/i18n.ts";
import {
  generateVapidKeys,
  type PushSubscriptionJson,
  validateSubscription,
  type VapidKeys,
} from "./webpush.ts";

/** A device's id: from its endpoint, so that subscribing again replaces the old entry. */
function deviceId(endpoint: string): string {
  return sha256(endpoint).slice(0, 32);
}

/** Devices one user may subscribe. */
export const DEVICES_MAX = 10;
/** Muted conversations listed at most. */
export const MUTES_MAX = 2000;

export interface Device {
  id: string;
  sub: PushSubscriptionJson;
  /** Show the message's text in the notification (off: only who wrote). */
  previews: boolean;
  locale: Locale;
  createdAt: number;
}

/** The server's VAPID keys: read, or made and stored by the first isolate that needs them. */
export async function vapidKeys(kv: Deno.Kv): Promise<VapidKeys> {
  const got = await kv.get<VapidKeys>(keys.vapid());
  if (got.value) return got.value;
  const made = await generateVapidKeys();
  // Two isolates starting at once: the first write wins and both use it.
  await kv.atomic().check({ key: keys.vapid(), versionstamp: null }).set(keys.vapid(), made)
    .commit();
  return (await kv.get<VapidKeys>(keys.vapid())).value!;
}

/** Adds (or refreshes) this device's subscription; at most DEVICES_MAX per user. */
export async function subscribe(
  kv: Deno.Kv,
  user: string,
  raw: unknown,
  opts: { previews: boolean; locale: Locale; now: number; allowHttp?: boolean },
): Promise<Device> {
  let sub: PushSubscriptionJson;
  try {
    sub = validateSubscription(raw, { allowHttp: opts.allowHttp });
  } catch (err) {
    fail(400, "bad_subscription", (err as Error).message, "subscription");
  }
  const id = deviceId(sub.endpoint);
  const device: Device = {
    id,
    sub,
    previews: opts.previews,
    locale: opts.locale,
    createdAt: opts.now,
  };
  // The count and the device in one read; a commit that lost a race with another device of the
  // same user reads again (each round, one of the racers wins), so a burst ends at the cap with
  // "too_many_devices" for the rest, not with "busy" for most of them.
  for (let attempt = 0; attempt < SUBSCRIBE_ATTEMPTS; attempt++) {
    const [count, existing] = await kv.getMany<[number, Device]>([
      keys.pushCount(user),
      keys.pushDevice(user, id),
    ]);
    const n = count.value ?? 0;
    if (!existing.value && n >= DEVICES_MAX) {
      fail(409, "too_many_devices", `At most ${DEVICES_MAX} devices get notifications`);
    }
    const res = await kv.atomic().check(count).check(existing)
      .set(keys.pushDevice(user, id), device)
      .set(keys.pushCount(user), existing.value ? n : n + 1)
      .commit();
    if (res.ok) return device;
  }
  fail(409, "busy", "Try again");
}

/** Rounds a subscribe may lose to the same user's other devices before it answers "busy". */
const SUBSCRIBE_ATTEMPTS = 3 * DEVICES_MAX;

/** Removes a device by its endpoint (or id); true when there was one. */
export async function unsubscribe(
  kv: Deno.Kv,
  user: string,
  endpointOrId: string,
): Promise<boolean> {
  const id = /^[A-Za-z0-9_-]{32}$/.test(endpointOrId) ? endpointOrId : deviceId(endpointOrId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const [dev, count] = await kv.getMany<[Device, number]>([
      keys.pushDevice(user, id),
      keys.pushCount(user),
    ]);
    if (!dev.value) return false;
    const res = await kv.atomic().check(dev).check(count)
      .delete(dev.key)
      .set(keys.pushCount(user), Math.max(0, (count.value ?? 1) - 1))
      .commit();
    if (res.ok) return true;
  }
  return false;
}

/** A user's subscribed devices. */
export async function devicesOf(kv: Deno.Kv, user: string): Promise<Device[]> {
  const out: Device[] = [];
  for await (
    const e of kv.list<Device>({ prefix: keys.pushDevices(user) }, { limit: DEVICES_MAX * 2 })
  ) {
    out.push(e.value);
  }
  return out;
}

/** Mutes (or unmutes) notifications of one conversation for this user. */
export async function setMuted(
  kv: Deno.Kv,
  user: string,
  conv: string,
  muted: boolean,
): Promise<void> {
  if (muted) await kv.set(keys.convMute(user, conv), true);
  else await kv.delete(keys.convMute(user, conv));
}

/** The conversations this user muted. */
export async function mutedConvs(kv: Deno.Kv, user: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: keys.convMutes(user) }, { limit: MUTES_MAX })) {
    out.push(e.key[2] as string);
  }
  return out;
}
