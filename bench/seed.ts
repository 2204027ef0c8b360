/**
 * Bench-only seeding: writes users (activated, with a precomputed password hash), real sessions,
 * groups and DMs straight into a KV file through lib/, before the server opens it. Registering
 * thousands of users over HTTP would cost ~80 ms of PBKDF2 each.
 */
import { createUser, updateUser } from "../lib/accounts/users.ts";
import { createSession } from "../lib/accounts/sessions.ts";
import { createGroup, ensureDm, type Member, type UserConv } from "../lib/chat/conversations.ts";
import { hashPassword } from "../lib/accounts/password.ts";
import { keys } from "../lib/kv/keys.ts";
import type { Friend } from "../lib/social/friends.ts";

export interface SeededUser {
  id: string;
  username: string;
  /** The session token: the value of the hc_session cookie. */
  token: string;
}

/** Runs fn over items with at most `n` in flight. */
export async function pool<T, R>(
  items: T[],
  n: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

/** Creates `count` activated users, each with one live session. */
export async function seedUsers(
  kv: Deno.Kv,
  count: number,
  prefix = "bench",
): Promise<SeededUser[]> {
  const passwordHash = await hashPassword("bench password 1234");
  const run = Date.now().toString(36).slice(-4);
  return await pool(Array.from({ length: count }, (_, i) => i), 32, async (i) => {
    const username = `${prefix}${run}${i}`;
    const now = Date.now();
    const u = await createUser(kv, {
      username,
      email: `${username}@bench.invalid`,
      passwordHash,
      nickname: `Bench ${i}`,
      locale: "en",
    }, now);
    await updateUser(kv, u.id, (x) => ({ ...x, activatedAt: now }));
    const { token } = await createSession(kv, u.id, {
      userAgent: "happychat-bench",
      ip: "127.0.0.1",
    }, now);
    return { id: u.id, username, token };
  });
}

/**
 * A group with every given user as a member. createGroup writes the first members in one atomic
 * op; KV's 1000-mutation limit means the rest are added in further ops with the same records.
 */
export async function seedGroup(kv: Deno.Kv, title: string, users: SeededUser[]): Promise<string> {
  const [owner, ...rest] = users;
  const first = rest.slice(0, 400);
  const conv = await createGroup(kv, owner.id, title, first.map((u) => u.id));
  const now = Date.now();
  for (let i = 400; i < rest.length; i += 400) {
    const op = kv.atomic();
    for (const u of rest.slice(i, i + 400)) {
      const member: Member = { userId: u.id, role: "member", joinedAt: now, joinedSeq: 0 };
      const idx: UserConv = { convId: conv.id, kind: "group" };
      op.set(keys.member(conv.id, u.id), member).set(keys.userConv(u.id, conv.id), idx);
    }
    const res = await op.commit();
    if (!res.ok) throw new Error("Seeding group members failed");
  }
  return conv.id;
}

/**
 * Makes each consecutive pair (users[0]–users[1], users[2]–users[3], …) friends with their DM
 * open, as an accepted friend request leaves them (lib/social/friends.ts accept); returns the DM ids.
 */
export async function seedDms(kv: Deno.Kv, users: SeededUser[]): Promise<string[]> {
  const pairs = Array.from(
    { length: Math.floor(users.length / 2) },
    (_, i) => [users[2 * i], users[2 * i + 1]],
  );
  return await pool(pairs, 32, async ([a, b]) => {
    const now = Date.now();
    const dm = await ensureDm(kv, a.id, b.id, now);
    const friend: Friend = { since: now, remark: "", dm: dm.id };
    await kv.atomic().set(keys.friend(a.id, b.id), friend).set(keys.friend(b.id, a.id), friend)
      .commit();
    return dm.id;
  });
}
