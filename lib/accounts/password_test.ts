import assert from "node:assert/strict";
import {
  burnPasswordCheck,
  hashPassword,
  PASSWORD_MAX,
  PASSWORD_MIN,
  passwordProbe,
  passwordProblem,
  passwordWork,
  PBKDF2_ITERATIONS,
  verifyPassword,
} from "./password.ts";
import { HttpError } from "../errors.ts";

// A low cost for the tests that are about the format, not the cost.
const FAST = 1000;

Deno.test("hashPassword() uses PBKDF2-SHA256 with at least 600,000 iterations by default", async () => {
  assert.ok(PBKDF2_ITERATIONS >= 600_000);
  const stored = await hashPassword("correct horse battery");
  const [scheme, iterations, salt, hash] = stored.split("$");
  assert.equal(scheme, "pbkdf2-sha256");
  assert.equal(Number(iterations), PBKDF2_ITERATIONS);
  assert.match(salt, /^[A-Za-z0-9_-]{22}$/, "16-byte salt in base64url");
  assert.match(hash, /^[A-Za-z0-9_-]{43}$/, "256-bit hash in base64url");
  assert.ok(!stored.includes("correct horse"));
});

Deno.test("a test's lower cost (passwordProbe.iterations) applies to new hashes only; a stored hash keeps its own", async () => {
  const real = await hashPassword("correct horse battery", FAST * 2);
  passwordProbe.iterations = FAST;
  try {
    const cheap = await hashPassword("correct horse battery");
    assert.equal(Number(cheap.split("$")[1]), FAST);
    assert.equal(await verifyPassword("correct horse battery", real), true);
    assert.equal(await verifyPassword("correct horse battery", cheap), true);
  } finally {
    passwordProbe.iterations = null;
  }
  const stored = await hashPassword("correct horse battery");
  assert.equal(Number(stored.split("$")[1]), PBKDF2_ITERATIONS, "back to the real cost");
});

Deno.test("verifyPassword() accepts the right password and refuses a wrong one", async () => {
  const stored = await hashPassword("correct horse battery", FAST);
  assert.equal(await verifyPassword("correct horse battery", stored), true);
  assert.equal(await verifyPassword("correct horse batterY", stored), false);
  assert.equal(await verifyPassword("", stored), false);
});

Deno.test("hashPassword() salts: the same password hashes differently each time", async () => {
  const a = await hashPassword("same password here", FAST);
  const b = await hashPassword("same password here", FAST);
  assert.notEqual(a, b);
  assert.equal(await verifyPassword("same password here", a), true);
  assert.equal(await verifyPassword("same password here", b), true);
});

Deno.test("verifyPassword() treats composed and decomposed accents as the same password", async () => {
  const stored = await hashPassword("caf\u00e9 au lait", FAST);
  assert.equal(await verifyPassword("cafe\u0301 au lait", stored), true);
});

Deno.test("verifyPassword() returns false for a malformed stored hash instead of throwing", async () => {
  for (
    const stored of [
      "",
      "plain",
      "bcrypt$10$abc$def",
      "pbkdf2-sha256$$abc$def",
      "pbkdf2-sha256$notanumber$AAAAAAAAAAAAAAAAAAAAAA$AAAA",
      "pbkdf2-sha256$0$AAAAAAAAAAAAAAAAAAAAAA$AAAA",
      "pbkdf2-sha256$1000$%%%not base64%%%$AAAA",
    ]
  ) {
    assert.equal(await verifyPassword("whatever", stored), false, `stored "${stored}"`);
  }
});

Deno.test("burnPasswordCheck() completes without revealing anything", async () => {
  assert.equal(await burnPasswordCheck("any password"), undefined);
});

Deno.test("password work in flight is bounded: past the queue, a check is refused with 503 and Retry-After", async () => {
  const stored = await hashPassword("correct horse battery", FAST);
  let open!: () => void;
  const gate = new Promise<void>((r) => open = r);
  // Fill every slot and every queue place with work that waits at the gate.
  const { slots, queue } = passwordWork;
  const held = Array.from({ length: slots + queue }, () => passwordWork.run(() => gate));
  try {
    assert.deepEqual(passwordWork.load, { running: slots, waiting: queue });
    const before = passwordProbe.requested;
    for (
      const attempt of [verifyPassword("x", stored), hashPassword("y"), burnPasswordCheck("z")]
    ) {
      const err = await attempt.then(() => null, (e) => e);
      assert.ok(err instanceof HttpError, `refused, got ${err}`);
      assert.equal(err.status, 503);
      assert.equal(err.code, "server_busy");
      assert.equal(err.extra.retryAfter, 1);
    }
    assert.equal(passwordProbe.requested - before, 3, "each refusal was counted as asked for");
  } finally {
    open();
    await Promise.all(held);
  }
  assert.equal(await verifyPassword("correct horse battery", stored), true, "free again");
});

Deno.test("password work runs at most 1 per core at once, with 8 per core waiting", () => {
  assert.equal(passwordWork.slots, Math.max(1, navigator.hardwareConcurrency));
  assert.equal(passwordWork.queue, 8 * passwordWork.slots);
});

Deno.test("passwordProblem() refuses passwords shorter than 8 characters, counted as code points", () => {
  assert.equal(PASSWORD_MIN, 8);
  assert.equal(passwordProblem("x7#kQ2p"), "password_short");
  assert.equal(passwordProblem(""), "password_short");
  assert.equal(passwordProblem("x7#kQ2pz"), null);
  // Seven emoji are 14 UTF-16 units but 7 characters.
  assert.equal(passwordProblem("🐼🐯🦊🐸🐙🦉🐝"), "password_short");
  assert.equal(passwordProblem("🐼🐯🦊🐸🐙🦉🐝🐢"), null);
});

Deno.test("passwordProblem() refuses passwords longer than 128 characters", () => {
  assert.equal(PASSWORD_MAX, 128);
  const ok = "Zq9!".repeat(32);
  assert.equal(passwordProblem(ok), null);
  assert.equal(passwordProblem(ok + "x"), "password_long");
});

Deno.test("passwordProblem() refuses common passwords in any letter case", () => {
  assert.equal(passwordProblem("password123"), "password_common");
  assert.equal(passwordProblem("PassWord123"), "password_common");
  assert.equal(passwordProblem("woaini1314"), "password_common");
  assert.equal(passwordProblem("12345678"), "password_common");
});

Deno.test("passwordProblem() refuses one character repeated", () => {
  assert.equal(passwordProblem("zzzzzzzzzzzz"), "password_common");
  assert.equal(passwordProblem("zzzzzzzzzzzy"), null);
});

Deno.test("passwordProblem() refuses the username or e-mail name, alone or barely changed", () => {
  const ctx = { username: "alice_liu", email: "Alice.Wonder@example.com" };
  assert.equal(passwordProblem("alice_liu", ctx), "password_personal");
  assert.equal(passwordProblem("ALICE_LIU1", ctx), "password_personal");
  assert.equal(passwordProblem("alice.wonder", ctx), "password_personal");
  assert.equal(passwordProblem("alice.wonder!!", ctx), "password_personal");
  // Containing the name inside a much longer passphrase is fine.
  assert.equal(passwordProblem("alice_liu rides a purple bicycle", ctx), null);
  assert.equal(passwordProblem("correct horse battery", ctx), null);
});

Deno.test("passwordProblem() ignores personal parts shorter than 3 characters", () => {
  assert.equal(
    passwordProblem("ab-river-stone", { username: "ab", email: "ab@example.com" }),
    null,
  );
});
