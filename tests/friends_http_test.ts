/**
 * The friends API over HTTP: an authorization matrix (only the allowed succeed; the rest get a
 * clear error and change nothing), search privacy, bad input, rate limits and the pages.
 */
import assert from "node:assert/strict";
import { Client, newUserInput, signUp, type TestServer, withServer } from "./helpers.ts";

type Person = Awaited<ReturnType<typeof signUp>>;
type Snap = {
  friends: { user: { id: string }; remark: string; dm: string }[];
  incoming: { user: { id: string }; note: string }[];
  outgoing: unknown[];
  blocked: string[];
};

async function snap(p: Person): Promise<Snap> {
  const r = await p.client.json<Snap>("/api/friends");
  assert.equal(r.status, 200);
  return r.body;
}

function req(p: Person, method: string, path: string, json?: unknown) {
  return p.client.json<{ error?: { code: string; field?: string }; status?: string }>(path, {
    method,
    json,
  });
}

async function world(server: TestServer) {
  const [a, b, c, d] = await Promise.all([
    signUp(server),
    signUp(server),
    signUp(server),
    signUp(server),
  ]);
  // a and b are friends; c is a stranger to everyone; a blocked d.
  assert.deepEqual(
    (await req(a, "POST", "/api/friends/requests", { to: b.userId, note: "hi" })).body,
    { status: "sent" },
  );
  assert.equal((await req(b, "POST", `/api/friends/requests/${a.userId}/accept`)).status, 200);
  assert.equal((await req(a, "POST", `/api/blocks/${d.userId}`)).status, 200);
  return { a, b, c, d };
}

Deno.test("authorization matrix: strangers, blocked users and friends get exactly what they may", async () => {
  await withServer(async (server) => {
    const { a, b, c, d } = await world(server);
    const before = await Promise.all([a, b, c, d].map(snap));
    const denied: [Person, string, string, unknown, number, string][] = [
      [c, "PUT", `/api/friends/${a.userId}/remark`, { remark: "x" }, 404, "not_friends"],
      [c, "DELETE", `/api/friends/${a.userId}`, undefined, 404, "not_friends"],
      [c, "POST", `/api/friends/requests/${a.userId}/accept`, undefined, 404, "request_not_found"],
      [c, "POST", `/api/friends/requests/${a.userId}/decline`, undefined, 404, "request_not_found"],
      [d, "DELETE", `/api/friends/${a.userId}`, undefined, 404, "not_friends"],
      [a, "POST", "/api/friends/requests", { to: b.userId, note: "" }, 409, "already_friends"],
      [a, "POST", "/api/friends/requests", { to: a.userId, note: "" }, 400, "friend_self"],
      [a, "POST", `/api/blocks/${a.userId}`, undefined, 400, "block_self"],
      [
        a,
        "POST",
        "/api/friends/requests",
        { to: "01nosuchuser0000000", note: "" },
        404,
        "user_not_found",
      ],
      [
        a,
        "POST",
        "/api/friends/requests/01nosuchuser0000000/accept",
        undefined,
        404,
        "user_not_found",
      ],
      [a, "PUT", "/api/friends/01nosuchuser0000000/remark", { remark: "x" }, 404, "not_friends"],
      [a, "POST", "/api/blocks/01nosuchuser0000000", undefined, 404, "user_not_found"],
      [a, "POST", `/api/blocks/${"x".repeat(300)}`, undefined, 404, "user_not_found"],
      [a, "PUT", `/api/friends/${b.userId}/remark`, { remark: "r".repeat(33) }, 400, "field_long"],
      [a, "PUT", `/api/friends/${b.userId}/remark`, { remark: 5 }, 400, "bad_input"],
      [
        c,
        "POST",
        "/api/friends/requests",
        { to: a.userId, note: "n".repeat(61) },
        400,
        "field_long",
      ],
      [c, "POST", "/api/friends/requests", { to: a.userId, note: ["x"] }, 400, "bad_input"],
      [c, "POST", "/api/friends/requests", { note: "who?" }, 400, "field_required"],
      [
        c,
        "POST",
        "/api/friends/requests",
        { email: "not an address", note: "" },
        400,
        "email_format",
      ],
    ];
    for (const [who, method, path, json, status, code] of denied) {
      const r = await req(who, method, path, json);
      assert.deepEqual([r.status, r.body.error?.code], [status, code], `${method} ${path}`);
      assert.ok(
        r.body.error && typeof (r.body.error as { message?: string }).message === "string",
        "with a message",
      );
    }
    const bad = await c.client.fetch("/api/friends/requests", {
      method: "POST",
      body: "{",
      headers: { "Content-Type": "application/json" },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(await Promise.all([a, b, c, d].map(snap)), before, "nothing changed");

    // Without a session: 401 everywhere. From another site: 403.
    const anon = new Client(server);
    for (
      const [m, p] of [
        ["GET", "/api/friends"],
        ["GET", "/api/users/search?q=a"],
        ["POST", "/api/friends/requests"],
        ["DELETE", `/api/friends/${a.userId}`],
        ["POST", `/api/blocks/${a.userId}`],
      ]
    ) {
      assert.equal(
        (await anon.json(p, { method: m, json: m === "GET" ? undefined : {} })).status,
        401,
        `${m} ${p}`,
      );
    }
    const evil = new Client(server, "https://evil.example");
    evil.cookies = c.client.cookies;
    assert.equal(
      (await evil.json("/api/friends/requests", {
        method: "POST",
        json: { to: a.userId, note: "" },
      })).status,
      403,
    );

    // The blocked user: looks sent, never arrives, and is not told.
    assert.deepEqual(
      (await req(d, "POST", "/api/friends/requests", { to: a.userId, note: "let me in" })).body,
      { status: "sent" },
    );
    assert.equal((await snap(a)).incoming.length, 0);
    assert.equal((await snap(d)).outgoing.length, 1);
    // The stranger's request arrives, with its note as sent.
    assert.equal(
      (await req(c, "POST", "/api/friends/requests", {
        to: a.userId,
        note: "<script>alert(1)</script>",
      })).status,
      200,
    );
    assert.equal((await snap(a)).incoming[0].note, "<script>alert(1)</script>");
    // The friend may set a remark (kept as text), delete, and friend again.
    const rm = await a.client.json<{ remark: string }>(`/api/friends/${b.userId}/remark`, {
      method: "PUT",
      json: { remark: "<i>B</i>" },
    });
    assert.deepEqual([rm.status, rm.body.remark], [200, "<i>B</i>"]);
    assert.equal((await snap(b)).friends[0].remark, "", "remarks are private");
    assert.equal((await req(b, "DELETE", `/api/friends/${a.userId}`)).status, 200);
    assert.deepEqual([(await snap(a)).friends, (await snap(b)).friends], [[], []]);
    assert.deepEqual(
      (await req(b, "POST", "/api/friends/requests", { to: a.userId, note: "sorry" })).body,
      { status: "sent" },
    );
    // Unblock.
    assert.equal((await req(a, "DELETE", `/api/blocks/${d.userId}`)).status, 200);
    assert.deepEqual((await snap(a)).blocked, []);
  });
});

Deno.test("search finds by exact username and nickname prefix, never by e-mail, never oneself", async () => {
  await withServer(async (server) => {
    const me = await signUp(server, { ...newUserInput("srch"), nickname: "Searcher" });
    const other = await signUp(server, { ...newUserInput("othr"), nickname: "Zhang 张" });
    const search = async (q: string) =>
      (await me.client.json<{ results: { user: Record<string, unknown>; relation: string }[] }>(
        `/api/users/search?q=${encodeURIComponent(q)}`,
      )).body.results;
    assert.deepEqual((await search(other.input.username)).map((r) => r.user.id), [other.userId]);
    assert.deepEqual((await search("zhang")).map((r) => r.user.id), [other.userId]);
    assert.deepEqual(
      await search(other.input.email),
      [],
      "an e-mail finds nobody, registered or not",
    );
    assert.deepEqual(await search("nobody@example.com"), []);
    assert.deepEqual(await search(me.input.username), [], "never oneself");
    assert.deepEqual(await search(""), []);
    const [r] = await search("Zhang");
    assert.deepEqual(
      Object.keys(r.user).sort(),
      ["avatarUrl", "id", "nickname", "username"],
      "never the e-mail",
    );
    assert.equal(r.relation, "none");
    await req(me, "POST", "/api/friends/requests", { to: other.userId, note: "" });
    assert.equal((await search("Zhang"))[0].relation, "pending");

    // By e-mail, a registered and an unknown address get the same answer, again and again.
    const asks = [other.input.email, "ghost@example.com", other.input.email, "ghost@example.com"];
    const answers = await Promise.all(
      asks.map((email) => req(me, "POST", "/api/friends/requests", { email, note: "" })),
    );
    assert.deepEqual(
      answers.map((x) => [x.status, x.body]),
      asks.map(() => [200, { status: "sent" }]),
    );
  });
});

Deno.test("friend requests are rate-limited per user", async () => {
  await withServer(async (server) => {
    const [a, b] = await Promise.all([signUp(server), signUp(server)]);
    const codes: string[] = [];
    for (let i = 0; i < 31; i++) {
      const r = await req(a, "POST", "/api/friends/requests", { to: b.userId, note: `${i}` });
      codes.push(r.status === 200 ? "sent" : r.body.error!.code);
    }
    assert.equal(codes[0], "sent");
    assert.equal(codes[1], "request_cooldown");
    assert.equal(codes[30], "rate_limited");
  });
});

Deno.test("contacts pages render names, notes and remarks as text, with the requests badge", async () => {
  await withServer(async (server) => {
    const evil = "<img src=x onerror=alert(1)>";
    const a = await signUp(server, { ...newUserInput("pga"), nickname: evil });
    const b = await signUp(server, { ...newUserInput("pgb"), nickname: "李雷" });
    await req(a, "POST", "/api/friends/requests", { to: b.userId, note: "<b>note</b>" });
    const page = async (p: Person, path: string) => {
      const res = await p.client.fetch(path);
      assert.equal(res.status, 200, path);
      return await res.text();
    };
    const nf = await page(b, "/contacts/new");
    assert.ok(!nf.includes("<img src=x") && !nf.includes("<b>note</b>"), "never raw HTML");
    assert.match(nf, /&lt;b>note&lt;\/b>/);
    assert.match(nf, /data-testid="nav-badge"[^>]*>1</, "the header shows one request waiting");
    const prof = await page(b, `/u/${a.input.username}`);
    assert.ok(!prof.includes("<img src=x"));
    assert.match(prof, /data-relation="incoming"/);
    await req(b, "POST", `/api/friends/requests/${a.userId}/accept`);
    await req(a, "PUT", `/api/friends/${b.userId}/remark`, { remark: "Lei<u>!</u>" });
    const contacts = await page(a, "/contacts");
    assert.match(contacts, /data-letter="L"/, "the remark decides the letter");
    assert.ok(!contacts.includes("<u>!</u>"));
    assert.match(contacts, /Lei&lt;u>!&lt;\/u>/);
    const bContacts = await page(b, "/contacts");
    assert.match(bContacts, /data-letter="#"/, "a name starting with a symbol goes under #");
    assert.doesNotMatch(bContacts, /data-testid="nav-badge"[^>]*>1</);
    assert.equal((await new Client(server).fetch("/contacts")).status, 303);
    assert.equal((await new Client(server).fetch("/contacts/new")).status, 303);
  });
});
