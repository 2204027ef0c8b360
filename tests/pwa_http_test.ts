/**
 * The installable app over plain HTTP: /sw.js is this build's worker, asked for again each time;
 * everything it precaches exists; the manifest speaks the language asked for; the offline page
 * names no one.
 */
import assert from "node:assert/strict";
import { Client, signUp, withServer } from "./helpers.ts";
import { loadAssets } from "../lib/http/assets.ts";
import type { WorkerBuild } from "../lib/wire/sw.ts";

/** The `const HC_BUILD = {…};` line in front of the worker's script. */
function workerBuild(script: string): WorkerBuild {
  const m = script.match(/^const HC_BUILD = (.*);\n/);
  assert.ok(m, "the script starts with the build's settings");
  return JSON.parse(m[1]);
}

Deno.test("GET /sw.js is the built worker with this build's version, revalidated on every check", async () => {
  const assets = await loadAssets();
  assert.ok(assets.worker && assets.hash, "run `deno task build` first");
  await withServer(async (server) => {
    const res = await fetch(server.url("/sw.js"));
    const script = await res.text();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("Content-Type"), "text/javascript; charset=utf-8");
    assert.equal(res.headers.get("Cache-Control"), "no-cache");
    assert.equal(res.headers.get("X-Content-Type-Options"), "nosniff");
    assert.ok(script.endsWith(assets.worker!), "the bundle of islands/sw.ts follows");
    assert.doesNotMatch(script, /^\s*(import|export)\b/m, "a classic script: no modules");
    const build = workerBuild(script);
    assert.equal(build.version, assets.version);
    assert.equal(build.offline, "/offline");
    assert.ok(build.precache.includes(`/_build/${assets.hash}/_boot.js`), "the current hash");
    assert.ok(build.precache.includes(`/static/app.css?v=${assets.version}`));
    assert.ok(!build.precache.some((u) => u.includes("emoji-data")), "not the picker's data");
    // An install fails when one of them does: every one must be there.
    for (const url of build.precache) {
      const file = await fetch(server.url(url));
      await file.body?.cancel();
      assert.equal(file.status, 200, url);
    }
  });
});

Deno.test("GET /manifest.webmanifest names the app in the language asked for", async () => {
  await withServer(async (server) => {
    for (const [lang, name] of [["en", "HappyChat"], ["zh-CN", "乐聊"]]) {
      const res = await fetch(server.url(`/manifest.webmanifest?lang=${lang}`));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("Content-Type"), "application/manifest+json; charset=utf-8");
      assert.equal(res.headers.get("Cache-Control"), "public, max-age=3600");
      const m = await res.json();
      assert.deepEqual([m.name, m.short_name, m.lang, m.start_url, m.display], [
        name,
        name,
        lang,
        "/",
        "standalone",
      ]);
    }
    // Without ?lang=, the visitor's language, and then no shared cache may keep it.
    const res = await fetch(server.url("/manifest.webmanifest"), {
      headers: { "Accept-Language": "zh-CN,zh;q=0.9" },
    });
    assert.equal((await res.json()).name, "乐聊");
    assert.equal(res.headers.get("Cache-Control"), "no-store");
  });
});

Deno.test("GET /offline is the same for everyone, in both languages, its script under the CSP nonce", async () => {
  await withServer(async (server) => {
    const { client, input } = await signUp(server);
    for (const c of [client, new Client(server)]) {
      const res = await c.fetch("/offline");
      const html = await res.text();
      assert.equal(res.status, 200);
      assert.match(html, /You're offline/);
      assert.match(html, /你已离线/);
      assert.ok(!html.includes(input.username) && !html.includes(input.nickname), "no one's name");
      assert.doesNotMatch(
        html,
        /class="topbar"|action="\/logout"/,
        "no links that need an account",
      );
      const nonce = res.headers.get("Content-Security-Policy")?.match(/'nonce-([^']+)'/)?.[1];
      assert.ok(nonce);
      const scripts = html.match(/<script\b[^>]*>/g) ?? [];
      assert.equal(scripts.length, 1);
      assert.ok(scripts[0].includes(` nonce="${nonce}"`));
    }
  });
});
