import assert from "node:assert/strict";
import { withKv } from "../kv/_test_kv.ts";
import {
  createUser,
  findUserByLogin,
  findUserByUsername,
  getUser,
  toPublic,
  updateUser,
  type User,
} from "./users.ts";
import { HttpError } from "../errors.ts";
import { keys } from "../kv/keys.ts";

function input(username: string, email: string) {
  return {
    username,
    email,
    passwordHash: "pbkdf2-sha256$1$AA$AA",
    nickname: username,
    locale: "en" as const,
  };
}

async function countUsers(kv: Deno.Kv): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: keys.usersPrefix() })) n++;
  return n;
}

/** Every key and versionstamp, to show that a refused write changed nothing. */
async function snapshot(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: [] })) {
    out.push(`${JSON.stringify(e.key)}@${e.versionstamp}`);
  }
  return out;
}

async function refusal(p: Promise<unknown>): Promise<HttpError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof HttpError, `expected an HttpError, got ${err}`);
    return err;
  }
  assert.fail("expected a refusal");
}

Deno.test("createUser() stores the user with its username and e-mail indexes", () =>
  withKv(async (kv) => {
    const u = await createUser(kv, input("Alice_1", "Alice@Example.com"), 1000);
    assert.equal(u.username, "Alice_1", "display case is kept");
    assert.equal(u.activatedAt, null);
    assert.equal(u.createdAt, 1000);
    assert.deepEqual(await getUser(kv, u.id), u);
    assert.equal((await kv.get(keys.userByName("alice_1"))).value, u.id);
    assert.equal((await kv.get(keys.userByEmail("alice@example.com"))).value, u.id);
  }));

Deno.test("createUser() refuses a username taken in another letter case and writes nothing", () =>
  withKv(async (kv) => {
    await createUser(kv, input("Alice_1", "one@example.com"));
    const before = await snapshot(kv);
    const err = await refusal(createUser(kv, input("aLICE_1", "two@example.com")));
    assert.equal(err.status, 409);
    assert.equal(err.code, "username_taken");
    assert.equal(err.extra.field, "username");
    assert.deepEqual(await snapshot(kv), before);
  }));

Deno.test("createUser() refuses an e-mail taken in another letter case and writes nothing", () =>
  withKv(async (kv) => {
    await createUser(kv, input("first", "Same@Example.com"));
    const before = await snapshot(kv);
    const err = await refusal(createUser(kv, input("second", "same@EXAMPLE.COM")));
    assert.equal(err.status, 409);
    assert.equal(err.code, "email_taken");
    assert.equal(err.extra.field, "email");
    assert.deepEqual(await snapshot(kv), before);
  }));

Deno.test("createUser() run concurrently for one username lets exactly one win", () =>
  withKv(async (kv) => {
    const names = ["race_name", "RACE_NAME", "Race_Name", "race_NAME", "rAce_name", "RACE_name"];
    const results = await Promise.allSettled(
      names.map((n, i) => createUser(kv, input(n, `r${i}@example.com`))),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    assert.equal(won.length, 1);
    for (const r of results) {
      if (r.status === "rejected") assert.equal((r.reason as HttpError).code, "username_taken");
    }
    assert.equal(await countUsers(kv), 1);
    const winner = (won[0] as PromiseFulfilledResult<User>).value;
    assert.equal((await findUserByUsername(kv, "race_name"))?.id, winner.id);
  }));

Deno.test("createUser() run concurrently for one e-mail lets exactly one win", () =>
  withKv(async (kv) => {
    const results = await Promise.allSettled(
      [0, 1, 2, 3, 4].map((i) =>
        createUser(kv, input(`name${i}`, i % 2 ? "race@example.com" : "RACE@example.com"))
      ),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    assert.equal(await countUsers(kv), 1);
    let emailIndexes = 0;
    for await (const _ of kv.list({ prefix: ["users_by_email"] })) emailIndexes++;
    assert.equal(emailIndexes, 1);
  }));

Deno.test("findUserByLogin() finds by username or e-mail in any case, ignoring spaces", () =>
  withKv(async (kv) => {
    const u = await createUser(kv, input("Bob_2", "Bob@Example.com"));
    assert.equal((await findUserByLogin(kv, "bob_2"))?.id, u.id);
    assert.equal((await findUserByLogin(kv, " BOB_2 "))?.id, u.id);
    assert.equal((await findUserByLogin(kv, "BOB@example.COM"))?.id, u.id);
    assert.equal(await findUserByLogin(kv, "nobody"), null);
    assert.equal(await findUserByLogin(kv, "nobody@example.com"), null);
  }));

Deno.test("findUserByLogin() and findUserByUsername() return null for input past KV's key limit", () =>
  withKv(async (kv) => {
    assert.equal(await findUserByLogin(kv, "a".repeat(5000)), null);
    assert.equal(await findUserByLogin(kv, "a".repeat(5000) + "@example.com"), null);
    assert.equal(await findUserByUsername(kv, "a".repeat(5000)), null);
  }));

Deno.test("toPublic() never includes the e-mail or the password hash", () =>
  withKv(async (kv) => {
    const u = await createUser(kv, input("carol", "carol@example.com"));
    const text = JSON.stringify(toPublic(u));
    assert.ok(!text.includes("carol@example.com"));
    assert.ok(!text.includes("pbkdf2"));
    assert.ok(!("email" in toPublic(u)));
  }));

Deno.test("updateUser() applies concurrent changes without losing any", () =>
  withKv(async (kv) => {
    const u = await createUser(kv, input("dave", "dave@example.com"));
    await Promise.all(
      ["a", "b", "c", "d", "e"].map((ch) =>
        updateUser(kv, u.id, (cur) => ({ ...cur, bio: cur.bio + ch }))
      ),
    );
    const bio = (await getUser(kv, u.id))!.bio;
    assert.deepEqual([...bio].sort().join(""), "abcde");
  }));

Deno.test("updateUser() on a missing user is a 404", () =>
  withKv(async (kv) => {
    const err = await refusal(updateUser(kv, "missing", (u) => u));
    assert.equal(err.status, 404);
  }));
