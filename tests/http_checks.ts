/** Shared checks for the security and bad-input HTTP tests (not a test file itself). */
import assert from "node:assert/strict";
import sharp from "sharp";
import { Client, type TestServer } from "./helpers.ts";

export interface ApiError {
  error: { code: string; message: string; field?: string; retryAfter?: number };
}

/** Asserts a clear JSON error: the status, the code, a non-empty message and (if given) the field. */
export function assertError(
  res: { status: number; body: unknown; res?: Response },
  status: number,
  code: string,
  field?: string,
): ApiError["error"] {
  const label = JSON.stringify(res.body);
  assert.equal(res.status, status, label);
  const error = (res.body as ApiError).error;
  assert.ok(error, `no error object in ${label}`);
  assert.equal(error.code, code, label);
  assert.equal(typeof error.message, "string");
  assert.ok(error.message.length > 3, `message too short in ${label}`);
  assert.notEqual(error.message, code, "the message is for people, not the code");
  if (field !== undefined) assert.equal(error.field, field, label);
  if (res.res) assert.match(res.res.headers.get("Content-Type") ?? "", /^application\/json/);
  return error;
}

/**
 * Every KV key with its versionstamp, leaving out rate-limit counters (a refused request may
 * count against a limit). Equal snapshots before and after mean the request changed nothing.
 */
export async function snapshot(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: [] })) {
    // Rate counters, and the isolate's own registration renewed by its heartbeat on a timer.
    if (e.key[0] === "rate" || e.key[0] === "isolate") continue;
    out.push(`${JSON.stringify(e.key)}@${e.versionstamp}`);
  }
  return out;
}

/** A clock for startTestServer({ now }) that tests move forward by hand. */
export function testClock(start = Date.now()) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

/** A clock that runs with real time and that the test can move forward (timers still fire). */
export function skewClock() {
  let skew = 0;
  return {
    now: () => Date.now() + skew,
    advance(ms: number) {
      skew += ms;
    },
  };
}

/** A real PNG picture of the given size. */
export async function pngBytes(width = 64, height = 48): Promise<Uint8Array<ArrayBuffer>> {
  const img = sharp({ create: { width, height, channels: 3, background: "#22aa66" } });
  return Uint8Array.from(await img.png().toBuffer());
}

/** The session token in a client's cookie jar (plain or __Host- name). */
export function sessionToken(client: Client): string {
  const token = client.cookies.get("hc_session") ?? client.cookies.get("__Host-hc_session");
  assert.ok(token, "the client has a session cookie");
  return token;
}

/** A fresh client that presents the given session token (a second device, or a stolen cookie). */
export function clientWithToken(server: TestServer, token: string, name = "hc_session"): Client {
  const c = new Client(server);
  c.cookies.set(name, token);
  return c;
}

/** A second device: logs in to an existing account with a new client. */
export async function loginAgain(
  server: TestServer,
  input: { username: string; password: string },
): Promise<Client> {
  const c = new Client(server);
  const res = await c.post("/api/auth/login", { login: input.username, password: input.password });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return c;
}

/** Status of GET /api/me for a client: 200 logged in, 401 not. */
export async function meStatus(client: Client): Promise<number> {
  const res = await client.fetch("/api/me");
  await res.body?.cancel();
  return res.status;
}
