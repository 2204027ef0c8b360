/**
 * Names others see (nickname, group title, name in a group) cannot pass for the bot or the staff,
 * and no single-line name field takes invisible or line-breaking characters.
 */
import assert from "node:assert/strict";
import { Client, friendsDm, newUserInput, signUp, withServer } from "./helpers.ts";
import { assertError, snapshot } from "./http_checks.ts";

const LOOK_ALIKES = [
  "HappyChat Bot",
  "happychat　bot", // an ideographic space
  "ＨａｐｐｙＢｏｔ",
  "Hаppy Bot", // a Cyrillic а
  "乐聊机器人",
  "乐聊 官方",
  "ADMIN",
  "Sys-tem",
];
const INVISIBLE = [
  "Ann\u2028Bob",
  "Ann\u2029Bob",
  "Ann\u200B",
  "\u202Eevil",
  "a\u0085b",
  "A\u00ADB",
];

Deno.test("the profile refuses a nickname that passes for the bot or the staff, or hides characters", async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    const before = await snapshot(server.kv);
    for (const nickname of LOOK_ALIKES) {
      const res = await client.json("/api/me", { method: "PATCH", json: { nickname } });
      assertError(res, 400, "name_reserved", "nickname");
    }
    for (const nickname of INVISIBLE) {
      const res = await client.json("/api/me", { method: "PATCH", json: { nickname } });
      assertError(res, 400, "bad_input", "nickname");
    }
    for (const region of INVISIBLE) {
      const res = await client.json("/api/me", { method: "PATCH", json: { region } });
      assertError(res, 400, "bad_input", "region");
    }
    assert.deepEqual(await snapshot(server.kv), before);
    const ok = await client.json("/api/me", { method: "PATCH", json: { nickname: "快乐聊天 🐼" } });
    assert.equal(ok.status, 200);
  });
});

Deno.test("group titles and names in a group refuse look-alikes and invisible characters", async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    for (const title of LOOK_ALIKES) {
      assertError(
        await client.post("/api/groups", { title, members: [] }),
        400,
        "name_reserved",
        "title",
      );
    }
    for (const title of INVISIBLE) {
      assertError(
        await client.post("/api/groups", { title, members: [] }),
        400,
        "bad_input",
        "title",
      );
    }
    const made = await client.post("/api/groups", { title: "Weekend hikes", members: [] });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = (made.body as { group: { id: string } }).group.id;
    const before = await snapshot(server.kv);
    for (const displayName of LOOK_ALIKES) {
      const res = await client.json(`/api/groups/${id}/me`, {
        method: "PUT",
        json: { displayName },
      });
      assertError(res, 400, "name_reserved", "displayName");
    }
    for (const displayName of INVISIBLE) {
      const res = await client.json(`/api/groups/${id}/me`, {
        method: "PUT",
        json: { displayName },
      });
      assertError(res, 400, "bad_input", "displayName");
    }
    for (const title of ["HappyChat Official", "Line\u2028break"]) {
      const res = await client.json(`/api/groups/${id}`, { method: "PATCH", json: { title } });
      assert.equal(res.status, 400, `${JSON.stringify(title)}: ${JSON.stringify(res.body)}`);
    }
    assert.deepEqual(await snapshot(server.kv), before);
  });
});

Deno.test("a friend's remark refuses invisible and line-breaking characters", async () => {
  await withServer(async (server) => {
    const a = await signUp(server, newUserInput("a"));
    const b = await signUp(server, newUserInput("b"));
    await friendsDm(server, a.userId, b.userId);
    const before = await snapshot(server.kv);
    for (const remark of INVISIBLE) {
      const res = await a.client.json(`/api/friends/${b.userId}/remark`, {
        method: "PUT",
        json: { remark },
      });
      assertError(res, 400, "bad_input", "remark");
    }
    assert.deepEqual(await snapshot(server.kv), before);
    // A remark is private, so a look-alike is the user's own business.
    const ok = await a.client.json(`/api/friends/${b.userId}/remark`, {
      method: "PUT",
      json: { remark: "HappyChat Bot" },
    });
    assert.equal(ok.status, 200);
  });
});

Deno.test("register refuses a nickname with a line separator and changes nothing", async () => {
  await withServer(async (server) => {
    const before = await snapshot(server.kv);
    const res = await new Client(server).post("/api/auth/register", {
      ...newUserInput(),
      nickname: "Win $$$\u2028at evil.example",
    });
    assertError(res, 400, "bad_input", "nickname");
    assert.deepEqual(await snapshot(server.kv), before);
  });
});
