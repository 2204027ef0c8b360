/**
 * Sign-up tells nobody whether an e-mail has an account, mails carry no text a stranger chose, and
 * unactivated sign-ups do not hold a name or an address for ever.
 */
import assert from "node:assert/strict";
import {
  Client,
  newUserInput,
  signUp,
  type TestServer,
  tokenFromMail,
  withServer,
} from "./helpers.ts";
import { assertError, testClock } from "./http_checks.ts";

const DAY = 24 * 3600_000;

function register(server: TestServer, body: Record<string, string>) {
  return new Client(server).post("/api/auth/register", body);
}

async function mailsTo(server: TestServer, email: string) {
  return (await server.mails()).filter((m) => m.to.toLowerCase() === email.toLowerCase());
}

/** The answer with the typed address taken out, so two answers can be compared. */
function shape(res: { status: number; body: unknown }, email: string) {
  return JSON.parse(
    JSON.stringify({ status: res.status, body: res.body })
      .replaceAll(encodeURIComponent(email), "EMAIL"),
  );
}

Deno.test("sign-up answers the same for a new and a taken e-mail, and mails the owner instead", async () => {
  await withServer(async (server) => {
    const { input: owner } = await signUp(server, newUserInput("owner"));
    const before = (await mailsTo(server, owner.email)).length;
    const fresh = newUserInput("fresh");
    const taken = { ...newUserInput("probe"), email: owner.email.toUpperCase() };
    const a = await register(server, fresh);
    const b = await register(server, taken);
    assert.equal(a.status, 201, JSON.stringify(a.body));
    assert.deepEqual(shape(b, taken.email), shape(a, fresh.email));
    const notices = (await mailsTo(server, owner.email)).slice(before);
    assert.equal(notices.length, 1, "the owner hears about it");
    const [notice] = notices;
    assert.ok(!notice.text.includes("#token="), "the notice carries no link that acts");
    assert.ok(notice.text.includes("/forgot"), "it tells the owner how to reset the password");
    for (const typed of [taken.username, taken.nickname]) {
      assert.ok(!notice.text.includes(typed) && !notice.html.includes(typed), `no "${typed}"`);
    }
  });
});

Deno.test("the owner notice is rate-limited like any mail to an account", async () => {
  await withServer(async (server) => {
    const { input: owner } = await signUp(server, newUserInput("owner"));
    const before = (await mailsTo(server, owner.email)).length;
    for (let i = 0; i < 3; i++) {
      const res = await register(server, { ...newUserInput("again"), email: owner.email });
      assert.equal(res.status, 201);
    }
    assert.equal(
      (await mailsTo(server, owner.email)).length - before,
      1,
      "one within the cooldown",
    );
  });
});

Deno.test("after a sign-up with a taken e-mail, its username is as taken as after a new one", async () => {
  await withServer(async (server) => {
    const { input: owner } = await signUp(server, newUserInput("owner"));
    const viaTaken = { ...newUserInput("ta"), email: owner.email };
    const viaFresh = newUserInput("fr");
    assert.equal((await register(server, viaTaken)).status, 201);
    assert.equal((await register(server, viaFresh)).status, 201);
    for (const first of [viaTaken, viaFresh]) {
      const again = { ...newUserInput("x"), username: first.username };
      assertError(await register(server, again), 409, "username_taken", "username");
    }
  });
});

Deno.test("logging in right after a sign-up answers the same whether the e-mail was new or taken", async () => {
  await withServer(async (server) => {
    const { input: owner } = await signUp(server, newUserInput("owner"));
    // Not the owner's password: the stranger does not know it.
    const viaTaken = { ...newUserInput("ta"), email: owner.email, password: "stranger pass 1" };
    const viaFresh = { ...newUserInput("fr"), password: "stranger pass 2" };
    await register(server, viaTaken);
    await register(server, viaFresh);
    const c = new Client(server);
    const answers = [];
    for (const u of [viaTaken, viaFresh]) {
      for (const login of [u.username, u.email]) {
        const res = await c.post("/api/auth/login", { login, password: u.password });
        answers.push({ status: res.status, body: res.body });
      }
    }
    for (const a of answers) assert.deepEqual(a, answers[0]);
    assertError(answers[0], 401, "bad_login");
  });
});

Deno.test("mails never carry the nickname or username a stranger typed", async () => {
  await withServer(async (server) => {
    const input = {
      ...newUserInput("spam"),
      nickname: "Win $$$ at evil.example",
      email: `inbox${Date.now()}@example.com`,
    };
    assert.equal((await register(server, input)).status, 201);
    const c = new Client(server);
    await c.post("/api/auth/forgot", { email: input.email });
    const mails = await mailsTo(server, input.email);
    assert.equal(mails.length, 2, "the activation and the reset mail");
    for (const m of mails) {
      for (const part of [m.subject, m.text, m.html]) {
        assert.ok(!part.includes("evil.example"), `nickname in "${m.subject}"`);
        assert.ok(!part.includes(input.username), `username in "${m.subject}"`);
      }
    }
  });
});

Deno.test("an unactivated sign-up expires after 7 days: no activation, and its name and address are free", async () => {
  const clock = testClock();
  await withServer({ now: clock.now }, async (server) => {
    const squat = newUserInput("squat");
    assert.equal((await register(server, squat)).status, 201);
    // Six days on, a fresh link still activates... until the seventh day is over.
    clock.advance(6 * DAY);
    await new Client(server).post("/api/auth/resend", { login: squat.username });
    const late = tokenFromMail((await mailsTo(server, squat.email)).at(-1)!);
    clock.advance(DAY);
    assertError(
      await new Client(server).post("/api/auth/activate", { token: late }),
      400,
      "token_invalid",
    );
    // The username and the address can be signed up for again, by anyone, and activated.
    const byName = { ...newUserInput("n"), username: squat.username, password: "next owner 1" };
    const byMail = {
      ...newUserInput("m"),
      email: squat.email.toUpperCase(),
      password: "next owner 2",
    };
    for (const next of [byName, byMail]) {
      const before = (await mailsTo(server, next.email)).length;
      assert.equal((await register(server, next)).status, 201);
      const mails = await mailsTo(server, next.email);
      assert.equal(mails.length, before + 1);
      const token = tokenFromMail(mails.at(-1)!);
      assert.equal((await new Client(server).post("/api/auth/activate", { token })).status, 200);
      const login = await new Client(server).post("/api/auth/login", {
        login: next.username,
        password: next.password,
      });
      assert.equal(login.status, 200, JSON.stringify(login.body));
    }
    // The old sign-up is gone: its password opens nothing.
    assertError(
      await new Client(server).post("/api/auth/login", {
        login: squat.username,
        password: squat.password,
      }),
      401,
      "bad_login",
    );
  });
});
