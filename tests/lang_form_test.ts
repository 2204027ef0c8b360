/** POST /lang: the form body, the redirect back (never off-site), and the cookie's flags. */
import assert from "node:assert/strict";
import { Client, startTestServer, type TestServer, withServer } from "./helpers.ts";
import { people } from "./groups_fixture.ts";
import { getUser } from "../lib/accounts/users.ts";

async function switchLang(client: Client, fields: Record<string, string>) {
  const res = await client.fetch("/lang", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
  await res.body?.cancel();
  return res;
}

/** A Location a browser can only follow to this site: a path, no scheme, no host, no controls. */
function assertLocal(server: TestServer, location: string, what: string) {
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(location, /[\x00-\x1f\x7f]/, what);
  assert.match(location, /^\/(?![/\\])/, what);
  assert.equal(new URL(location, server.origin).origin, server.origin, what);
}

const OFF_SITE = [
  "/\t/evil.example",
  "/\n/evil.example",
  "/\r/evil.example",
  "/\r\n/evil.example",
  "/\r\nSet-Cookie: x=1",
  "\t//evil.example",
  "/\t\\evil.example",
  "//evil.example",
  "///evil.example",
  "/\\evil.example",
  "/\\/evil.example",
  "\\\\evil.example",
  "\\/evil.example",
  "/.//evil.example",
  "/..//evil.example",
  "/x/..//evil.example",
  "https://evil.example/",
  "http:evil.example",
  "//evil.example@chat",
  "javascript:alert(1)",
  "JaVaScRiPt:alert(1)",
  " /settings",
  "settings",
  "%2F%2Fevil.example",
  "/\0/evil.example",
  "/\x7f/evil.example",
  "",
];

const KEPT: [string, string][] = [
  ["/settings", "/settings"],
  ["/?c=01abc", "/?c=01abc"],
  ["/u/alice#top", "/u/alice#top"],
  ["/contacts/new?q=a%20b", "/contacts/new?q=a%20b"],
  // Encoded characters stay encoded: the browser does not decode them into a host.
  ["/%2F/evil.example", "/%2F/evil.example"],
  ["/%5C/evil.example", "/%5C/evil.example"],
  ["/%09/evil.example", "/%09/evil.example"],
  ["/a/../settings", "/settings"],
];

Deno.test("/lang sends the browser back only to a path on this site", async () => {
  await withServer(async (server) => {
    const client = new Client(server);
    for (const back of OFF_SITE) {
      const res = await switchLang(client, { lang: "en", back });
      const what = JSON.stringify(back);
      assert.equal(res.status, 303, what);
      assert.equal(res.headers.get("Location"), "/", what);
    }
    for (const [back, to] of KEPT) {
      const res = await switchLang(client, { lang: "en", back });
      const location = res.headers.get("Location") ?? "";
      assert.equal(res.status, 303, back);
      assert.equal(location, to, back);
      assertLocal(server, location, back);
    }
  });
});

Deno.test("/lang reads urlencoded and multipart forms; the account keeps the language", async () => {
  await withServer(async (server) => {
    const p = await people(server, ["polyglot"] as const);
    const form = new FormData();
    form.set("lang", "zh-CN");
    form.set("back", "/settings");
    const res = await p.polyglot.client.fetch("/lang", { method: "POST", body: form });
    await res.body?.cancel();
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("Location"), "/settings");
    assert.equal(p.polyglot.client.cookies.get("lang"), "zh-CN");
    assert.equal((await getUser(server.kv, p.polyglot.id))!.locale, "zh-CN");
    const back = await switchLang(p.polyglot.client, { lang: "en" });
    assert.equal(back.status, 303);
    assert.equal((await getUser(server.kv, p.polyglot.id))!.locale, "en");
    const unknown = await switchLang(p.polyglot.client, { lang: "xx" });
    assert.equal(unknown.status, 400);
  });
});

function langCookie(res: Response): string {
  const line = res.headers.getSetCookie().find((c) => c.startsWith("lang="));
  assert.ok(line, `a lang cookie in ${JSON.stringify(res.headers.getSetCookie())}`);
  return line;
}

Deno.test("the lang cookie is Secure when APP_ORIGIN is https, and not over http", async () => {
  const https = await startTestServer({ env: { APP_ORIGIN: "https://chat.example.com" } });
  try {
    const line = langCookie(await switchLang(new Client(https), { lang: "zh-CN", back: "/" }));
    for (const flag of [/; Secure/i, /; SameSite=Lax/i, /; Path=\//, /; Max-Age=31536000/]) {
      assert.match(line, flag);
    }
  } finally {
    await https.close();
  }
  const http = await startTestServer();
  try {
    const line = langCookie(await switchLang(new Client(http), { lang: "en", back: "/" }));
    assert.doesNotMatch(line, /; Secure/i);
    assert.match(line, /; SameSite=Lax/i);
  } finally {
    await http.close();
  }
});
