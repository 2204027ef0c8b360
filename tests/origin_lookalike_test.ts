/**
 * Origins that look like the app's but are not it: refused by the HTTP cross-site check (JSON API
 * and form posts) and by the /ws upgrade. Only the exact APP_ORIGIN passes. These fail if the
 * check is loosened to a prefix, suffix or host comparison.
 */
import assert from "node:assert/strict";
import { Client, type TestServer, withServer } from "./helpers.ts";
import { type ApiError, clientWithToken, meStatus, snapshot } from "./http_checks.ts";
import { RawWs } from "./raw_ws.ts";
import { createSession } from "../lib/accounts/sessions.ts";
import { createUser, updateUser } from "../lib/accounts/users.ts";

const APP = "https://chat.example.com";

/** Origin header values a browser on another site (or a forged request) may present. */
const LOOKALIKES = [
  "https://chat.example.com.evil.example", // the allowed origin with a suffix
  "https://chat.example.com.", // trailing dot: another host to the browser
  "https://chat.example.com:8443", // other port
  "https://chat.example.com@evil.example", // userinfo trick
  "https://evil.chat.example.com", // a subdomain of the allowed host
  "https://evilchat.example.com", // ends with the allowed host, no dot
  "https://example.com", // the parent domain
  "http://chat.example.com", // other scheme
  "wss://chat.example.com",
  "https://CHAT.EXAMPLE.COM", // browsers send lowercase; anything else is not from one
  "https://chat.example.com/", // not an origin (a path)
  "https://evil.example/https://chat.example.com", // not an origin, ends with the allowed one
  "null",
];

/** A logged-in user on a server whose APP_ORIGIN is https://chat.example.com. */
async function loggedIn(server: TestServer) {
  const now = Date.now();
  const name = `look${now.toString(36)}`;
  const u = await createUser(server.kv, {
    username: name,
    email: `${name}@example.com`,
    passwordHash: "-",
    nickname: "Victim",
    locale: "en",
  }, now);
  await updateUser(server.kv, u.id, (x) => ({ ...x, activatedAt: now }));
  const { token } = await createSession(server.kv, u.id, { userAgent: "t", ip: "127.0.0.1" }, now);
  // Over https the session cookie has the __Host- prefix.
  return { id: u.id, token, client: clientWithToken(server, token, "__Host-hc_session") };
}

/** State changes a cross-site page would try: a JSON API call and the two form posts. */
const ATTEMPTS: [string, string, (h: Record<string, string>) => RequestInit][] = [
  ["PATCH", "/api/me", (h) => ({
    headers: { ...h, "Content-Type": "application/json" },
    body: JSON.stringify({ nickname: "pwned" }),
  })],
  ["POST", "/lang", (h) => ({
    headers: { ...h, "Content-Type": "application/x-www-form-urlencoded" },
    body: "lang=zh-CN&back=%2F",
  })],
  ["POST", "/logout", (h) => ({ headers: h })],
];

Deno.test("the cross-site check refuses look-alike origins on JSON and form posts, and changes nothing", async () => {
  await withServer({ env: { APP_ORIGIN: APP } }, async (server) => {
    const victim = await loggedIn(server);
    assert.equal(await meStatus(victim.client), 200, "the session works");
    // A client that sends only the headers each case gives (the default adds the app's Origin).
    const forged = new Client(server, null);
    forged.cookies = new Map(victim.client.cookies);
    const before = await snapshot(server.kv);
    const cases: Record<string, string>[] = [
      ...LOOKALIKES.map((o) => ({ Origin: o })),
      { "Sec-Fetch-Site": "cross-site" },
      { "Sec-Fetch-Site": "same-site" },
      { Origin: "https://chat.example.com.evil.example", "Sec-Fetch-Site": "same-origin" },
    ];
    for (const headers of cases) {
      for (const [method, path, init] of ATTEMPTS) {
        const what = `${method} ${path} ${JSON.stringify(headers)}`;
        const res = await forged.fetch(path, { method, ...init(headers) });
        const text = await res.text();
        assert.equal(res.status, 403, `${what}: ${text.slice(0, 120)}`);
        if (path.startsWith("/api/")) {
          assert.equal((JSON.parse(text) as ApiError).error.code, "csrf", what);
        }
        assert.deepEqual(res.headers.getSetCookie(), [], `${what} sets no cookie`);
      }
    }
    assert.deepEqual(await snapshot(server.kv), before, "nothing changed");
    assert.equal(await meStatus(victim.client), 200, "still logged in");
    // The exact origin goes through: the refusals above are the origin check, not the set-up.
    const ok = await victim.client.json("/api/me", { method: "PATCH", json: { bio: "mine" } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });
});

async function upgrade(server: TestServer, headers: Record<string, string>): Promise<string> {
  try {
    const ws = await RawWs.open(server.url("/ws"), headers);
    ws.close();
    return "101";
  } catch (err) {
    const m = (err as Error).message.match(/^Upgrade refused: HTTP\/1\.1 (\d{3})/);
    if (!m) throw err;
    return m[1];
  }
}

Deno.test("/ws refuses look-alike origins, a missing Origin and Sec-Fetch-Site: cross-site", async () => {
  await withServer({ env: { APP_ORIGIN: APP } }, async (server) => {
    const victim = await loggedIn(server);
    const cookie = `__Host-hc_session=${victim.token}`;
    for (const origin of LOOKALIKES) {
      assert.equal(await upgrade(server, { Cookie: cookie, Origin: origin }), "403", origin);
    }
    assert.equal(await upgrade(server, { Cookie: cookie }), "403", "no Origin");
    assert.equal(
      await upgrade(server, { Cookie: cookie, "Sec-Fetch-Site": "cross-site" }),
      "403",
      "no Origin, Sec-Fetch-Site: cross-site",
    );
    assert.equal(await upgrade(server, { Cookie: cookie, Origin: APP }), "101", "the app itself");
  });
});
