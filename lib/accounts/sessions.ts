/** Login sessions: random tokens (256 bits) stored only as SHA-256 hashes. */
import { keys } from "../kv/keys.ts";
import { newId, newToken, sha256 } from "../ids.ts";

export const SESSION_IDLE_MS = 30 * 24 * 3600_000;
const TOUCH_EVERY_MS = 3600_000;

export interface Session {
  id: string;
  userId: string;
  tokenHash: string;
  createdAt: number;
  lastSeenAt: number;
  userAgent: string;
  ip: string;
  /** Set (never stored) when this read extended the session: the cookie should be renewed too. */
  refreshed?: boolean;
}

/** Starts a session; returns the token to put in the cookie (never stored as is). */
export async function createSession(
  kv: Deno.Kv,
  userId: string,
  meta: { userAgent: string; ip: string },
  now = Date.now(),
): Promise<{ token: string; session: Session }> {
  const token = newToken(32);
  const tokenHash = sha256(token);
  const session: Session = {
    id: newId(now),
    userId,
    tokenHash,
    createdAt: now,
    lastSeenAt: now,
    userAgent: meta.userAgent.slice(0, 300),
    ip: meta.ip,
  };
  await kv.atomic()
    .set(keys.session(tokenHash), session, { expireIn: SESSION_IDLE_MS })
    .set(keys.userSession(userId, session.id), tokenHash, { expireIn: SESSION_IDLE_MS })
    .commit();
  return { token, session };
}

/** The live session for a cookie token, or null. Refreshes last-seen at most hourly. */
export async function getSession(
  kv: Deno.Kv,
  token: string,
  now = Date.now(),
): Promise<Session | null> {
  if (!token || token.length > 100) return null;
  const tokenHash = sha256(token);
  const entry = await kv.get<Session>(keys.session(tokenHash));
  const s = entry.value;
  // expireIn is only a hint: check expiry here.
  if (!s || now - s.lastSeenAt > SESSION_IDLE_MS) return null;
  if (now - s.lastSeenAt > TOUCH_EVERY_MS) {
    const touched = { ...s, lastSeenAt: now };
    await kv.atomic().check(entry)
      .set(keys.session(tokenHash), touched, { expireIn: SESSION_IDLE_MS })
      .set(keys.userSession(s.userId, s.id), tokenHash, { expireIn: SESSION_IDLE_MS })
      .commit();
    return { ...touched, refreshed: true };
  }
  return s;
}

/** All live sessions of a user, newest activity first. */
export async function listSessions(
  kv: Deno.Kv,
  userId: string,
  now = Date.now(),
): Promise<Session[]> {
  const hashes: string[] = [];
  for await (const e of kv.list<string>({ prefix: keys.userSessions(userId) })) {
    hashes.push(e.value);
  }
  const out: Session[] = [];
  for (let i = 0; i < hashes.length; i += 10) {
    const got = await kv.getMany<Session[]>(hashes.slice(i, i + 10).map((h) => keys.session(h)));
    for (const e of got) {
      if (e.value && now - e.value.lastSeenAt <= SESSION_IDLE_MS) out.push(e.value);
    }
  }
  return out.sort((a, b) => b.lastSeenAt - a.lastSeenAt);
}

/** Ends one session of a user by its id; false if it was not theirs or not live. */
export async function revokeSession(
  kv: Deno.Kv,
  userId: string,
  sessionId: string,
): Promise<boolean> {
  // Ids come from newId(); anything else (e.g. a URL parameter past KV's 2 KiB key limit) is unknown.
  if (!/^[0-9a-z]{20}$/.test(sessionId)) return false;
  const idx = await kv.get<string>(keys.userSession(userId, sessionId));
  if (!idx.value) return false;
  await kv.atomic().delete(keys.session(idx.value)).delete(keys.userSession(userId, sessionId))
    .commit();
  return true;
}

/** Ends every session of a user except `keepId` (if given). Returns how many ended. */
export async function revokeAllSessions(
  kv: Deno.Kv,
  userId: string,
  keepId?: string,
): Promise<number> {
  let n = 0;
  let op = kv.atomic();
  let ops = 0;
  for await (const e of kv.list<string>({ prefix: keys.userSessions(userId) })) {
    const sessionId = e.key[2] as string;
    if (sessionId === keepId) continue;
    op = op.delete(keys.session(e.value)).delete(e.key);
    n++;
    if (++ops >= 400) {
      await op.commit();
      op = kv.atomic();
      ops = 0;
    }
  }
  if (ops) await op.commit();
  return n;
}
