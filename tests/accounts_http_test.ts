import assert from "node:assert/strict";
import { Client, newUserInput, signUp, tokenFromMail, withServer } from "./helpers.ts";

Deno.test("register → activate → login → me, over real HTTP", async () => {
  await withServer(async (server) => {
    const c = new Client(server);
    const input = newUserInput();
    const reg = await c.post("/api/auth/register", input);
    assert.equal(reg.status, 201);
    const early = await c.post("/api/auth/login", {
      login: input.username,
      password: input.password,
    });
    assert.equal(early.status, 401, "not activated yet: like a wrong password");
    assert.equal((early.body as { error: { code: string } }).error.code, "bad_login");
    const [mail] = await server.mails();
    assert.equal(mail.to, input.email);
    const act = await c.post("/api/auth/activate", { token: tokenFromMail(mail) });
    assert.equal(act.status, 200);
    const again = await c.post("/api/auth/activate", { token: tokenFromMail(mail) });
    assert.equal(again.status, 400, "a used token must not work twice");
    const login = await c.post("/api/auth/login", {
      login: input.email.toUpperCase(),
      password: input.password,
    });
    assert.equal(login.status, 200);
    const me = await c.json<{ user: { username: string; email: string } }>("/api/me");
    assert.equal(me.body.user.username, input.username);
  });
});

Deno.test("signUp() helper gives a logged-in client", async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    assert.equal((await client.fetch("/api/me")).status, 200);
  });
});
