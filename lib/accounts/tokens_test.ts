import assert from "node:assert/strict";
import { withKv } from "../kv/_test_kv.ts";
import { consumeToken, issueToken, TOKEN_TTL_MS } from "./tokens.ts";
import { newToken, sha256 } from "../ids.ts";
import { keys } from "../kv/keys.ts";

const T0 = 1_700_000_000_000;

Deno.test("issueToken() makes a 256-bit token and stores only its hash", () =>
  withKv(async (kv) => {
    const token = await issueToken(kv, "activate", "u1", T0);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.ok((await kv.get(keys.emailToken(sha256(token)))).value);
    for await (const e of kv.list({ prefix: [] })) {
      assert.ok(!JSON.stringify([e.key, e.value]).includes(token));
    }
  }));

Deno.test("consumeToken() returns the user once; a second use fails", () =>
  withKv(async (kv) => {
    const token = await issueToken(kv, "activate", "u1", T0);
    assert.equal(await consumeToken(kv, "activate", token, T0 + 1), "u1");
    assert.equal(await consumeToken(kv, "activate", token, T0 + 2), null);
  }));

Deno.test("consumeToken() refuses an activation token after 24 hours", () =>
  withKv(async (kv) => {
    assert.equal(TOKEN_TTL_MS.activate, 24 * 3600_000);
    const fresh = await issueToken(kv, "activate", "u1", T0);
    const stale = await issueToken(kv, "activate", "u1", T0);
    assert.equal(await consumeToken(kv, "activate", fresh, T0 + TOKEN_TTL_MS.activate - 1), "u1");
    assert.equal(await consumeToken(kv, "activate", stale, T0 + TOKEN_TTL_MS.activate), null);
  }));

Deno.test("consumeToken() refuses a reset token after 1 hour", () =>
  withKv(async (kv) => {
    assert.equal(TOKEN_TTL_MS.reset, 3600_000);
    const token = await issueToken(kv, "reset", "u1", T0);
    assert.equal(await consumeToken(kv, "reset", token, T0 + 3600_000 + 1), null);
    assert.equal(await consumeToken(kv, "reset", token, T0), null, "an expired token is gone");
  }));

Deno.test("consumeToken() refuses a token of the other purpose without using it up", () =>
  withKv(async (kv) => {
    const activation = await issueToken(kv, "activate", "u1", T0);
    assert.equal(await consumeToken(kv, "reset", activation, T0), null);
    assert.equal(await consumeToken(kv, "activate", activation, T0), "u1");
    const reset = await issueToken(kv, "reset", "u2", T0);
    assert.equal(await consumeToken(kv, "activate", reset, T0), null);
    assert.equal(await consumeToken(kv, "reset", reset, T0), "u2");
  }));

Deno.test("consumeToken() refuses forged, malformed and non-string tokens", () =>
  withKv(async (kv) => {
    const real = await issueToken(kv, "activate", "u1", T0);
    const forged = [
      newToken(32),
      real.slice(0, -1) + (real.endsWith("A") ? "B" : "A"),
      real + "x",
      "",
      "short",
      "x".repeat(5000),
    ];
    for (const f of forged) {
      assert.equal(await consumeToken(kv, "activate", f, T0), null, `token "${f.slice(0, 50)}"`);
    }
    assert.equal(await consumeToken(kv, "activate", 42 as unknown as string, T0), null);
    assert.equal(await consumeToken(kv, "activate", real, T0), "u1", "the real one still works");
  }));

Deno.test("consumeToken() lets only one of many concurrent uses succeed", () =>
  withKv(async (kv) => {
    const token = await issueToken(kv, "reset", "u1", T0);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => consumeToken(kv, "reset", token, T0)),
    );
    assert.deepEqual(results.filter((r) => r !== null), ["u1"]);
  }));

Deno.test("issueToken() gives independent tokens: using one leaves the other usable", () =>
  withKv(async (kv) => {
    const a = await issueToken(kv, "activate", "u1", T0);
    const b = await issueToken(kv, "activate", "u1", T0);
    assert.notEqual(a, b);
    assert.equal(await consumeToken(kv, "activate", a, T0), "u1");
    assert.equal(await consumeToken(kv, "activate", b, T0), "u1");
  }));
