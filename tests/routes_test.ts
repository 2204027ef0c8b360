/**
 * The route table (routes/mod.ts): one file per URL space, named by its URL and mounted at its
 * own prefix, no URL served by two mounts (so their order cannot matter), and every page that
 * needs an account behind the one page-login middleware.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { buildApp, MOUNTS } from "../routes/mod.ts";
import { pageLogin } from "../lib/http/access.ts";
import type { Deps, Env } from "../lib/http/state.ts";
import { signUp, withServer } from "./helpers.ts";

type Mounts = readonly (readonly [string, Hono<Env>])[];

/** A route's path under its mount, as Hono joins them. */
function joined(prefix: string, path: string): string {
  if (path === "/") return prefix;
  return (prefix === "/" ? "" : prefix) + path;
}

/** The URLs a route path matches (":param" one segment, "*" anything). */
function pattern(path: string): RegExp {
  const parts = path.split("/").map((seg) =>
    seg === "*" ? ".*" : seg.startsWith(":") ? "[^/]+" : seg.replace(/[.+?^${}()|[\]\\]/g, "\\$&")
  );
  return new RegExp(`^${parts.join("/")}$`);
}

/** The pairs "method URL: mount A and mount B" where a URL of one mount is served by another. */
function overlaps(mounts: Mounts): string[] {
  const routes = mounts.flatMap(([prefix, router], mount) =>
    router.routes.map((r) => ({ mount, method: r.method, path: joined(prefix, r.path) }))
  );
  const found = new Set<string>();
  for (const a of routes) {
    const url = a.path.replace(/:[^/]+/g, "x1").replace(/\*/g, "x1");
    for (const b of routes) {
      if (a.mount === b.mount) continue;
      if (a.method !== b.method && a.method !== "ALL" && b.method !== "ALL") continue;
      if (pattern(b.path).test(url)) {
        found.add(`${a.method} ${url}: ${mounts[a.mount][0]} and ${mounts[b.mount][0]}`);
      }
    }
  }
  return [...found];
}

Deno.test("no URL is served by two mounts, so the mounts' order does not matter", () => {
  const prefixes = MOUNTS.map(([p]) => p);
  assert.equal(new Set(prefixes).size, prefixes.length, "a prefix is mounted twice");
  assert.deepEqual(overlaps(MOUNTS), []);
  // The check sees an overlap: the old layout's /api/users/search next to /api/users/:username.
  const friends = new Hono<Env>().get("/users/search", (c) => c.text(""));
  const users = new Hono<Env>().get("/:username", (c) => c.text(""));
  assert.deepEqual(overlaps([["/api", friends], ["/api/users", users]]), [
    "GET /api/users/search: /api and /api/users",
  ]);
});

Deno.test("each mount is served by the file its URL names", async () => {
  for (const [prefix, router] of MOUNTS) {
    // "/" is index; parameters are dropped ("/api/groups/:id/members" → api/groups/members);
    // "/_build" is build (a leading "_" marks a helper, not a route); a file's URL drops its
    // extension ("/sw.js" is sw, "/manifest.webmanifest" is manifest).
    const name = prefix === "/"
      ? "index"
      : prefix.slice(1).split("/").filter((s) => !s.startsWith(":")).join("/").replace(/^_/, "")
        .replace(/\.[a-z]+$/, "");
    const candidates = [`../routes/${name}.ts`, `../routes/${name}.tsx`];
    const file = candidates.find((f) => {
      try {
        return Deno.statSync(new URL(f, import.meta.url)).isFile;
      } catch {
        return false;
      }
    });
    assert.ok(file, `${prefix}: no file routes/${name}.ts(x)`);
    const mod = await import(file);
    assert.ok(Object.values(mod).includes(router), `${prefix}: ${file} does not export its router`);
  }
});

/** Pages behind pageLogin, with a sample URL each. */
const LOGIN_PAGES: Record<string, string> = {
  "/settings": "/settings",
  "/u/:username": "/u/nobody",
  "/feedback": "/feedback",
  "/me": "/me",
  "/contacts": "/contacts",
  "/contacts/new": "/contacts/new",
  "/contacts/blocked": "/contacts/blocked",
  "/g/new": "/g/new",
  "/g/:id": "/g/nosuchgroup",
  "/groups/find": "/groups/find",
};

Deno.test("pages that need an account are behind pageLogin and send visitors to /login", async () => {
  const app = buildApp({} as Deps);
  const guarded = app.routes.filter((r) => r.handler === pageLogin).map((r) => r.path);
  assert.deepEqual(guarded.sort(), Object.keys(LOGIN_PAGES).sort());
  await withServer(async (server) => {
    const { client } = await signUp(server);
    for (const url of Object.values(LOGIN_PAGES)) {
      const res = await fetch(server.url(url), { redirect: "manual" });
      await res.body?.cancel();
      assert.equal(res.status, 303, url);
      // Back to the page after logging in: named in the fragment.
      assert.equal(res.headers.get("Location"), `/login#next=${encodeURIComponent(url)}`, url);
      const page = await client.fetch(url);
      await page.body?.cancel();
      // Logged in: the page, or its own "not found" for an unknown name or group.
      assert.ok(page.status === 200 || page.status === 404, `${url}: ${page.status}`);
      assert.match(page.headers.get("Content-Type") ?? "", /^text\/html/, url);
    }
  });
});
