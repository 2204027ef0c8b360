/** Bad input over HTTP: each gets a clear JSON error and changes nothing (KV is compared before/after). */
import assert from "node:assert/strict";
import { Client, newUserInput, signUp, type TestServer, withServer } from "./helpers.ts";
import { assertError, snapshot } from "./http_checks.ts";

/** Posts each bad body and checks the error, that KV is unchanged and that no mail went out. */
async function refusesAll(
  server: TestServer,
  path: string,
  cases: [unknown, number, string, string?][],
): Promise<void> {
  const c = new Client(server);
  const before = await snapshot(server.kv);
  for (const [body, status, code, field] of cases) {
    const res = await c.post(path, body);
    assertError(res, status, code, field);
  }
  assert.deepEqual(await snapshot(server.kv), before, "a refused request wrote something");
}

Deno.test("register refuses a username taken in another letter case, and reserved usernames", async () => {
  await withServer(async (server) => {
    const first = newUserInput("Case");
    assert.equal((await new Client(server).post("/api/auth/register", first)).status, 201);
    const mails = (await server.mails()).length;
    await refusesAll(server, "/api/auth/register", [
      [
        { ...newUserInput(), username: first.username.toUpperCase() },
        409,
        "username_taken",
        "username",
      ],
      [
        { ...newUserInput(), username: first.username.toLowerCase() },
        409,
        "username_taken",
        "username",
      ],
      [{ ...newUserInput(), username: "Admin" }, 400, "name_reserved", "username"],
      [{ ...newUserInput(), username: "HappyBot" }, 400, "name_reserved", "username"],
      [{ ...newUserInput(), username: "happychat_team" }, 400, "name_reserved", "username"],
      [{ ...newUserInput(), nickname: "HappyChat Bot" }, 400, "name_reserved", "nickname"],
      [{ ...newUserInput(), nickname: "乐聊 机器人" }, 400, "name_reserved", "nickname"],
      [{ ...newUserInput(), nickname: "ＨａｐｐｙＢｏｔ" }, 400, "name_reserved", "nickname"],
      [{ ...newUserInput(), nickname: "Happy\u200BBot" }, 400, "bad_input", "nickname"],
      [{ ...newUserInput(), nickname: "Ann\u2028Bob" }, 400, "bad_input", "nickname"],
    ]);
    assert.equal((await server.mails()).length, mails, "no mail for a refused sign-up");
  });
});

Deno.test("register refuses weak and overlong passwords", async () => {
  await withServer(async (server) => {
    const u = newUserInput();
    await refusesAll(server, "/api/auth/register", [
      [{ ...u, password: "Sh0rt!" }, 400, "password_short", "password"],
      [{ ...u, password: "" }, 400, "password_short", "password"],
      [{ ...u, password: "PASSWORD123" }, 400, "password_common", "password"],
      [{ ...u, password: "qqqqqqqqqqqq" }, 400, "password_common", "password"],
      [{ ...u, password: u.username + "1" }, 400, "password_personal", "password"],
      [{ ...u, password: "x7!".repeat(43) }, 400, "password_long", "password"],
      [{ ...u, password: "long".repeat(5000) }, 400, "password_long", "password"],
    ]);
  });
});

Deno.test("register refuses invalid e-mails, bad usernames, overlong and missing fields", async () => {
  await withServer(async (server) => {
    const u = newUserInput();
    await refusesAll(server, "/api/auth/register", [
      [{ ...u, email: "not-an-email" }, 400, "email_format", "email"],
      [{ ...u, email: "a@b" }, 400, "email_format", "email"],
      [{ ...u, email: "two@@example.com" }, 400, "email_format", "email"],
      [{ ...u, email: "sp ace@example.com" }, 400, "email_format", "email"],
      [{ ...u, email: "a".repeat(250) + "@example.com" }, 400, "field_long", "email"],
      [{ ...u, username: "ab" }, 400, "username_format", "username"],
      [{ ...u, username: "a".repeat(21) }, 400, "username_format", "username"],
      [{ ...u, username: "<script>" }, 400, "username_format", "username"],
      [{ ...u, username: "名字名字" }, 400, "username_format", "username"],
      [{ ...u, nickname: "n".repeat(33) }, 400, "field_long", "nickname"],
      [{ ...u, nickname: "bad\u0000nick" }, 400, "bad_input", "nickname"],
      [{ ...u, nickname: "rtl\u202Eevil" }, 400, "bad_input", "nickname"],
      [{}, 400, "field_required", "username"],
      [{ ...u, email: "" }, 400, "field_required", "email"],
      [{ ...u, username: 42 }, 400, "bad_input", "username"],
      [{ ...u, password: ["a", "b"] }, 400, "bad_input", "password"],
      [{ ...u, email: { $gt: "" } }, 400, "bad_input", "email"],
    ]);
  });
});

Deno.test("a body that is not a JSON object is refused with bad_json on every JSON endpoint", async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    const before = await snapshot(server.kv);
    const bodies = [
      "username=a&password=b",
      "{not json",
      "",
      "null",
      "42",
      '"text"',
      "[1,2]",
      '[{"username":"x"}]',
    ];
    const endpoints: [string, string][] = [
      ["POST", "/api/auth/register"],
      ["POST", "/api/auth/login"],
      ["POST", "/api/auth/forgot"],
      ["PATCH", "/api/me"],
      ["POST", "/api/me/feedback"],
    ];
    for (const [method, path] of endpoints) {
      for (const body of bodies) {
        const res = await client.json(path, {
          method,
          body,
          headers: { "Content-Type": "application/json" },
        });
        assertError(res, 400, "bad_json");
      }
    }
    assert.deepEqual(await snapshot(server.kv), before);
  });
});

Deno.test("a JSON body over 64 KiB is refused with 413 payload_too_large", async () => {
  await withServer(async (server) => {
    const before = await snapshot(server.kv);
    const big = { ...newUserInput(), nickname: "n".repeat(70 * 1024) };
    assertError(await new Client(server).post("/api/auth/register", big), 413, "payload_too_large");
    assert.deepEqual(await snapshot(server.kv), before);
  });
});

Deno.test("a JSON body that never ends is refused once past 64 KiB, without waiting for the rest", async () => {
  await withServer(async (server) => {
    const chunk = new TextEncoder().encode(`{"nickname":"${"n".repeat(16 * 1024)}`);
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(ctl) {
        // 100 KiB, then the stream stays open without ending.
        if (sent < 100 * 1024) {
          ctl.enqueue(chunk);
          sent += chunk.length;
        }
        return new Promise((r) => setTimeout(r, 50));
      },
    });
    const res = await fetch(server.url("/api/auth/register"), {
      method: "POST",
      body: endless,
      headers: { "Content-Type": "application/json" },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error.code, "payload_too_large");
  });
});

Deno.test("profile changes with bad fields are refused and the profile stays as it was", async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    const before = (await client.json("/api/me")).body;
    const kvBefore = await snapshot(server.kv);
    const cases: [Record<string, unknown>, string, string][] = [
      [{ nickname: "n".repeat(33) }, "field_long", "nickname"],
      [{ nickname: "   " }, "field_required", "nickname"],
      [{ nickname: "tab\there" }, "bad_input", "nickname"],
      [{ region: "r".repeat(65) }, "field_long", "region"],
      [{ bio: "b".repeat(201) }, "field_long", "bio"],
      [{ bio: "bell\u0007" }, "bad_input", "bio"],
      [{ website: "javascript:alert(1)" }, "website_format", "website"],
      [{ website: "https://example.com/" + "w".repeat(200) }, "field_long", "website"],
      [{ gender: "robot" }, "gender_value", "gender"],
      [{ nickname: 7 }, "bad_input", "nickname"],
      // One bad field refuses the whole change, including the good fields before it.
      [{ nickname: "Good Name", region: "r".repeat(65) }, "field_long", "region"],
    ];
    for (const [patch, code, field] of cases) {
      assertError(await client.json("/api/me", { method: "PATCH", json: patch }), 400, code, field);
    }
    assert.deepEqual((await client.json("/api/me")).body, before);
    assert.deepEqual(await snapshot(server.kv), kvBefore);
  });
});

Deno.test("overlong names in URLs and logins get a clear answer, never a 500", async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    const long = "a".repeat(3000);
    assertError(await client.json(`/api/users/${long}`), 404, "not_found");
    assertError(
      await client.json(`/api/auth/sessions/${long}`, { method: "DELETE" }),
      404,
      "not_found",
    );
    const page = await client.fetch(`/u/${long}`);
    assert.equal(page.status, 404);
    await page.body?.cancel();
    const anon = new Client(server);
    const resend = await anon.post("/api/auth/resend", { login: long });
    assert.deepEqual([resend.status, resend.body], [200, { ok: true }]);
    assertError(
      await anon.post("/api/auth/login", { login: long, password: "whatever pass" }),
      401,
      "bad_login",
    );
    assertError(
      await anon.post("/api/auth/forgot", { email: long + "@example.com" }),
      400,
      "field_long",
      "email",
    );
  });
});
