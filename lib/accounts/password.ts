/** Password hashing (PBKDF2-SHA256, 600,000 iterations, WebCrypto) and the password rules. */
import { base64url, timingSafeEqual } from "../ids.ts";
import { COMMON_PASSWORDS } from "./common_passwords.ts";
import { HttpError } from "../errors.ts";
import { WorkLimit, WorkLimitFull } from "../kv/work_limit.ts";

export const PBKDF2_ITERATIONS = 600_000;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/**
 * Counts the PBKDF2 runs asked for, and lets a test hold them at a gate: the login tests use it to
 * prove how many password checks a burst of requests can cause.
 */
export const passwordProbe = {
  /** PBKDF2 runs asked for since the process started (checks, hashes and burned checks). */
  requested: 0,
  /** Awaited at the start of each run when set. */
  hook: null as null | (() => Promise<void> | void),
  /**
   * Iterations for new hashes instead of PBKDF2_ITERATIONS. Only tests set it (tests/helpers.ts,
   * for flows that are not about passwords): nothing in the server or its config can.
   */
  iterations: null as number | null,
};

const CORES = Math.max(1, navigator.hardwareConcurrency || 1);

/**
 * Every PBKDF2 run in the process goes through this: 1 per core at once, 8 per core waiting, the
 * rest refused with 503. Without it a burst of 600 logins started 600 runs at once; they shared
 * the cores and stalled every other request (/healthz answered after 5–6 s). Measured on 2 cores
 * under a flood of 600 logins from 600 addresses: with 2 runs per core /healthz took 100–140 ms
 * at the median, with 1 per core 2–4 ms.
 */
export const passwordWork = new WorkLimit(CORES, 8 * CORES);

/** Seconds a client refused for a full password queue is asked to wait. */
const BUSY_RETRY_S = 1;

function busy(): HttpError {
  return new HttpError(503, "server_busy", `Server busy; try again in ${BUSY_RETRY_S} s`, {
    retryAfter: BUSY_RETRY_S,
    params: { seconds: BUSY_RETRY_S },
  });
}

/**
 * Throws the 503 at once when no password work can be taken now, so that a request that would be
 * refused anyway does not first write its rate-limit slots (under a flood, those KV writes were
 * what kept /healthz waiting). Work can still be refused later; callers handle that too.
 */
export function refuseWhenPasswordWorkFull(): void {
  if (passwordWork.full) throw busy();
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  passwordProbe.requested++;
  await passwordProbe.hook?.();
  try {
    return await passwordWork.run(() => pbkdf2(password, salt, iterations));
  } catch (err) {
    throw err instanceof WorkLimitFull ? busy() : err;
  }
}

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
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
  iterations = passwordProbe.iterations ?? PBKDF2_ITERATIONS,
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

/** Spends the same time as a real check, for logins to accounts that do not exist. */
export async function burnPasswordCheck(password: string): Promise<void> {
  await derive(password, crypto.getRandomValues(new Uint8Array(16)), PBKDF2_ITERATIONS);
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
