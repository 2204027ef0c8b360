/**
 * Login limits under attack: a burst of parallel guesses, a stranger guessing from one address, and
 * guesses spread over many addresses. The server trusts X-Forwarded-For here so that one test
 * process can speak from many addresses.
 */
import assert from "node:assert/strict";
import { Client, signUp, startTestServer, type TestServer, tokenFromMail } from "./helpers.ts";
import { assertError, testClock } from "./http_checks.ts";
import { passwordProbe, passwordWork } from "../lib/accounts/password.ts";

const HOUR = 3600_000;
/** One minute into an hour: every login window (15 min, 1 h) has just begun and stays put. */
const START = Math.floor(Date.now() / HOUR) * HOUR + 60_000;

function loginFrom(c: Client, address: string, login: string, password: string) {
  return c.json("/api/auth/login", {
    method: "POST",
    json: { login, password },
    headers: { "X-Forwarded-For": address },
  });
}

/** Waits until `cond` holds (the requests it waits for are already on their way). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

async function proxiedServer(): Promise<
  { server: TestServer; clock: ReturnType<typeof testClock> }
> {
  const clock = testClock(START);
  const server = await startTestServer({
    now: clock.now,
    env: { TRUST_PROXY: "1" },
    realPasswordCost: true,
  });
  return { server, clock };
}

/** The burst of the issue that found the race: 600 guesses at once, the right password last. */
const BURST = 600;

Deno.test("600 parallel wrong-then-right logins from one address: the right one is refused and at most 5 passwords are checked", async () => {
  const { server } = await proxiedServer();
  try {
    const { input } = await signUp(server);
    const c = new Client(server);
    const addr = "203.0.113.50";
    // Every password check waits at this gate, so the whole burst is in flight at once.
    let open!: () => void;
    const gate = new Promise<void>((r) => open = r);
    let started = 0;
    let refused = 0;
    const before = passwordProbe.requested;
    passwordProbe.hook = async () => {
      started++;
      await gate;
    };
    const counted = <T extends { status: number }>(r: T) => {
      if (r.status === 429) refused++;
      return r;
    };
    try {
      const wrong = Array.from(
        { length: BURST - 1 },
        (_, i) => loginFrom(c, addr, input.username, `wrong guess ${i}`).then(counted),
      );
      // All the wrong ones are either at a password check or refused; only then comes the right password.
      await until(() => started + refused === BURST - 1, "the wrong guesses");
      const right = loginFrom(c, addr, input.username, input.password).then(counted);
      await until(() => started + refused === BURST, "the right password");
      open();
      const answers = await Promise.all(wrong);
      assertError(await right, 429, "rate_limited");
      assert.ok(answers.every((a) => a.status === 401 || a.status === 429));
      assert.equal(answers.filter((a) => a.status === 401).length, 5);
    } finally {
      open();
      passwordProbe.hook = null;
    }
    const checks = passwordProbe.requested - before;
    assert.ok(checks <= 5, `${checks} password checks; docs/api.md promises at most 5`);
    assert.equal(c.cookies.size, 0, "no session was made");
  } finally {
    await server.close();
  }
});

Deno.test("a stranger's wrong guesses from one address do not lock the owner out at another", async () => {
  const { server } = await proxiedServer();
  try {
    const { input } = await signUp(server);
    const stranger = new Client(server);
    const codes = [];
    for (let i = 0; i < 8; i++) {
      codes.push((await loginFrom(stranger, "203.0.113.7", input.email, `guess ${i}`)).status);
    }
    assert.deepEqual(codes, [401, 401, 401, 401, 401, 429, 429, 429]);
    // The stranger is limited, even with the right password...
    assertError(
      await loginFrom(stranger, "203.0.113.7", input.username, input.password),
      429,
      "rate_limited",
    );
    // ...and the owner, elsewhere, is not.
    const owner = new Client(server);
    assert.equal(
      (await loginFrom(owner, "198.51.100.4", input.username, input.password)).status,
      200,
    );
  } finally {
    await server.close();
  }
});

Deno.test("guesses spread over many addresses meet the account-wide limit; the owner's known address does not", async () => {
  const { server, clock } = await proxiedServer();
  try {
    const { input } = await signUp(server);
    const home = "198.51.100.10";
    assert.equal(
      (await loginFrom(new Client(server), home, input.username, input.password)).status,
      200,
    );
    const botnet = new Client(server);
    // One guess each from 20 addresses: all checked, then the account-wide limit holds.
    for (let i = 0; i < 20; i++) {
      assertError(
        await loginFrom(botnet, `192.0.2.${i + 1}`, input.username, "guess"),
        401,
        "bad_login",
      );
    }
    assertError(
      await loginFrom(botnet, "192.0.2.99", input.username, "guess"),
      429,
      "rate_limited",
    );
    // The owner at home gets in; the owner at a new address is refused for now.
    assert.equal(
      (await loginFrom(new Client(server), home, input.username, input.password)).status,
      200,
    );
    const travel = "203.0.113.80";
    assertError(
      await loginFrom(new Client(server), travel, input.username, input.password),
      429,
      "rate_limited",
    );
    // A password reset by mail proves the owner: it makes the address where it was done known.
    const anon = new Client(server);
    await anon.json("/api/auth/forgot", {
      method: "POST",
      json: { email: input.email },
      headers: { "X-Forwarded-For": travel },
    });
    const mail = (await server.mails()).filter((m) => m.text.includes("/reset#token=")).at(-1)!;
    const reset = await anon.json("/api/auth/reset", {
      method: "POST",
      json: { token: tokenFromMail(mail), password: "a brand new passphrase" },
      headers: { "X-Forwarded-For": travel },
    });
    assert.equal(reset.status, 200, JSON.stringify(reset.body));
    assert.equal(
      (await loginFrom(new Client(server), travel, input.username, "a brand new passphrase"))
        .status,
      200,
    );
    // An hour later the limit has reset for everyone.
    clock.advance(HOUR);
    assertError(await loginFrom(botnet, "192.0.2.99", input.username, "guess"), 401, "bad_login");
  } finally {
    await server.close();
  }
});

Deno.test("with the password queue full, login answers 503 with Retry-After and the attempt counts nowhere", async () => {
  const { server } = await proxiedServer();
  try {
    const { input } = await signUp(server);
    const c = new Client(server);
    const addr = "203.0.113.90";
    let open!: () => void;
    const gate = new Promise<void>((r) => open = r);
    const held = Array.from(
      { length: passwordWork.slots + passwordWork.queue },
      () => passwordWork.run(() => gate),
    );
    try {
      for (let i = 0; i < 8; i++) {
        const res = await loginFrom(c, addr, input.username, input.password);
        assertError(res, 503, "server_busy");
        assert.equal(res.res.headers.get("Retry-After"), "1");
      }
    } finally {
      open();
      await Promise.all(held);
    }
    // The queue fills up between the limits and the check: the slots are given back all the same.
    let open2!: () => void;
    const gate2 = new Promise<void>((r) => open2 = r);
    const held2: Promise<void>[] = [];
    passwordProbe.hook = () => {
      passwordProbe.hook = null;
      for (let i = 0; i < passwordWork.slots + passwordWork.queue; i++) {
        held2.push(passwordWork.run(() => gate2));
      }
    };
    try {
      assertError(await loginFrom(c, addr, input.username, "late"), 503, "server_busy");
    } finally {
      passwordProbe.hook = null;
      open2();
      await Promise.all(held2);
    }
    // None of the refused attempts counted: five wrong guesses are still checked, then the limit.
    const codes = [];
    for (let i = 0; i < 6; i++) {
      codes.push((await loginFrom(c, addr, input.email, `no ${i}`)).status);
    }
    assert.deepEqual(codes, [401, 401, 401, 401, 401, 429]);
  } finally {
    await server.close();
  }
});
