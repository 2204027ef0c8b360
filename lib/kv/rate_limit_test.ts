import assert from "node:assert/strict";
import { withKv } from "./_test_kv.ts";
import { addressKey, hitLimit, releaseSlot } from "./rate_limit.ts";
import { keys } from "./keys.ts";

const LIMIT = { max: 3, windowMs: 60_000 };
// 10 s into a window, so 50 s remain until it resets.
const T0 = 1_000 * 60_000 + 10_000;

Deno.test("hitLimit() allows max events in a window, then refuses", () =>
  withKv(async (kv) => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await hitLimit(kv, "login", "a", LIMIT, T0 + i)).ok, true);
    }
    const over = await hitLimit(kv, "login", "a", LIMIT, T0 + 5);
    assert.equal(over.ok, false);
  }));

Deno.test("hitLimit() says how many seconds remain until the window resets", () =>
  withKv(async (kv) => {
    for (let i = 0; i < 3; i++) await hitLimit(kv, "login", "a", LIMIT, T0);
    assert.equal((await hitLimit(kv, "login", "a", LIMIT, T0)).retryAfter, 50);
    assert.equal((await hitLimit(kv, "login", "a", LIMIT, T0 + 40_500)).retryAfter, 10);
    // Never 0, even in the last millisecond.
    assert.equal((await hitLimit(kv, "login", "a", LIMIT, T0 + 49_999)).retryAfter, 1);
  }));

Deno.test("hitLimit() allows events again once the window has passed", () =>
  withKv(async (kv) => {
    for (let i = 0; i < 4; i++) await hitLimit(kv, "login", "a", LIMIT, T0);
    const blocked = await hitLimit(kv, "login", "a", LIMIT, T0);
    assert.equal(blocked.ok, false);
    const later = await hitLimit(kv, "login", "a", LIMIT, T0 + blocked.retryAfter * 1000);
    assert.equal(later.ok, true);
  }));

Deno.test("hitLimit() counts each bucket and subject separately", () =>
  withKv(async (kv) => {
    for (let i = 0; i < 3; i++) await hitLimit(kv, "login", "a", LIMIT, T0);
    assert.equal((await hitLimit(kv, "login", "a", LIMIT, T0)).ok, false);
    assert.equal((await hitLimit(kv, "login", "b", LIMIT, T0)).ok, true);
    assert.equal((await hitLimit(kv, "register", "a", LIMIT, T0)).ok, true);
  }));

Deno.test("hitLimit() lets exactly max of many concurrent events through", () =>
  withKv(async (kv) => {
    const limit = { max: 5, windowMs: 60_000 };
    const results = await Promise.all(
      Array.from({ length: 12 }, () => hitLimit(kv, "login", "a", limit, T0)),
    );
    assert.equal(results.filter((r) => r.ok).length, 5);
    assert.equal((await kv.get<number>(keys.rate("login", "a", Math.floor(T0 / 60_000)))).value, 5);
  }));

Deno.test("hitLimit() admits exactly max of 600 concurrent callers", () =>
  withKv(async (kv) => {
    const limit = { max: 5, windowMs: 60_000 };
    const results = await Promise.all(
      Array.from({ length: 600 }, () => hitLimit(kv, "login", "burst", limit, T0)),
    );
    assert.equal(results.filter((r) => r.ok).length, 5);
    assert.equal(
      (await kv.get<number>(keys.rate("login", "burst", Math.floor(T0 / 60_000)))).value,
      5,
    );
  }));

Deno.test("hitLimit() does not refuse concurrent callers that are within the limit", () =>
  withKv(async (kv) => {
    const limit = { max: 600, windowMs: 60_000 };
    const results = await Promise.all(
      Array.from({ length: 600 }, () => hitLimit(kv, "login", "many", limit, T0)),
    );
    assert.equal(results.filter((r) => r.ok).length, 600);
    assert.equal(
      (await kv.get<number>(keys.rate("login", "many", Math.floor(T0 / 60_000)))).value,
      600,
    );
  }));

Deno.test("hitLimit() refuses when its write keeps losing to other writers (contention never admits)", () =>
  withKv(async (kv) => {
    // Another host wins every race: each commit finds the counter changed.
    const losing = new Proxy(kv, {
      get(target, prop) {
        if (prop === "atomic") {
          return () => {
            const op = target.atomic();
            op.commit = () => Promise.resolve({ ok: false } as Deno.KvCommitError);
            return op;
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const r = await hitLimit(losing, "login", "a", LIMIT, T0);
    assert.equal(r.ok, false);
    assert.ok(r.retryAfter >= 1);
  }));

Deno.test("releaseSlot() gives a counted event back, once, to the window it was taken in", () =>
  withKv(async (kv) => {
    const taken = [];
    for (let i = 0; i < 3; i++) taken.push(await hitLimit(kv, "login", "a", LIMIT, T0));
    assert.equal((await hitLimit(kv, "login", "a", LIMIT, T0)).ok, false);
    await releaseSlot(kv, taken[0].slot!);
    assert.equal((await hitLimit(kv, "login", "a", LIMIT, T0)).ok, true, "room again");
    // A slot from the last window leaves the new window's count alone.
    const next = T0 + LIMIT.windowMs;
    for (let i = 0; i < 3; i++) await hitLimit(kv, "login", "a", LIMIT, next);
    await releaseSlot(kv, taken[1].slot!);
    assert.equal((await hitLimit(kv, "login", "a", LIMIT, next)).ok, false);
  }));

Deno.test("releaseSlot() never takes a counter below zero", () =>
  withKv(async (kv) => {
    const r = await hitLimit(kv, "login", "a", LIMIT, T0);
    await releaseSlot(kv, r.slot!);
    await releaseSlot(kv, r.slot!);
    const key = keys.rate("login", "a", Math.floor(T0 / 60_000));
    assert.equal((await kv.get<number>(key)).value ?? 0, 0);
  }));

Deno.test("addressKey() counts an IPv6 /64 as one address and keeps IPv4 addresses apart", () => {
  assert.equal(addressKey("203.0.113.7"), "203.0.113.7");
  assert.notEqual(addressKey("203.0.113.7"), addressKey("203.0.113.8"));
  assert.equal(addressKey("::ffff:203.0.113.7"), "203.0.113.7");
  assert.equal(addressKey("2001:db8:1:2:aaaa::1"), addressKey("2001:db8:1:2:ffff:1:2:3"));
  assert.equal(addressKey("2001:DB8:1:2::9"), "2001:db8:1:2::/64");
  assert.notEqual(addressKey("2001:db8:1:2::1"), addressKey("2001:db8:1:3::1"));
  assert.equal(addressKey("::1"), "0:0:0:0::/64");
  // Anything else (a forged forwarding header) is bounded, so it always fits in a KV key.
  assert.ok(addressKey("x".repeat(5000)).length <= 80);
  assert.equal(addressKey("unknown"), "unknown");
});
