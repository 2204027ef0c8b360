/**
 * Compression (lib/http/compress.ts): br, else gzip, by the request's Accept-Encoding; bundles and
 * static files compressed once at the best quality and kept; nothing for pictures, files, upgrades,
 * event streams or short bodies; ETag and 304 on /static.
 */
import assert from "node:assert/strict";
import http from "node:http";
import zlib from "node:zlib";
import { Hono } from "hono";
import {
  compress,
  CompressedFiles,
  compressedFiles,
  compressNow,
  type Encoding,
  isCompressible,
  negotiate,
} from "../lib/http/compress.ts";
import type { Env } from "../lib/http/state.ts";
import {
  captureLogs,
  type Client,
  friendsGroup,
  signUp,
  type TestServer,
  withServer,
} from "./helpers.ts";
import { pngBytes } from "./http_checks.ts";
import { WsClient } from "./ws_client.ts";

interface Raw {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/** One request over node:http, which (unlike fetch) neither adds Accept-Encoding nor decodes. */
function raw(
  server: TestServer,
  path: string,
  opts: { headers?: Record<string, string>; method?: string; client?: Client } = {},
): Promise<Raw> {
  const headers = { ...opts.headers };
  if (opts.client?.cookies.size) {
    headers.cookie = [...opts.client.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port: server.port,
        path,
        method: opts.method ?? "GET",
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Uint8Array[] = [];
        res.on("data", (c: Uint8Array) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(", ") : v);
          }
          resolve({
            status: res.statusCode!,
            headers: h,
            body: new Uint8Array(Buffer.concat(chunks)),
          });
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function decode(r: Raw): Uint8Array {
  const enc = r.headers.get("Content-Encoding");
  if (enc === "br") return new Uint8Array(zlib.brotliDecompressSync(r.body));
  if (enc === "gzip") return new Uint8Array(zlib.gunzipSync(r.body));
  assert.equal(enc, null, "an encoding we asked for");
  return r.body;
}

function varies(r: Raw): boolean {
  return /(^|,)\s*accept-encoding\s*(,|$)/i.test(r.headers.get("Vary") ?? "");
}

/** The chat island's bundle, by the hashed URL the page names. */
async function chatBundle(server: TestServer): Promise<string> {
  const page = new TextDecoder().decode((await raw(server, "/login")).body);
  const boot = page.match(/src="(\/_build\/[0-9a-f]+\/)_boot\.js"/)?.[1];
  assert.ok(boot, "the page loads a bundle (run `deno task build` first)");
  return `${boot}ChatApp.js`;
}

Deno.test("negotiate() picks br, else gzip, by q-value; identity otherwise", () => {
  const cases: [string | null, Encoding | null][] = [
    [null, null],
    ["", null],
    ["identity", null],
    ["gzip, deflate, br, zstd", "br"],
    ["br", "br"],
    ["gzip", "gzip"],
    ["GZIP", "gzip"],
    ["x-gzip", "gzip"],
    ["gzip;q=0, identity", null],
    ["gzip;q=0.5, br;q=0.4", "gzip"],
    ["gzip;q=0.5, br;q=0.5", "br"],
    ["br;q=0, gzip", "gzip"],
    ["*", "br"],
    ["*;q=0", null],
    ["*, br;q=0", "gzip"],
    ["deflate", null],
    ["br;q=2, gzip", "gzip"],
    ["br;q=abc", null],
  ];
  for (const [header, want] of cases) assert.equal(negotiate(header), want, String(header));
});

Deno.test("isCompressible() takes text, scripts, JSON, SVG and manifests, not pictures or streams", () => {
  for (
    const type of [
      "text/html; charset=UTF-8",
      "text/css",
      "text/javascript; charset=utf-8",
      "application/javascript",
      "application/json",
      "application/manifest+json",
      "image/svg+xml",
      "text/plain;charset=UTF-8",
    ]
  ) assert.ok(isCompressible(type), type);
  for (
    const type of [null, "text/event-stream", "image/png", "image/webp", "application/octet-stream"]
  ) assert.ok(!isCompressible(type), String(type));
});

/** A bare app with the middleware in front of one handler. */
function appWith(handler: () => Response, files = new CompressedFiles()): Hono<Env> {
  const app = new Hono<Env>();
  app.use(compress(files));
  app.all("/*", () => handler());
  return app;
}

const BIG = "HappyChat compresses this line. ".repeat(200);

Deno.test("compress() leaves event streams, no-transform, pictures, encoded and short bodies", async () => {
  const cases: [string, string, Record<string, string>, boolean][] = [
    ["/events", BIG, { "Content-Type": "text/event-stream" }, false],
    ["/x", BIG, { "Content-Type": "text/plain", "Cache-Control": "public, no-transform" }, false],
    ["/x", BIG, { "Content-Type": "image/png" }, false],
    ["/x", BIG, { "Content-Type": "application/octet-stream" }, false],
    ["/x", BIG, { "Content-Type": "text/plain", "Content-Encoding": "identity" }, false],
    ["/media/a/b/full", BIG, { "Content-Type": "text/plain" }, false],
    ["/avatars/a", BIG, { "Content-Type": "image/svg+xml" }, false],
    ["/x", "short", { "Content-Type": "text/plain" }, true],
  ];
  for (const [path, body, headers, vary] of cases) {
    const res = await appWith(() => new Response(body, { headers })).request(path, {
      headers: { "Accept-Encoding": "br, gzip" },
    });
    const what = `${path} ${JSON.stringify(headers)}`;
    assert.equal(res.headers.get("Content-Encoding"), headers["Content-Encoding"] ?? null, what);
    assert.equal(res.headers.get("Vary") === "Accept-Encoding", vary, what);
    assert.equal(await res.text(), body, what);
  }
  const empty = await appWith(() => new Response(null, { status: 204 })).request("/x", {
    headers: { "Accept-Encoding": "br" },
  });
  assert.equal(empty.status, 204);
  assert.equal(empty.headers.get("Content-Encoding"), null);
});

Deno.test("compress() streams a body that arrives in pieces, and weakens its ETag", async () => {
  const pieces = Array.from({ length: 40 }, (_, i) => `piece ${i}: ${"x".repeat(i * 7)}\n`);
  const app = appWith(() =>
    new Response(ReadableStream.from(pieces).pipeThrough(new TextEncoderStream()), {
      headers: { "Content-Type": "text/html", ETag: '"v1"', Vary: "Cookie" },
    })
  );
  for (
    const [encoding, decodeBytes] of [["br", zlib.brotliDecompressSync], [
      "gzip",
      zlib.gunzipSync,
    ]] as const
  ) {
    const res = await app.request("/page", { headers: { "Accept-Encoding": encoding } });
    assert.equal(res.headers.get("Content-Encoding"), encoding);
    assert.equal(res.headers.get("Content-Length"), null);
    assert.equal(res.headers.get("Vary"), "Cookie, Accept-Encoding");
    assert.equal(res.headers.get("ETag"), 'W/"v1"');
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.equal(new TextDecoder().decode(decodeBytes(bytes)), pieces.join(""));
  }
  const head = await app.request("/page", { method: "HEAD", headers: { "Accept-Encoding": "br" } });
  assert.equal(head.headers.get("Content-Encoding"), null, "HEAD: nothing to compress");
  assert.equal(head.headers.get("Vary"), "Cookie, Accept-Encoding");
});

Deno.test("CompressedFiles keeps the newest within its bytes and falls back when the thread fails", async () => {
  const logs = captureLogs();
  const files = new CompressedFiles(1000, () => Promise.resolve(new Uint8Array(300)));
  const bytes = new Uint8Array(250).fill(65);
  for (const key of ["a", "b", "c"]) files.fill(key, bytes, "br");
  await files.settled();
  files.get("a"); // used: "b" is now the oldest
  files.fill("d", bytes, "br");
  await files.settled();
  assert.equal(files.size, 3);
  assert.equal(files.get("b"), undefined);
  assert.ok(files.get("a") && files.get("c") && files.get("d"));
  files.fill("big", new Uint8Array(251), "br");
  await files.settled();
  assert.equal(files.get("big"), undefined, "over a quarter of the cache: not kept");

  const failing = new CompressedFiles(1 << 20, () => Promise.reject(new Error("no thread")));
  const text = new TextEncoder().encode(BIG);
  failing.fill("x", text, "gzip");
  await failing.settled();
  assert.deepEqual(failing.get("x"), compressNow(text, "gzip"));
  assert.ok(logs.some((l) => l.includes("compress.best_failed")));
});

Deno.test("the chat bundle and app.css are compressed by Accept-Encoding, the same bytes", async () => {
  await withServer(async (server) => {
    for (const path of [await chatBundle(server), "/static/app.css"]) {
      const plain = await raw(server, path);
      assert.equal(plain.status, 200, path);
      assert.equal(plain.headers.get("Content-Encoding"), null, path);
      assert.ok(varies(plain), path);
      for (
        const [accept, want] of [
          ["br", "br"],
          ["gzip", "gzip"],
          ["gzip, deflate, br", "br"],
          ["gzip;q=0, identity", null],
          ["identity", null],
        ] as const
      ) {
        const got = await raw(server, path, { headers: { "Accept-Encoding": accept } });
        const what = `${path} with ${accept}`;
        assert.equal(got.status, 200, what);
        assert.equal(got.headers.get("Content-Encoding"), want, what);
        assert.ok(varies(got), what);
        assert.deepEqual(decode(got), plain.body, what);
        if (want) assert.ok(got.body.length < plain.body.length * 0.5, `${what}: smaller`);
        else assert.equal(got.body.length, plain.body.length, what);
      }
    }
  });
});

Deno.test("a bundle is compressed once at the best quality, then sent from memory", async () => {
  await withServer(async (server) => {
    const path = await chatBundle(server);
    const plain = (await raw(server, path)).body;
    await raw(server, path, { headers: { "Accept-Encoding": "br" } });
    await compressedFiles.settled();
    const best = zlib.brotliCompressSync(plain, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: plain.length,
      },
    });
    for (let i = 0; i < 2; i++) {
      const got = await raw(server, path, { headers: { "Accept-Encoding": "br" } });
      assert.deepEqual(got.body, new Uint8Array(best));
      assert.equal(got.headers.get("Content-Length"), String(best.length));
      assert.equal(got.headers.get("Cache-Control"), "public, max-age=31536000, immutable");
    }
  });
});

Deno.test("API JSON over 1 KB is compressed, a short answer is not", async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    const patch = await client.json("/api/me", {
      method: "PATCH",
      json: {
        bio: "乐".repeat(200),
        region: "聊".repeat(64),
        website: `https://e.example/${"w".repeat(170)}`,
      },
    });
    assert.equal(patch.status, 200);
    const plain = await raw(server, "/api/me", {
      client,
      headers: { "Accept-Encoding": "identity" },
    });
    assert.ok(plain.body.length > 1024, `a long answer: ${plain.body.length} bytes`);
    const big = await raw(server, "/api/me", {
      client,
      headers: { "Accept-Encoding": "gzip, br" },
    });
    assert.equal(big.status, 200);
    assert.equal(big.headers.get("Content-Encoding"), "br");
    assert.equal(big.headers.get("Cache-Control"), "no-store");
    assert.ok(varies(big));
    assert.deepEqual(
      JSON.parse(new TextDecoder().decode(decode(big))),
      JSON.parse(new TextDecoder().decode(plain.body)),
    );
    const small = await raw(server, "/api/auth/sessions", {
      client,
      headers: { "Accept-Encoding": "gzip, br" },
    });
    assert.equal(small.status, 200);
    assert.ok(small.body.length < 1024);
    assert.equal(small.headers.get("Content-Encoding"), null);
    assert.ok(JSON.parse(new TextDecoder().decode(small.body)).sessions);
    const page = await raw(server, "/settings", { client, headers: { "Accept-Encoding": "gzip" } });
    assert.equal(page.headers.get("Content-Encoding"), "gzip", "pages too");
    assert.match(
      new TextDecoder().decode(decode(page)),
      /<meta name="description" content="HappyChat: /,
    );
  });
});

Deno.test("the /ws upgrade works when the request accepts gzip and br", async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const ws = await WsClient.openWith(server, {
      cookie,
      origin: server.origin,
      "accept-encoding": "gzip, br",
    });
    ws.send({ type: "hello", v: 1 });
    const welcome = await ws.next("welcome");
    assert.ok(welcome.me);
    await ws.close();
  });
});

Deno.test("avatars and conversation files are never compressed", async () => {
  await withServer(async (server) => {
    const a = await signUp(server);
    const b = await signUp(server);
    const up = await a.client.json<{ user: { avatarUrl: string } }>("/api/me/avatar", {
      method: "PUT",
      body: await pngBytes(),
    });
    assert.equal(up.status, 200);
    const g = await friendsGroup(server, a.userId, "files", [b.userId]);
    const text = new TextEncoder().encode(BIG);
    const file = await a.client.json<{ id: string }>(
      `/api/convs/${g.id}/media?kind=file&name=notes.txt`,
      { method: "POST", body: text },
    );
    assert.equal(file.status, 201, JSON.stringify(file.body));
    for (const path of [up.body.user.avatarUrl, `/media/${g.id}/${file.body.id}/full`]) {
      const got = await raw(server, path, {
        client: a.client,
        headers: { "Accept-Encoding": "br, gzip" },
      });
      assert.equal(got.status, 200, path);
      assert.equal(got.headers.get("Content-Encoding"), null, path);
      assert.ok(!varies(got), path);
    }
    const got = await raw(server, `/media/${g.id}/${file.body.id}/full`, {
      client: a.client,
      headers: { "Accept-Encoding": "br" },
    });
    assert.deepEqual(got.body, text);
  });
});

Deno.test("/static files carry a strong ETag and answer If-None-Match with 304", async () => {
  await withServer(async (server) => {
    const plain = await raw(server, "/static/app.css");
    const tag = plain.headers.get("ETag");
    assert.match(tag ?? "", /^"[0-9a-f]{40}"$/, "a SHA-1 of the content");
    const br = await raw(server, "/static/app.css", { headers: { "Accept-Encoding": "br" } });
    assert.equal(br.headers.get("ETag"), `W/${tag}`, "the compressed copy: the weak form");
    for (
      const [sent, accept] of [[tag!, "identity"], [`W/${tag}`, "br"], [`"x", ${tag}`, "gzip"]]
    ) {
      const again = await raw(server, "/static/app.css", {
        headers: { "If-None-Match": sent, "Accept-Encoding": accept },
      });
      assert.equal(again.status, 304, sent);
      assert.equal(again.body.length, 0);
      assert.equal(again.headers.get("Cache-Control"), "public, max-age=3600");
      assert.equal(again.headers.get("Content-Encoding"), null);
      assert.ok(varies(again));
    }
    const changed = await raw(server, "/static/app.css", { headers: { "If-None-Match": '"old"' } });
    assert.equal(changed.status, 200);
    assert.deepEqual(changed.body, plain.body);
  });
});

Deno.test("HEAD on a bundle and a static file: the GET's headers, no body, no encoding", async () => {
  await withServer(async (server) => {
    for (const path of [await chatBundle(server), "/static/app.css"]) {
      const head = await raw(server, path, {
        method: "HEAD",
        headers: { "Accept-Encoding": "br" },
      });
      assert.equal(head.status, 200, path);
      assert.equal(head.body.length, 0, path);
      assert.equal(head.headers.get("Content-Encoding"), null, path);
      assert.ok(varies(head), path);
      assert.match(head.headers.get("Cache-Control") ?? "", /^public/, path);
    }
  });
});
