/** Activation and reset links (expired, used, forged), same answers for unknown accounts, login limits. */
import assert from "node:assert/strict";
import {
  Client,
  newUserInput,
  signUp,
  startTestServer,
  type TestServer,
  tokenFromMail,
  withServer,
} from "./helpers.ts";
import { assertError, loginAgain, meStatus, snapshot, testClock } from "./http_checks.ts";
import { newToken } from "../lib/ids.ts";
import { findUserByUsername } from "../lib/accounts/users.ts";
import type { Mailer } from "../lib/mail/mail.ts";

const HOUR = 3600_000;

async function lastMailTo(server: TestServer, email: string) {
  const mails = (await server.mails()).filter((m) => m.to === email);
  assert.ok(mails.length > 0, `a mail to ${email}`);
  return mails[mails.length - 1];
}

async function register(server: TestServer, input = newUserInput()) {
  const c = new Client(server);
  const res = await c.post("/api/auth/register", input);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { c, input, token: tokenFromMail(await lastMailTo(server, input.email)) };
}

async function isActive(server: TestServer, username: string): Promise<boolean> {
  return !!(await findUserByUsername(server.kv, username))?.activatedAt;
}

Deno.test("an activation link older than 24 hours is refused and the account stays inactive", async () => {
  const clock = testClock();
  await withServer({ now: clock.now }, async (server) => {
    const { c, input, token } = await register(server);
    clock.advance(24 * HOUR + 1);
    assertError(await c.post("/api/auth/activate", { token }), 400, "token_invalid");
    assert.equal(await isActive(server, input.username), false);
    // Not activated: the same answer as a wrong password (see signup_privacy_test.ts).
    assertError(
      await c.post("/api/auth/login", { login: input.username, password: input.password }),
      401,
      "bad_login",
    );
    // A fresh link from "resend" works.
    assert.equal((await c.post("/api/auth/resend", { login: input.email })).status, 200);
    const fresh = tokenFromMail(await lastMailTo(server, input.email));
    assert.notEqual(fresh, token);
    assert.equal((await c.post("/api/auth/activate", { token: fresh })).status, 200);
    assert.equal(await isActive(server, input.username), true);
  });
});

Deno.test("forged, malformed, non-string and used activation tokens are refused and change nothing", async () => {
  await withServer(async (server) => {
    const { c, input, token } = await register(server);
    const before = await snapshot(server.kv);
    for (const forged of [newToken(32), token.slice(0, -2), "", "x".repeat(5000), token + "A"]) {
      assertError(await c.post("/api/auth/activate", { token: forged }), 400, "token_invalid");
    }
    assertError(await c.post("/api/auth/activate", { token: 12345 }), 400, "bad_input", "token");
    assertError(await c.post("/api/auth/activate", { token: [token] }), 400, "bad_input", "token");
    assert.deepEqual(await snapshot(server.kv), before);
    assert.equal(await isActive(server, input.username), false);
    assert.equal(
      (await c.post("/api/auth/activate", { token })).status,
      200,
      "the real token still works",
    );
    const used = await snapshot(server.kv);
    assertError(await c.post("/api/auth/activate", { token }), 400, "token_invalid");
    assert.deepEqual(await snapshot(server.kv), used, "a used token changes nothing");
  });
});

Deno.test("a reset link works once; a used one is refused and the password stays the new one", async () => {
  await withServer(async (server) => {
    const { client, input } = await signUp(server);
    assert.equal((await client.post("/api/auth/forgot", { email: input.email })).status, 200);
    const token = tokenFromMail(await lastMailTo(server, input.email));
    const anon = new Client(server);
    assert.equal(
      (await anon.post("/api/auth/reset", { token, password: "first new passphrase" })).status,
      200,
    );
    assertError(
      await anon.post("/api/auth/reset", { token, password: "second new passphrase" }),
      400,
      "token_invalid",
    );
    await loginAgain(server, { username: input.username, password: "first new passphrase" });
    assertError(
      await anon.post("/api/auth/login", {
        login: input.username,
        password: "second new passphrase",
      }),
      401,
      "bad_login",
    );
    assert.equal(await meStatus(client), 401, "a reset ends every session");
  });
});

Deno.test("a reset link older than 1 hour is refused and the old password keeps working", async () => {
  const clock = testClock();
  await withServer({ now: clock.now }, async (server) => {
    const { input } = await signUp(server);
    await new Client(server).post("/api/auth/forgot", { email: input.email });
    const token = tokenFromMail(await lastMailTo(server, input.email));
    clock.advance(HOUR + 1);
    const before = await snapshot(server.kv);
    const res = await new Client(server).post("/api/auth/reset", {
      token,
      password: "a brand new passphrase",
    });
    assertError(res, 400, "token_invalid");
    assert.deepEqual(await snapshot(server.kv), before);
    await loginAgain(server, input);
  });
});

Deno.test("a forged reset token, or an activation token used for reset, is refused", async () => {
  await withServer(async (server) => {
    const { c, input, token: activation } = await register(server);
    const before = await snapshot(server.kv);
    for (const token of [newToken(32), activation, "short", "y".repeat(3000)]) {
      assertError(
        await c.post("/api/auth/reset", { token, password: "a brand new passphrase" }),
        400,
        "token_invalid",
      );
    }
    assert.deepEqual(await snapshot(server.kv), before);
    assert.equal(
      (await c.post("/api/auth/activate", { token: activation })).status,
      200,
      "not used up",
    );
    await loginAgain(server, input);
  });
});

Deno.test("a weak password at reset is refused without using up the link", async () => {
  await withServer(async (server) => {
    const { input } = await signUp(server);
    const anon = new Client(server);
    await anon.post("/api/auth/forgot", { email: input.email });
    const token = tokenFromMail(await lastMailTo(server, input.email));
    assertError(
      await anon.post("/api/auth/reset", { token, password: "password123" }),
      400,
      "password_common",
      "password",
    );
    assertError(
      await anon.post("/api/auth/reset", { token, password: "x".repeat(2000) }),
      400,
      "password_long",
      "password",
    );
    assertError(
      await anon.post("/api/auth/reset", { token, password: input.username }),
      400,
      "password_personal",
    );
    assert.equal(
      (await anon.post("/api/auth/reset", { token, password: "a good new passphrase" })).status,
      200,
    );
  });
});

Deno.test("forgot gives the same answer whether the e-mail has an account, also when asked twice", async () => {
  await withServer(async (server) => {
    const { input } = await signUp(server);
    const c = new Client(server);
    const answers = [];
    for (
      const email of [
        input.email,
        "nobody@example.com",
        input.email.toUpperCase(),
        "nobody@example.com",
      ]
    ) {
      const res = await c.post("/api/auth/forgot", { email });
      answers.push({ status: res.status, body: res.body });
    }
    for (const a of answers) assert.deepEqual(a, answers[1]);
    assert.equal(answers[1].status, 200);
    const resets = (await server.mails()).filter((m) =>
      m.to === input.email && m.text.includes("/reset#token=")
    );
    assert.equal(resets.length, 1, "a second mail within the cooldown is skipped silently");
  });
});

Deno.test("a second forgot while the first mail is still being handed over sends no second mail", async () => {
  // The SMTP handoff of reset mails waits at this gate, so the second request comes in meanwhile.
  let open!: () => void;
  const gate = new Promise<void>((r) => open = r);
  let handing = 0;
  const mailer: Mailer = {
    kind: "smtp",
    async send(mail) {
      if (!mail.text.includes("/reset#token=")) return;
      handing++;
      await gate;
    },
  };
  const server = await startTestServer({ mailer });
  try {
    const { input } = await signUp(server);
    const c = new Client(server);
    assert.equal((await c.post("/api/auth/forgot", { email: input.email })).status, 200);
    for (let i = 0; i < 500 && handing === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(handing, 1, "the first mail is being handed over");
    assert.equal((await c.post("/api/auth/forgot", { email: input.email })).status, 200);
    open();
    const resets = (await server.mails()).filter((m) => m.text.includes("/reset#token="));
    assert.equal(resets.length, 1, "the second request fell within the cooldown");
  } finally {
    open();
    await server.close();
  }
});

Deno.test("resend gives the same answer for an inactive, an active and an unknown account", async () => {
  await withServer(async (server) => {
    const { input: active } = await signUp(server, newUserInput("act"));
    const { input: inactive } = await register(server, newUserInput("ina"));
    const c = new Client(server);
    const answers = [];
    // The inactive account got its first mail moments ago, so it is within the resend cooldown.
    for (
      const login of [
        inactive.username,
        active.username,
        "nobody_here",
        inactive.email,
        "nobody@example.com",
      ]
    ) {
      const res = await c.post("/api/auth/resend", { login });
      answers.push({ status: res.status, body: res.body });
    }
    for (const a of answers) assert.deepEqual(a, answers[2]);
    assert.equal(answers[2].status, 200);
  });
});

Deno.test("wrong passwords lead to 429 with Retry-After and a 'try again in N s' message", async () => {
  const clock = testClock();
  await withServer({ now: clock.now }, async (server) => {
    const { input } = await signUp(server);
    const c = new Client(server);
    const unknown = await c.post("/api/auth/login", {
      login: "nobody_here",
      password: "whatever pass",
    });
    const wrong = await c.post("/api/auth/login", {
      login: input.username,
      password: "not the password",
    });
    assertError(wrong, 401, "bad_login");
    assert.deepEqual(unknown.body, wrong.body, "unknown account and wrong password look the same");
    for (let i = 0; i < 4; i++) {
      await c.post("/api/auth/login", { login: input.email, password: `wrong ${i}` });
    }
    const limited = await c.post("/api/auth/login", {
      login: input.username,
      password: "still wrong",
    });
    const err = assertError(limited, 429, "rate_limited");
    const retryAfter = Number(limited.res.headers.get("Retry-After"));
    assert.ok(retryAfter >= 1 && retryAfter <= 15 * 60, `Retry-After ${retryAfter}`);
    assert.equal(err.retryAfter, retryAfter);
    assert.match(err.message, new RegExp(`[Tt]ry again in ${retryAfter} s`));
    // Even the right password is refused while limited, and makes no session.
    const before = await snapshot(server.kv);
    assertError(
      await c.post("/api/auth/login", { login: input.username, password: input.password }),
      429,
      "rate_limited",
    );
    assert.deepEqual(await snapshot(server.kv), before);
    clock.advance(retryAfter * 1000);
    await loginAgain(server, input);
  });
});

Deno.test("the 429 message is translated for Chinese users", async () => {
  await withServer(async (server) => {
    const { input } = await signUp(server);
    const c = new Client(server);
    const headers = { "Accept-Language": "zh-CN,zh;q=0.9" };
    let res;
    for (let i = 0; i < 6; i++) {
      res = await c.json("/api/auth/login", {
        method: "POST",
        headers,
        json: { login: input.username, password: "nope nope" },
      });
    }
    const err = assertError(res!, 429, "rate_limited");
    assert.match(err.message, new RegExp(`${res!.res.headers.get("Retry-After")}\\s*秒`));
  });
});
