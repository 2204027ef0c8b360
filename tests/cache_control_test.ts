/**
 * Per-user answers are never kept by a cache: every API answer and every page says
 * `Cache-Control: no-store`, while static files, bundles, avatars, the manifest and the service
 * worker keep their own rules.
 */
import assert from "node:assert/strict";
import { Client, withServer } from "./helpers.ts";
import { people } from "./groups_fixture.ts";
import { pngBytes } from "./http_checks.ts";

Deno.test("API answers, pages, redirects and errors carry Cache-Control: no-store", async () => {
  await withServer(async (server) => {
    const p = await people(server, ["cached"] as const);
    const me = p.cached.client;
    const anon = new Client(server);
    const cases: [string, Client, string, RequestInit & { json?: unknown }][] = [
      ["GET /api/me", me, "/api/me", {}],
      ["PATCH /api/me", me, "/api/me", { method: "PATCH", json: { bio: "hi" } }],
      ["GET /api/friends", me, "/api/friends", {}],
      ["GET /api/auth/sessions", me, "/api/auth/sessions", {}],
      ["GET /api/me logged out (401)", anon, "/api/me", {}],
      ["GET /api/no-such-thing (404)", me, "/api/no-such-thing", {}],
      ["GET / (the chat page)", me, "/", {}],
      ["GET /settings", me, "/settings", {}],
      ["GET /contacts", me, "/contacts", {}],
      ["GET /login", anon, "/login", {}],
      ["GET /settings logged out (303)", anon, "/settings", {}],
      ["GET /no-such-page (404)", me, "/no-such-page", {}],
      ["GET /healthz", anon, "/healthz", {}],
      // The service worker keeps its own copy of the offline page; no HTTP cache needs one.
      ["GET /offline", me, "/offline", {}],
      ["POST /lang (303)", me, "/lang", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "lang=en&back=%2F",
      }],
    ];
    for (const [what, client, path, init] of cases) {
      const res = await client.fetch(path, init);
      await res.body?.cancel();
      assert.equal(res.headers.get("Cache-Control"), "no-store", what);
    }
  });
});

Deno.test("static files, bundles, avatars, the manifest and the worker keep their own Cache-Control", async () => {
  await withServer(async (server) => {
    const p = await people(server, ["pictured"] as const);
    const c = p.pictured.client;
    const up = await c.json<{ user: { avatarUrl: string } }>("/api/me/avatar", {
      method: "PUT",
      body: await pngBytes(),
    });
    assert.equal(up.status, 200);
    assert.equal(up.res.headers.get("Cache-Control"), "no-store");
    const page = await (await c.fetch("/settings")).text();
    const bundle = page.match(/src="(\/_build\/[^"]+)"/)?.[1];
    assert.ok(bundle, "the page loads a bundle (run `deno task build` first)");
    const expected: [string, string][] = [
      ["/static/app.css", "public, max-age=3600"],
      [bundle, "public, max-age=31536000, immutable"],
      [up.body.user.avatarUrl, "private, max-age=31536000, immutable"],
      // Asked for again on every update check, so a deploy reaches browsers at once.
      ["/sw.js", "no-cache"],
      ["/manifest.webmanifest?lang=en", "public, max-age=3600"],
    ];
    for (const [path, cache] of expected) {
      const res = await c.fetch(path);
      await res.body?.cancel();
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("Cache-Control"), cache, path);
    }
  });
});
