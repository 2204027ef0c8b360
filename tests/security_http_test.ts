/** Cross-site request refusal, security headers, CSP nonces, cookie flags, health and metrics. */
import assert from "node:assert/strict";
import { Client, signUp, withServer } from "./helpers.ts";
import { assertError, meStatus, snapshot } from "./http_checks.ts";

Deno.test("a POST with a foreign Origin is refused with 403 csrf and changes nothing", async () => {
  await withServer(async (server) => {
    const { client, input } = await signUp(server);
    const evil = new Client(server, "https://evil.example");
    evil.cookies = new Map(client.cookies);
    const before = await snapshot(server.kv);
    assertError(
      await evil.json("/api/me", { method: "PATCH", json: { nickname: "pwned" } }),
      403,
      "csrf",
    );
    assertError(await evil.post("/api/auth/logout-everywhere", {}), 403, "csrf");
    assertError(
      await evil.post("/api/auth/password", {
        current: input.password,
        password: "new pass phrase 1",
      }),
      403,
      "csrf",
    );
    // Login CSRF: even correct credentials from another site make no session.
    assertError(
      await new Client(server, "https://evil.example").post("/api/auth/login", input),
      403,
      "csrf",
    );
    assertError(await new Client(server, "null").post("/api/auth/register", {}), 403, "csrf");
    const form = await evil.fetch("/logout", { method: "POST" });
    assert.equal(form.status, 403);
    await form.body?.cancel();
    assert.deepEqual(await snapshot(server.kv), before);
    assert.equal(await meStatus(client), 200, "the victim is still logged in");
  });
});

Deno.test("a POST marked Sec-Fetch-Site: cross-site or same-site is refused with 403 csrf", async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    const noOrigin = new Client(server, null);
    noOrigin.cookies = new Map(client.cookies);
    for (const site of ["cross-site", "same-site"]) {
      const res = await noOrigin.json("/api/auth/logout", {
        method: "POST",
        headers: { "Sec-Fetch-Site": site },
      });
      assertError(res, 403, "csrf");
    }
    assert.equal(await meStatus(client), 200);
    // A same-origin request from the page itself goes through.
    const ok = await noOrigin.json("/api/auth/logout", {
      method: "POST",
      headers: { "Sec-Fetch-Site": "same-origin" },
    });
    assert.equal(ok.status, 200);
  });
});

const PATHS: [string, number][] = [
  ["/login", 200],
  ["/healthz", 200],
  ["/api/me", 401],
  ["/no-such-page", 404],
  ["/api/no-such-thing", 404],
];

Deno.test("pages, API answers and errors all carry the security headers", async () => {
  await withServer(async (server) => {
    const c = new Client(server);
    const responses: [string, Response][] = [];
    for (const [path, status] of PATHS) {
      const res = await c.fetch(path);
      await res.body?.cancel();
      assert.equal(res.status, status, path);
      responses.push([path, res]);
    }
    const csrf = await new Client(server, "https://evil.example").fetch("/api/auth/login", {
      method: "POST",
      json: {},
    });
    await csrf.body?.cancel();
    responses.push(["POST cross-site", csrf]);
    for (const [what, res] of responses) {
      const h = res.headers;
      const csp = h.get("Content-Security-Policy") ?? "";
      assert.match(csp, /frame-ancestors 'none'/, what);
      assert.match(csp, /object-src 'none'/, what);
      assert.match(csp, /base-uri 'none'/, what);
      assert.match(csp, /script-src 'nonce-[A-Za-z0-9_-]{22,}'/, what);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, what);
      assert.equal(h.get("X-Content-Type-Options"), "nosniff", what);
      assert.equal(h.get("Referrer-Policy"), "strict-origin-when-cross-origin", what);
      assert.equal(h.get("X-Frame-Options"), "DENY", what);
      assert.equal(h.get("Strict-Transport-Security"), null, `${what}: no HSTS over plain http`);
    }
  });
});

function nonceOf(res: Response): string {
  const m = (res.headers.get("Content-Security-Policy") ?? "").match(/'nonce-([^']+)'/);
  assert.ok(m, "CSP has a nonce");
  return m[1];
}

Deno.test("every script tag carries the CSP nonce, and the nonce is new on every request", async () => {
  await withServer(async (server) => {
    const c = new Client(server);
    const nonces = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await c.fetch("/login");
      const html = await res.text();
      const nonce = nonceOf(res);
      const scripts = html.match(/<script\b[^>]*>/g) ?? [];
      assert.ok(scripts.length > 0, "the page has its island script (run `deno task build` first)");
      for (const tag of scripts) {
        assert.ok(tag.includes(` nonce="${nonce}"`), `script without the nonce: ${tag}`);
      }
      nonces.add(nonce);
    }
    assert.equal(nonces.size, 3);
  });
});

function cookieLine(res: Response, name: string): string {
  const line = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  assert.ok(line, `Set-Cookie for ${name} in ${JSON.stringify(res.headers.getSetCookie())}`);
  return line;
}

Deno.test("the session cookie is HttpOnly, SameSite=Lax, Path=/ and not Secure over http", async () => {
  await withServer(async (server) => {
    const { client, input } = await signUp(server);
    const login = await client.post("/api/auth/login", {
      login: input.username,
      password: input.password,
    });
    const line = cookieLine(login.res, "hc_session");
    assert.match(line, /; HttpOnly/i);
    assert.match(line, /; SameSite=Lax/i);
    assert.match(line, /; Path=\//);
    assert.doesNotMatch(line, /; Secure/i);
    assert.doesNotMatch(line, /; Domain=/i);
    assert.match(line, /^hc_session=[A-Za-z0-9_-]{43};/, "256-bit token");
  });
});

Deno.test("over https the cookie is __Host-hc_session with Secure, and HSTS is sent", async () => {
  await withServer({ env: { APP_ORIGIN: "https://chat.example" } }, async (server) => {
    const { client, input } = await signUp(server);
    const login = await client.post("/api/auth/login", {
      login: input.username,
      password: input.password,
    });
    const line = cookieLine(login.res, "__Host-hc_session");
    for (const flag of [/; Secure/i, /; HttpOnly/i, /; SameSite=Lax/i, /; Path=\//]) {
      assert.match(line, flag);
    }
    assert.doesNotMatch(line, /; Domain=/i);
    assert.equal(client.cookies.has("hc_session"), false);
    assert.equal(await meStatus(client), 200);
    assert.match(login.res.headers.get("Strict-Transport-Security") ?? "", /max-age=\d+/);
    // An unprefixed cookie (which a sibling domain could plant) is not read.
    const planted = new Client(server);
    planted.cookies.set("hc_session", client.cookies.get("__Host-hc_session")!);
    assert.equal(await meStatus(planted), 401);
    // Logging out clears the prefixed cookie with the flags a browser needs to accept it.
    const out = await client.post("/api/auth/logout", {});
    const cleared = cookieLine(out.res, "__Host-hc_session");
    assert.match(cleared, /Max-Age=0/i);
    assert.match(cleared, /; Secure/i);
    assert.match(cleared, /; Path=\//);
  });
});

Deno.test('GET /healthz answers {"ok":true}', async () => {
  await withServer(async (server) => {
    const res = await fetch(server.url("/healthz"));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true });
  });
});

function counters(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = line.match(/^happychat_http_requests_total\{(.*)\} (\d+)$/);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

Deno.test("/metrics from loopback is Prometheus text counting requests by route and status", async () => {
  await withServer(async (server) => {
    const get = async (path: string) => {
      const res = await fetch(server.url(path));
      return { res, text: await res.text() };
    };
    const before = counters((await get("/metrics")).text);
    for (let i = 0; i < 3; i++) await get("/healthz");
    await get("/api/users/someone");
    const { res, text } = await get("/metrics");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("Content-Type") ?? "", /^text\/plain; version=0\.0\.4/);
    assert.match(text, /^# TYPE happychat_http_requests_total counter$/m);
    assert.match(text, /^# TYPE happychat_http_request_duration_seconds histogram$/m);
    const after = counters(text);
    const delta = (labels: string) => (after.get(labels) ?? 0) - (before.get(labels) ?? 0);
    assert.equal(delta('method="GET",route="/healthz",status="200"'), 3);
    assert.equal(
      delta('method="GET",route="/api/users/:username",status="401"'),
      1,
      "by route pattern, not raw path",
    );
    assert.ok(
      ![...after.keys()].some((k) => k.includes("someone")),
      "raw paths never become labels",
    );
  });
});

Deno.test("/metrics is refused to other hosts, and a forged X-Forwarded-For hop does not pass as loopback", async () => {
  await withServer({
    env: { TRUST_PROXY: "1", METRICS_TOKEN: "s3cret-metrics-token" },
  }, async (server) => {
    const status = async (headers: Record<string, string>) => {
      const res = await fetch(server.url("/metrics"), { headers });
      await res.body?.cancel();
      return res.status;
    };
    // The proxy appends the address it saw; the client controls everything before it.
    assert.equal(await status({ "X-Forwarded-For": "203.0.113.9" }), 403);
    assert.equal(await status({ "X-Forwarded-For": "127.0.0.1, 203.0.113.9" }), 403);
    assert.equal(
      await status({ "X-Forwarded-For": "203.0.113.9", Authorization: "Bearer wrong" }),
      403,
    );
    assert.equal(
      await status({
        "X-Forwarded-For": "203.0.113.9",
        Authorization: "Bearer s3cret-metrics-token",
      }),
      200,
    );
    assert.equal(await status({ "X-Forwarded-For": "127.0.0.1" }), 200);
  });
});
