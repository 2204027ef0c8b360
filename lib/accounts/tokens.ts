/** Single-use, expiring tokens sent by e-mail (activation, password reset). 256 bits, stored hashed. */
import { keys } from "../kv/keys.ts";
import { newToken, sha256 } from "../ids.ts";

export type TokenPurpose = "activate" | "reset";

export const TOKEN_TTL_MS: Record<TokenPurpose, number> = {
  activate: 24 * 3600_000,
  reset: 3600_000,
};

interface StoredToken {
  purpose: TokenPurpose;
  userId: string;
  expiresAt: number;
}

/** Makes a token for the user; only its hash is stored. */
export async function issueToken(
  kv: Deno.Kv,
  purpose: TokenPurpose,
  userId: string,
  now = Date.now(),
): Promise<string> {
  const token = newToken(32);
  const value: StoredToken = { purpose, userId, expiresAt: now + TOKEN_TTL_MS[purpose] };
  await kv.set(keys.emailToken(sha256(token)), value, { expireIn: TOKEN_TTL_MS[purpose] });
  return token;
}

/** Uses a token up: returns its user id once; null if forged, used, expired or of another purpose. */
export async function consumeToken(
  kv: Deno.Kv,
  purpose: TokenPurpose,
  token: string,
  now = Date.now(),
): Promise<string | null> {
  if (typeof token !== "string" || token.length < 20 || token.length > 100) return null;
  const key = keys.emailToken(sha256(token));
  const entry = await kv.get<StoredToken>(key);
  const v = entry.value;
  if (!v || v.purpose !== purpose) return null;
  // The check makes two concurrent uses of one token succeed only once.
  const res = await kv.atomic().check(entry).delete(key).commit();
  if (!res.ok || v.expiresAt <= now) return null;
  return v.userId;
}
