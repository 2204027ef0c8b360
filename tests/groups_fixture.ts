/** Shared set-up for the group HTTP, matrix, race and WebSocket tests (not a test file itself). */
import assert from "node:assert/strict";
import { type Client, friendsDm, type TestServer } from "./helpers.ts";
import { clientWithToken } from "./http_checks.ts";
import { createUser, updateUser, type User } from "../lib/accounts/users.ts";
import { createSession } from "../lib/accounts/sessions.ts";
import { keys } from "../lib/kv/keys.ts";
import type { Conversation } from "../lib/chat/conversations.ts";
import type { GroupInfo } from "../lib/wire/api.ts";

export interface Person {
  client: Client;
  id: string;
  user: User;
}

let n = 0;

/** A logged-in client for `userId`: a new session, as a login would make (a second device). */
export async function device(server: TestServer, userId: string): Promise<Client> {
  const { token } = await createSession(
    server.kv,
    userId,
    { userAgent: "test", ip: "127.0.0.1" },
    server.rt.now(),
  );
  return clientWithToken(server, token);
}

/**
 * One activated, logged-in person per name. Made directly in KV (sign-up over HTTP is tested
 * elsewhere and is limited to 10 per hour per address, fewer than these tests need).
 */
export async function people<N extends string>(
  server: TestServer,
  names: readonly N[],
): Promise<Record<N, Person>> {
  const got = await Promise.all(names.map(async (name) => {
    const username = `${name.replace(/[^a-z0-9]/gi, "").slice(0, 8) || "p"}${
      Date.now().toString(36)
    }${n++}`.slice(0, 20);
    const now = server.rt.now();
    const u = await createUser(server.kv, {
      username,
      email: `${username}@example.com`,
      passwordHash: "-",
      nickname: `Nick ${name}`,
      locale: "en",
    }, now);
    const user = await updateUser(server.kv, u.id, (x) => ({ ...x, activatedAt: now }));
    return [name, { client: await device(server, u.id), id: u.id, user }] as const;
  }));
  return Object.fromEntries(got) as unknown as Record<N, Person>;
}

/** Makes `a` friends with each of `others` the way the app does. */
export async function befriend(server: TestServer, a: Person, ...others: Person[]): Promise<void> {
  for (const b of others) await friendsDm(server, a.id, b.id);
}

/** A JSON call: `call(client, "PATCH", path, body)`. */
export function call<T = Record<string, unknown>>(
  c: Client,
  method: string,
  path: string,
  json?: unknown,
) {
  return c.json<T>(path, { method, ...(json === undefined ? {} : { json }) });
}

/** Creates a group over HTTP and returns its info (asserting 201). */
export async function newGroup(
  owner: Person,
  title: string,
  members: Person[] = [],
): Promise<GroupInfo> {
  const res = await call<{ group: GroupInfo }>(owner.client, "POST", "/api/groups", {
    title,
    members: members.map((m) => m.id),
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.group;
}

/** Changes the group record directly (tests only): e.g. a small cap. */
export async function patchRecord(
  server: TestServer,
  id: string,
  patch: Partial<Conversation>,
): Promise<void> {
  const cur = (await server.kv.get<Conversation>(keys.conv(id))).value!;
  await server.kv.set(keys.conv(id), { ...cur, ...patch });
}

/** Ids of the group's members as stored. */
export async function memberIds(server: TestServer, id: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of server.kv.list({ prefix: keys.members(id) })) out.push(e.key[2] as string);
  return out.sort();
}
