/** Profiles and avatars over HTTP: user text shown as text, no e-mail leaks, safe avatar serving. */
import assert from "node:assert/strict";
import sharp from "sharp";
import { Client, newUserInput, signUp, type TestServer, withServer } from "./helpers.ts";
import { assertError, pngBytes, snapshot } from "./http_checks.ts";

const XSS_NICK = `<img src=x onerror=alert(1)>`;
const XSS_BIO = `</dd><script>alert("bio")</script>`;

async function html(client: Client, path: string): Promise<string> {
  const res = await client.fetch(path);
  assert.equal(res.status, 200, path);
  assert.match(res.headers.get("Content-Type") ?? "", /^text\/html/);
  return await res.text();
}

Deno.test("HTML in a nickname is stored as text and shown escaped on the profile and home pages", async () => {
  await withServer(async (server) => {
    const alice = await signUp(server, { ...newUserInput("alice"), nickname: XSS_NICK });
    const bob = await signUp(server, newUserInput("bob"));
    const me = await alice.client.json<{ user: { nickname: string } }>("/api/me");
    assert.equal(me.body.user.nickname, XSS_NICK, "stored exactly as typed");
    const patch = await alice.client.json("/api/me", {
      method: "PATCH",
      json: { bio: XSS_BIO, region: "<b>" },
    });
    assert.equal(patch.status, 200);
    for (
      const [client, path] of [[bob.client, `/u/${alice.input.username}`], [
        alice.client,
        "/",
      ]] as const
    ) {
      const page = await html(client, path);
      // Preact escapes "<", "&" and '"' in text; ">" alone cannot open a tag.
      assert.match(
        page,
        /&lt;img src=x onerror=alert\(1\)(>|&gt;)/,
        `${path} shows the nickname escaped`,
      );
      assert.ok(!page.includes("<img src=x"), `${path} has the nickname as markup`);
    }
    const profile = await html(bob.client, `/u/${alice.input.username}`);
    assert.match(
      profile,
      /&lt;\/dd(>|&gt;)&lt;script(>|&gt;)alert\(&quot;bio&quot;\)/,
      "bio escaped",
    );
    assert.ok(!profile.includes('<script>alert("bio")'), "bio as markup");
    assert.ok(profile.includes("&lt;b>") && !profile.includes("<b>"), "region escaped");
  });
});

Deno.test("the public profile API never contains the e-mail, and needs a login", async () => {
  await withServer(async (server) => {
    const alice = await signUp(server, newUserInput("alice"));
    const bob = await signUp(server, newUserInput("bob"));
    for (const name of [alice.input.username, alice.input.username.toUpperCase()]) {
      const res = await bob.client.fetch(`/api/users/${name}`);
      const text = await res.text();
      assert.equal(res.status, 200);
      assert.ok(
        !text.toLowerCase().includes(alice.input.email.toLowerCase()),
        "e-mail in the public profile",
      );
      assert.ok(!text.includes('"email"'));
      assert.ok(!text.includes("pbkdf2"), "password hash in the public profile");
      assert.equal(JSON.parse(text).user.username, alice.input.username);
    }
    const page = await html(bob.client, `/u/${alice.input.username}`);
    assert.ok(!page.includes(alice.input.email), "e-mail on the profile page");
    assertError(
      await new Client(server).json(`/api/users/${alice.input.username}`),
      401,
      "unauthorized",
    );
    assertError(await bob.client.json("/api/users/nobody_here"), 404, "not_found");
  });
});

Deno.test("an account that is not activated has no public profile", async () => {
  await withServer(async (server) => {
    const bob = await signUp(server, newUserInput("bob"));
    const pending = newUserInput("pend");
    assert.equal((await new Client(server).post("/api/auth/register", pending)).status, 201);
    assertError(await bob.client.json(`/api/users/${pending.username}`), 404, "not_found");
  });
});

async function putAvatar(client: Client, body: BodyInit, headers: Record<string, string> = {}) {
  return await client.json<{ user: { avatarUrl: string | null } }>("/api/me/avatar", {
    method: "PUT",
    body,
    headers,
  });
}

Deno.test("an uploaded avatar is served only to logged-in users, as a 256×256 JPEG with nosniff and a sandbox CSP", async () => {
  await withServer(async (server) => {
    const alice = await signUp(server, newUserInput("alice"));
    const bob = await signUp(server, newUserInput("bob"));
    const up = await putAvatar(alice.client, await pngBytes(300, 200), {
      "Content-Type": "text/html",
    });
    assert.equal(up.status, 200, JSON.stringify(up.body));
    const url = up.body.user.avatarUrl!;
    assert.match(url, /^\/avatars\/[0-9a-z]{20}$/);
    const res = await bob.client.fetch(url);
    assert.equal(res.status, 200);
    assert.equal(
      res.headers.get("Content-Type"),
      "image/jpeg",
      "the stored type, not what the client sent",
    );
    assert.equal(res.headers.get("X-Content-Type-Options"), "nosniff");
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /\bsandbox\b/);
    const meta = await sharp(new Uint8Array(await res.arrayBuffer())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ["jpeg", 256, 256]);
    const anon = await new Client(server).fetch(url);
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
    for (
      const bad of [
        "/avatars/00000000000000000000",
        "/avatars/..%2Fsecret",
        "/avatars/" + "a".repeat(500),
      ]
    ) {
      const r = await bob.client.fetch(bad);
      assert.equal(r.status, 404, bad);
      await r.body?.cancel();
    }
  });
});

Deno.test("replacing or removing an avatar deletes the old picture", async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    const first = (await putAvatar(client, await pngBytes())).body.user.avatarUrl!;
    const second = (await putAvatar(client, await pngBytes(80, 80))).body.user.avatarUrl!;
    assert.notEqual(first, second);
    const gone = await client.fetch(first);
    assert.equal(gone.status, 404);
    await gone.body?.cancel();
    const removed = await client.json<{ user: { avatarUrl: string | null } }>("/api/me/avatar", {
      method: "DELETE",
    });
    assert.equal(removed.body.user.avatarUrl, null);
    let blobKeys = 0;
    for await (const _ of server.kv.list({ prefix: ["blobs"] })) blobKeys++;
    for await (const _ of server.kv.list({ prefix: ["blob_chunks"] })) blobKeys++;
    assert.equal(blobKeys, 0);
  });
});

async function refusedUpload(
  server: TestServer,
  client: Client,
  body: BodyInit,
  status: number,
  code: string,
) {
  const before = await snapshot(server.kv);
  assertError(await putAvatar(client, body), status, code);
  assert.deepEqual(await snapshot(server.kv), before, `a refused ${code} upload wrote something`);
}

Deno.test("avatar uploads that are too big, not images or SVG are refused and change nothing", async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    const big = new Uint8Array(5 * 1024 * 1024 + 1);
    big.set(await pngBytes());
    await refusedUpload(server, client, big, 413, "image_too_big");
    // Without Content-Length: streamed, cut off once past 5 MB.
    const chunk = new Uint8Array(1024 * 1024);
    let n = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (n++ < 8) ctl.enqueue(chunk);
        else ctl.close();
      },
    });
    await refusedUpload(server, client, stream, 413, "image_too_big");
    await refusedUpload(server, client, "just some text, not a picture", 400, "image_type");
    const svg =
      `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>`;
    await refusedUpload(server, client, svg, 400, "image_type");
    await refusedUpload(server, client, new Uint8Array(), 400, "image_type");
    const png = await pngBytes(200, 200);
    await refusedUpload(server, client, png.subarray(0, png.length - 40), 400, "image_broken");
    const me = await client.json<{ user: { avatarUrl: string | null } }>("/api/me");
    assert.equal(me.body.user.avatarUrl, null);
  });
});
