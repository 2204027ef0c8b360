import assert from "node:assert/strict";
import { cacheRule } from "./sw.ts";

const ORIGIN = "https://chat.example.com";

function rule(path: string, opts: { method?: string; mode?: string; origin?: string } = {}) {
  return cacheRule(
    {
      method: opts.method ?? "GET",
      url: (opts.origin ?? ORIGIN) + path,
      mode: opts.mode ?? "cors",
    },
    ORIGIN,
  );
}

Deno.test("cacheRule() answers pages from the network, with the offline page as the fallback", () => {
  for (const path of ["/", "/settings", "/g/abc?x=1", "/no-such-page", "/_build", "/wsx"]) {
    assert.equal(rule(path, { mode: "navigate" }), "network", path);
  }
});

Deno.test("cacheRule() keeps build files, static files and the manifest", () => {
  for (
    const path of [
      "/_build/0123456789abcdef0123/_boot.js",
      "/static/app.css?v=0123456789ab",
      "/static/icon-512.png",
      "/manifest.webmanifest?lang=zh-CN",
    ]
  ) {
    assert.equal(rule(path), "cache", path);
  }
});

Deno.test("cacheRule() never caches the API, the socket, uploads, avatars or the worker itself", () => {
  for (
    const path of [
      "/api/me",
      "/api/convs/x/messages?before=1",
      "/ws",
      "/ws?resume=1",
      "/media/abc/photo.jpg",
      "/avatars/u1/v2.jpg",
      "/sw.js",
      "/healthz",
      "/metrics",
      "/dev/outbox",
    ]
  ) {
    assert.equal(rule(path), "pass", path);
    // Opened as a page (a picture in a new tab, the API in the address bar): still not cached.
    assert.equal(rule(path, { mode: "navigate" }), "pass", `${path} as a page`);
  }
});

Deno.test("cacheRule() leaves other methods, other origins and other requests alone", () => {
  assert.equal(rule("/static/app.css", { method: "POST" }), "pass");
  assert.equal(rule("/", { method: "POST", mode: "navigate" }), "pass", "a form's POST");
  assert.equal(rule("/static/app.css", { method: "HEAD" }), "pass");
  assert.equal(rule("/static/app.css", { origin: "https://cdn.example.com" }), "pass");
  assert.equal(rule("/", { origin: "https://evil.example", mode: "navigate" }), "pass");
  assert.equal(rule("/settings"), "pass", "a page fetched by a script");
});
