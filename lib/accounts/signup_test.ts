import assert from "node:assert/strict";
import { withKv } from "../kv/_test_kv.ts";
import {
  activateAccount,
  claimSignup,
  SIGNUP_TTL_MS,
  signupExpired,
  usernameFree,
} from "./signup.ts";
import { findUserByLogin, getUser, type User } from "./users.ts";
import { HttpError } from "../errors.ts";
import { keys } from "../kv/keys.ts";

const T0 = 1_700_000_000_000;

function input(username: string, email: string) {
  return {
    username,
    email,
    passwordHash: "pbkdf2-sha256$1$AA$AA",
    nickname: `Nick ${username}`,
    locale: "en" as const,
  };
}

async function keysUnder(kv: Deno.Kv, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: [prefix] })) out.push(JSON.stringify(e.key));
  return out;
}

async function refusal(p: Promise<unknown>): Promise<HttpError> {
  const err = await p.then(() => null, (e) => e);
  assert.ok(err instanceof HttpError, `expected an HttpError, got ${err}`);
  return err;
}

Deno.test("claimSignup() with a free name and address stores an unactivated user and its indexes", () =>
  withKv(async (kv) => {
    const r = await claimSignup(kv, input("Ann", "Ann@Example.com"), T0);
    assert.equal(r.kind, "created");
    const user = (r as { user: User }).user;
    assert.equal(user.activatedAt, null);
    assert.equal(user.decoy, undefined);
    assert.equal((await kv.get(keys.userByName("ann"))).value, user.id);
    assert.equal((await kv.get(keys.userByEmail("ann@example.com"))).value, user.id);
    assert.equal((await kv.get(keys.botConv(user.id))).value, null, "the bot waits for activation");
  }));

Deno.test("claimSignup() with a taken address makes a decoy that holds only the username", () =>
  withKv(async (kv) => {
    const first = await claimSignup(kv, input("owner", "o@example.com"), T0);
    const r = await claimSignup(kv, input("probe", "O@EXAMPLE.COM"), T0 + 1);
    assert.equal(r.kind, "email_taken");
    assert.equal((r as { owner: User }).owner.id, (first as { user: User }).user.id);
    const decoy = await findUserByLogin(kv, "probe");
    assert.equal(decoy?.decoy, true);
    assert.equal((await findUserByLogin(kv, "o@example.com"))?.username, "owner");
    assert.equal(await usernameFree(kv, "PROBE", T0 + 2), false);
    await assert.rejects(activateAccount(kv, decoy!.id, T0 + 2), /invalid/);
  }));

Deno.test("claimSignup() refuses a name held by a pending sign-up, and writes nothing", () =>
  withKv(async (kv) => {
    await claimSignup(kv, input("held", "h@example.com"), T0);
    const before = await keysUnder(kv, "users");
    const err = await refusal(claimSignup(kv, input("HELD", "x@example.com"), T0 + 1000));
    assert.equal(err.code, "username_taken");
    assert.equal(err.status, 409);
    assert.deepEqual(await keysUnder(kv, "users"), before);
  }));

Deno.test("an expired sign-up yields its name and address, and leaves no index behind", () =>
  withKv(async (kv) => {
    const old = (await claimSignup(kv, input("squat", "s@example.com"), T0)) as { user: User };
    const later = T0 + SIGNUP_TTL_MS;
    assert.equal(signupExpired(old.user, later - 1), false);
    assert.equal(signupExpired(old.user, later), true);
    assert.equal(await usernameFree(kv, "squat", later), true);
    const r = await claimSignup(kv, input("other", "S@example.com"), later);
    assert.equal(r.kind, "created", "the address went to the new sign-up");
    assert.equal(await getUser(kv, old.user.id), null);
    assert.deepEqual(await keysUnder(kv, "users_by_name"), [
      JSON.stringify(["users_by_name", "other"]),
    ]);
    assert.deepEqual(await keysUnder(kv, "users_by_email"), [
      JSON.stringify(["users_by_email", "s@example.com"]),
    ]);
    assert.equal((await keysUnder(kv, "users_by_nick")).length, 1);
    await assert.rejects(activateAccount(kv, old.user.id, later), /invalid/);
  }));

Deno.test("an activated account never expires", () =>
  withKv(async (kv) => {
    const r = (await claimSignup(kv, input("kept", "k@example.com"), T0)) as { user: User };
    await activateAccount(kv, r.user.id, T0 + 1000);
    const much = T0 + 10 * SIGNUP_TTL_MS;
    assert.equal(await usernameFree(kv, "kept", much), false);
    const again = await claimSignup(kv, input("new_one", "k@example.com"), much);
    assert.equal(again.kind, "email_taken");
  }));

Deno.test("racing sign-ups for an expired sign-up's name: exactly one gets it", () =>
  withKv(async (kv) => {
    await claimSignup(kv, input("race", "r0@example.com"), T0);
    const later = T0 + SIGNUP_TTL_MS + 1;
    const results = await Promise.allSettled(
      [1, 2, 3, 4, 5, 6].map((i) => claimSignup(kv, input("RACE", `r${i}@example.com`), later)),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    assert.equal(won.length, 1);
    for (const r of results) {
      if (r.status === "rejected") assert.equal((r.reason as HttpError).code, "username_taken");
    }
    assert.equal((await keysUnder(kv, "users")).length, 1);
    assert.equal((await keysUnder(kv, "users_by_email")).length, 1);
  }));

Deno.test("activateAccount() opens the bot conversation once and applies the change in the same write", () =>
  withKv(async (kv) => {
    const r = (await claimSignup(kv, input("act", "a@example.com"), T0)) as { user: User };
    const u = await activateAccount(kv, r.user.id, T0 + 5, (x) => ({ ...x, passwordHash: "new" }));
    assert.equal(u.activatedAt, T0 + 5);
    assert.equal(u.passwordHash, "new");
    const conv = (await kv.get<string>(keys.botConv(r.user.id))).value;
    assert.ok(conv, "the bot conversation exists");
    const again = await activateAccount(kv, r.user.id, T0 + 9);
    assert.equal(again.activatedAt, T0 + 5, "the first activation time stays");
    assert.equal((await kv.get<string>(keys.botConv(r.user.id))).value, conv);
  }));
