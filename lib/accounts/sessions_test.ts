import assert from "node:assert/strict";
import { withKv } from "../kv/_test_kv.ts";
import {
  createSession,
  getSession,
  listSessions,
  revokeAllSessions,
  revokeSession,
  SESSION_IDLE_MS,
} from "./sessions.ts";
import { sha256 } from "../ids.ts";
import { keys } from "../kv/keys.ts";

const META = { userAgent: "TestAgent/1.0", ip: "127.0.0.1" };
const T0 = 1_700_000_000_000;
const HOUR = 3600_000;

Deno.test("createSession() returns a 256-bit token that getSession() resolves to the user", () =>
  withKv(async (kv) => {
    const { token, session } = await createSession(kv, "u1", META, T0);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    const got = await getSession(kv, token, T0 + 1);
    assert.equal(got?.id, session.id);
    assert.equal(got?.userId, "u1");
    assert.equal(got?.userAgent, "TestAgent/1.0");
  }));

Deno.test("createSession() stores only the token's hash, never the token", () =>
  withKv(async (kv) => {
    const { token } = await createSession(kv, "u1", META, T0);
    const stored = await kv.get(keys.session(sha256(token)));
    assert.ok(stored.value, "the session is stored under the token's SHA-256");
    for await (const e of kv.list({ prefix: [] })) {
      assert.ok(!JSON.stringify(e.key).includes(token), "token in a key");
      assert.ok(!JSON.stringify(e.value).includes(token), "token in a value");
    }
  }));

Deno.test("createSession() gives a different token every time", () =>
  withKv(async (kv) => {
    const a = await createSession(kv, "u1", META, T0);
    const b = await createSession(kv, "u1", META, T0);
    assert.notEqual(a.token, b.token);
    assert.notEqual(a.session.id, b.session.id);
  }));

Deno.test("getSession() returns null for an unknown, empty or overlong token", () =>
  withKv(async (kv) => {
    await createSession(kv, "u1", META, T0);
    assert.equal(await getSession(kv, "x".repeat(43), T0), null);
    assert.equal(await getSession(kv, "", T0), null);
    assert.equal(await getSession(kv, "x".repeat(5000), T0), null);
  }));

Deno.test("getSession() ends a session idle for longer than the idle limit", () =>
  withKv(async (kv) => {
    const idle = await createSession(kv, "u1", META, T0);
    const edge = await createSession(kv, "u1", META, T0);
    assert.equal(await getSession(kv, idle.token, T0 + SESSION_IDLE_MS + 1), null);
    assert.ok(await getSession(kv, edge.token, T0 + SESSION_IDLE_MS), "alive up to the limit");
  }));

Deno.test("getSession() keeps an active session alive: use moves the idle deadline", () =>
  withKv(async (kv) => {
    const { token } = await createSession(kv, "u1", META, T0);
    const seen = await getSession(kv, token, T0 + 2 * HOUR);
    assert.equal(seen?.lastSeenAt, T0 + 2 * HOUR);
    assert.ok(await getSession(kv, token, T0 + 2 * HOUR + SESSION_IDLE_MS - 1));
  }));

Deno.test("listSessions() lists a user's live sessions, most recently used first", () =>
  withKv(async (kv) => {
    const a = await createSession(kv, "u1", META, T0);
    const b = await createSession(kv, "u1", META, T0 + 1000);
    await createSession(kv, "u2", META, T0);
    await getSession(kv, a.token, T0 + 2 * HOUR);
    const list = await listSessions(kv, "u1", T0 + 2 * HOUR);
    assert.deepEqual(list.map((s) => s.id), [a.session.id, b.session.id]);
    const later = await listSessions(kv, "u1", T0 + 1000 + SESSION_IDLE_MS + 1);
    assert.deepEqual(later.map((s) => s.id), [a.session.id], "the idle session is not listed");
  }));

Deno.test("listSessions() pages through more than ten sessions", () =>
  withKv(async (kv) => {
    for (let i = 0; i < 13; i++) await createSession(kv, "u1", META, T0 + i);
    assert.equal((await listSessions(kv, "u1", T0 + 100)).length, 13);
  }));

Deno.test("revokeSession() ends one session and leaves the others", () =>
  withKv(async (kv) => {
    const a = await createSession(kv, "u1", META, T0);
    const b = await createSession(kv, "u1", META, T0);
    assert.equal(await revokeSession(kv, "u1", a.session.id), true);
    assert.equal(await getSession(kv, a.token, T0), null);
    assert.ok(await getSession(kv, b.token, T0));
    assert.equal(await revokeSession(kv, "u1", a.session.id), false, "already ended");
  }));

Deno.test("revokeSession() refuses to end another user's session", () =>
  withKv(async (kv) => {
    const theirs = await createSession(kv, "victim", META, T0);
    assert.equal(await revokeSession(kv, "attacker", theirs.session.id), false);
    assert.ok(await getSession(kv, theirs.token, T0));
  }));

Deno.test("revokeSession() returns false for an unknown or overlong id instead of throwing", () =>
  withKv(async (kv) => {
    assert.equal(await revokeSession(kv, "u1", "nope"), false);
    assert.equal(await revokeSession(kv, "u1", "x".repeat(3000)), false);
  }));

Deno.test("revokeAllSessions() ends every session of the user except the one kept", () =>
  withKv(async (kv) => {
    const keep = await createSession(kv, "u1", META, T0);
    const others = await Promise.all([1, 2, 3].map(() => createSession(kv, "u1", META, T0)));
    const stranger = await createSession(kv, "u2", META, T0);
    assert.equal(await revokeAllSessions(kv, "u1", keep.session.id), 3);
    assert.ok(await getSession(kv, keep.token, T0));
    for (const o of others) assert.equal(await getSession(kv, o.token, T0), null);
    assert.ok(await getSession(kv, stranger.token, T0), "other users keep their sessions");
    assert.equal(await revokeAllSessions(kv, "u1"), 1);
    assert.equal(await getSession(kv, keep.token, T0), null);
    assert.deepEqual(await listSessions(kv, "u1", T0), []);
  }));
