/** Password hashing (PBKDF2-SHA256, 600,000 iterations, WebCrypto) and the password rules. */
import { base64url, timingSafeEqual } from "./ids.ts";
import { COMMON_PASSWORDS } from "./common_passwords.ts";

export const PBKDF2_ITERATIONS = 600_000;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password.normalize("NFC")),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as BufferSource, iterations },
    key,
    256,
  );
  return new Uint8Array(bits);
}

function fromBase64url(s: string): Uint8Array {
  const b = atob(s.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

/** Hashes a password into "pbkdf2-sha256$iterations$salt$hash". */
export async function hashPassword(
  password: string,
  iterations = PBKDF2_ITERATIONS,
): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, iterations);
  return `pbkdf2-sha256$${iterations}$${base64url(salt)}$${base64url(hash)}`;
}

/** Checks a password against a stored hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iter, salt, hash] = stored.split("$");
  const iterations = Number(iter);
  // A malformed record is a failed check, never an exception (WebCrypto throws on bad counts).
  if (scheme !== "pbkdf2-sha256" || !salt || !hash) return false;
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 0xffffffff) return false;
  let saltBytes: Uint8Array;
  try {
    saltBytes = fromBase64url(salt);
  } catch {
    return false;
  }
  const got = await derive(password, saltBytes, iterations);
  return timingSafeEqual(base64url(got), hash);
}

let dummy: Promise<string> | undefined;
/** Spends the same time as a real check, for logins to accounts that do not exist. */
export async function burnPasswordCheck(password: string): Promise<void> {
  dummy ??= hashPassword("not-a-real-password");
  await verifyPassword(password, await dummy);
}

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(
  password: string,
  context: { username?: string; email?: string } = {},
): "password_short" | "password_long" | "password_common" | "password_personal" | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN) return "password_short";
  if (length > PASSWORD_MAX) return "password_long";
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return "password_common";
  if (/^(.)\1+$/.test(password)) return "password_common";
  const personal = [context.username, context.email?.split("@")[0]].filter((s): s is string =>
    !!s && s.length >= 3
  );
  if (
    personal.some((p) =>
      lower === p.toLowerCase() || lower.includes(p.toLowerCase()) && length - p.length < 4
    )
  ) {
    return "password_personal";
  }
  return null;
}
