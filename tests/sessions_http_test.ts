/** Sessions over HTTP: rotation at login, logout, password change, log out everywhere, expiry. */
import assert from "node:assert/strict";
import { newUserInput, signUp, withServer } from "./helpers.ts";
import {
  assertError,
  clientWithToken,
  loginAgain,
  meStatus,
  sessionToken,
  snapshot,
  testClock,
} from "./http_checks.ts";
import { SESSION_IDLE_MS } from "../lib/accounts/sessions.ts";

interface SessionView {
  id: string;
  current: boolean;
}

Deno.test("logging in again gives a new token and the old one no longer works", async () => {
  await withServer(async (server) => {
    const { client, input } = await signUp(server);
    const first = sessionToken(client);
    const again = await client.post("/api/auth/login", {
      login: input.email,
      password: input.password,
    });
    assert.equal(again.status, 200);
    const second = sessionToken(client);
    assert.notEqual(second, first);
    assert.equal(await meStatus(client), 200);
    assert.equal(await meStatus(clientWithToken(server, first)), 401, "the old token is dead");
    const list = await client.json<{ sessions: SessionView[] }>("/api/auth/sessions");
    assert.equal(list.body.sessions.length, 1, "the old session is gone, not just hidden");
    assert.equal(list.body.sessions[0].current, true);
  });
});

Deno.test("logout ends the session and clears the cookie", async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    const token = sessionToken(client);
    const out = await client.post("/api/auth/logout", {});
    assert.equal(out.status, 200);
    assert.ok(out.res.headers.getSetCookie().some((c) => /^hc_session=;.*Max-Age=0/i.test(c)));
    assert.equal(client.cookies.size, 0);
    assert.equal(
      await meStatus(clientWithToken(server, token)),
      401,
      "a copy of the cookie is useless",
    );
    assertError(
      await clientWithToken(server, token).post("/api/auth/logout", {}),
      401,
      "unauthorized",
    );
  });
});

Deno.test("the logout form (POST /logout) ends the session and goes to /login", async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    const token = sessionToken(client);
    const res = await client.fetch("/logout", { method: "POST" });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("Location"), "/login");
    assert.equal(await meStatus(clientWithToken(server, token)), 401);
  });
});

Deno.test("changing the password ends the other sessions but keeps the current one", async () => {
  await withServer(async (server) => {
    const { client, input } = await signUp(server);
    const other = await loginAgain(server, input);
    const res = await client.post("/api/auth/password", {
      current: input.password,
      password: "a brand new passphrase",
    });
    assert.equal(res.status, 200);
    assert.equal(await meStatus(client), 200);
    assert.equal(await meStatus(other), 401);
    assertError(
      await other.post("/api/auth/login", { login: input.username, password: input.password }),
      401,
      "bad_login",
    );
    await loginAgain(server, { username: input.username, password: "a brand new passphrase" });
  });
});

Deno.test("a password change with a wrong current password or a weak new one changes nothing", async () => {
  await withServer(async (server) => {
    const { client, input } = await signUp(server);
    const other = await loginAgain(server, input);
    const before = await snapshot(server.kv);
    const wrong = await client.post("/api/auth/password", {
      current: "not my password",
      password: "a brand new passphrase",
    });
    assertError(wrong, 400, "wrong_password", "current");
    const weak = await client.post("/api/auth/password", {
      current: input.password,
      password: "password123",
    });
    assertError(weak, 400, "password_common", "password");
    assert.deepEqual(await snapshot(server.kv), before);
    assert.equal(await meStatus(other), 200, "other sessions survive a refused change");
    await loginAgain(server, input);
  });
});

Deno.test("log out everywhere ends every session, the current one included", async () => {
  await withServer(async (server) => {
    const { client, input } = await signUp(server);
    const phone = await loginAgain(server, input);
    const laptop = await loginAgain(server, input);
    const res = await client.post("/api/auth/logout-everywhere", {});
    assert.equal(res.status, 200);
    assert.equal((res.body as { ended: number }).ended, 3);
    for (const c of [client, phone, laptop]) assert.equal(await meStatus(c), 401);
  });
});

Deno.test("DELETE /api/auth/sessions/:id ends one's own other device", async () => {
  await withServer(async (server) => {
    const { client, input } = await signUp(server);
    const phone = await loginAgain(server, input);
    const list = await phone.json<{ sessions: SessionView[] }>("/api/auth/sessions");
    const phoneId = list.body.sessions.find((s) => s.current)!.id;
    const res = await client.json(`/api/auth/sessions/${phoneId}`, { method: "DELETE" });
    assert.equal(res.status, 200);
    assert.equal(await meStatus(phone), 401);
    assert.equal(await meStatus(client), 200);
  });
});

Deno.test("DELETE /api/auth/sessions/:id of another user's session is 404 and the session lives on", async () => {
  await withServer(async (server) => {
    const alice = await signUp(server, newUserInput("alice"));
    const bob = await signUp(server, newUserInput("bob"));
    const bobs = await bob.client.json<{ sessions: SessionView[] }>("/api/auth/sessions");
    const bobId = bobs.body.sessions[0].id;
    const res = await alice.client.json(`/api/auth/sessions/${bobId}`, { method: "DELETE" });
    assertError(res, 404, "not_found");
    assert.equal(await meStatus(bob.client), 200);
    const alices = await alice.client.json<{ sessions: SessionView[] }>("/api/auth/sessions");
    assert.ok(
      !alices.body.sessions.some((s) => s.id === bobId),
      "one user never sees another's sessions",
    );
    const garbage = await alice.client.json(`/api/auth/sessions/${"x".repeat(3000)}`, {
      method: "DELETE",
    });
    assertError(garbage, 404, "not_found");
  });
});

Deno.test("a session idle for longer than 30 days ends; an active one lives on", async () => {
  const clock = testClock();
  await withServer({ now: clock.now }, async (server) => {
    const { client: idle, input } = await signUp(server);
    const active = await loginAgain(server, input);
    for (let day = 0; day < 40; day += 10) {
      clock.advance(10 * 24 * 3600_000);
      assert.equal(await meStatus(active), 200, `day ${day + 10}`);
    }
    assert.equal(SESSION_IDLE_MS, 30 * 24 * 3600_000);
    assert.equal(await meStatus(idle), 401);
    const list = await active.json<{ sessions: SessionView[] }>("/api/auth/sessions");
    assert.equal(list.body.sessions.length, 1, "the idle session is not listed");
  });
});
