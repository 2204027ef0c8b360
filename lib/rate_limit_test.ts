import assert from "node:assert/strict";
import { withKv } from "./_test_kv.ts";
import { hitLimit, peekLimit } from "./rate_limit.ts";
import { keys } from "./kv_keys.ts";

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

Deno.test("peekLimit() tells whether an event is allowed without counting one", () =>
  withKv(async (kv) => {
    for (let i = 0; i < 10; i++) {
      assert.equal((await peekLimit(kv, "login", "a", LIMIT, T0)).ok, true);
    }
    for (let i = 0; i < 3; i++) await hitLimit(kv, "login", "a", LIMIT, T0);
    const peek = await peekLimit(kv, "login", "a", LIMIT, T0);
    assert.equal(peek.ok, false);
    assert.equal(peek.retryAfter, 50);
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
