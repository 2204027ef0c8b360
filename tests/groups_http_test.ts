/** The groups HTTP API end to end (docs/api.md "Groups"): every endpoint, then bad input. */
import assert from "node:assert/strict";
import { Client, withServer } from "./helpers.ts";
import { assertError, pngBytes, snapshot, testClock } from "./http_checks.ts";
import { befriend, call, memberIds, newGroup, people } from "./groups_fixture.ts";
import type { GroupCard, GroupInfo } from "../lib/wire/api.ts";

type G = { group: GroupInfo };

Deno.test("groups over HTTP: create, read, settings, members, roles, mute, hand-over, leave, dissolve", async () => {
  await withServer(async (server) => {
    const p = await people(server, ["owner", "ann", "bob", "cat", "out"] as const);
    await befriend(server, p.owner, p.ann, p.bob, p.cat);
    const g = await newGroup(p.owner, "  Hiking <b>club</b> ", [p.ann, p.bob]);
    assert.equal(g.title, "Hiking <b>club</b>", "trimmed, kept as text");
    assert.equal(g.myRole, "owner");
    assert.deepEqual([g.public, g.memberInvite, g.cap, g.memberCount, g.notice, g.avatarUrl], [
      false,
      true,
      500,
      3,
      null,
      null,
    ]);
    assert.deepEqual(g.members.map((m) => m.role), ["owner", "member", "member"]);
    assert.deepEqual(g.members.map((m) => m.id).sort(), [p.owner.id, p.ann.id, p.bob.id].sort());
    assert.deepEqual(Object.keys(g.members[0]).sort(), [
      "avatarUrl",
      "displayName",
      "id",
      "mutedUntil",
      "nickname",
      "role",
      "username",
    ]);
    const path = `/api/groups/${g.id}`;

    assertError(await call(p.out.client, "GET", path), 404, "group_not_found");
    let res = await call<G>(p.owner.client, "PUT", `${path}/members/${p.ann.id}/role`, {
      role: "admin",
    });
    assert.deepEqual(res.body.group.members.map((m) => m.role), ["owner", "admin", "member"]);
    res = await call<G>(p.ann.client, "PATCH", path, {
      title: "Hikers",
      notice: "Meet at 8\n<i>sharp</i>",
      public: true,
      memberInvite: false,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.group.title, "Hikers");
    assert.deepEqual(res.body.group.notice, {
      text: "Meet at 8\n<i>sharp</i>",
      by: p.ann.id,
      at: res.body.group.notice!.at,
    });
    assert.deepEqual([res.body.group.public, res.body.group.memberInvite, res.body.group.myRole], [
      true,
      false,
      "admin",
    ]);

    const card = await call<{ group: GroupCard }>(p.out.client, "GET", path);
    assert.deepEqual(card.body.group, {
      id: g.id,
      title: "Hikers",
      avatarUrl: null,
      memberCount: 3,
      public: true,
    });
    const found = await call<{ groups: GroupCard[] }>(
      p.out.client,
      "GET",
      "/api/groups/search?q=HIK",
    );
    assert.deepEqual(found.body.groups, [card.body.group]);
    assert.deepEqual(
      (await call<{ groups: GroupCard[] }>(p.out.client, "GET", "/api/groups/search?q=")).body
        .groups,
      [],
    );

    assertError(
      await call(p.bob.client, "POST", `${path}/members`, { userIds: [p.cat.id] }),
      403,
      "forbidden_role",
    );
    res = await call<G>(p.owner.client, "POST", `${path}/members`, { userIds: [p.cat.id] });
    assert.equal(res.body.group.memberCount, 4);
    res = await call<G>(p.ann.client, "POST", `${path}/members/${p.bob.id}/mute`, { minutes: 30 });
    assert.ok(res.body.group.members.find((m) => m.id === p.bob.id)!.mutedUntil! > Date.now());
    res = await call<G>(p.ann.client, "POST", `${path}/members/${p.bob.id}/mute`, { minutes: 0 });
    assert.equal(res.body.group.members.find((m) => m.id === p.bob.id)!.mutedUntil, null);
    res = await call<G>(p.bob.client, "PUT", `${path}/me`, { displayName: "Bobby <3" });
    assert.equal(res.body.group.members.find((m) => m.id === p.bob.id)!.displayName, "Bobby <3");
    res = await call<G>(p.ann.client, "DELETE", `${path}/members/${p.cat.id}`);
    assert.equal(res.body.group.memberCount, 3);
    assert.deepEqual((await call(p.bob.client, "DELETE", `${path}/members/${p.bob.id}`)).body, {
      ok: true,
    });
    assert.deepEqual((await call<{ group: GroupCard }>(p.bob.client, "GET", path)).body.group, {
      ...card.body.group,
      memberCount: 2,
    });

    assertError(
      await call(p.owner.client, "DELETE", `${path}/members/${p.owner.id}`),
      409,
      "owner_must_transfer",
    );
    res = await call<G>(p.owner.client, "POST", `${path}/transfer`, { userId: p.ann.id });
    assert.deepEqual(res.body.group.members.map((m) => [m.id, m.role]), [[p.ann.id, "owner"], [
      p.owner.id,
      "admin",
    ]]);
    assert.equal(res.body.group.myRole, "admin");
    assertError(await call(p.owner.client, "DELETE", path), 403, "forbidden_role");
    assert.deepEqual((await call(p.ann.client, "DELETE", path)).body, { ok: true });
    assertError(await call(p.ann.client, "GET", path), 404, "group_not_found");
    assert.deepEqual(
      (await call<{ groups: GroupCard[] }>(p.out.client, "GET", "/api/groups/search?q=hik")).body
        .groups,
      [],
    );
    assert.deepEqual(await memberIds(server, g.id), []);
  });
});

Deno.test("group avatar: admins upload a picture (re-encoded), it replaces the old one; refusals store nothing", async () => {
  await withServer(async (server) => {
    const p = await people(server, ["owner", "mem"] as const);
    await befriend(server, p.owner, p.mem);
    const g = await newGroup(p.owner, "Pics", [p.mem]);
    const put = (c: Client, body: BodyInit) =>
      c.json<G>(`/api/groups/${g.id}/avatar`, { method: "PUT", body });
    const before = await snapshot(server.kv);
    assertError(await put(p.mem.client, await pngBytes()), 403, "forbidden_role");
    assertError(
      await put(p.owner.client, new TextEncoder().encode("<svg onload=alert(1)>")),
      400,
      "image_type",
    );
    assert.deepEqual(await snapshot(server.kv), before, "no blob left behind");
    const first = await put(p.owner.client, await pngBytes(300, 200));
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const url = first.body.group.avatarUrl!;
    assert.match(url, /^\/avatars\/[0-9a-z]{20}$/);
    const img = await p.mem.client.fetch(url);
    assert.equal(img.headers.get("Content-Type"), "image/jpeg");
    await img.body?.cancel();
    const second = await put(p.owner.client, await pngBytes(64, 64));
    assert.notEqual(second.body.group.avatarUrl, url);
    const old = await p.mem.client.fetch(url);
    assert.equal(old.status, 404, "the replaced picture is deleted");
    await old.body?.cancel();
    const removed = await call<G>(p.owner.client, "DELETE", `/api/groups/${g.id}/avatar`);
    assert.equal(removed.body.group.avatarUrl, null);
  });
});

Deno.test("joining: a public group at once, a private one by request (approve/decline) or by invite link", async () => {
  const clock = testClock();
  await withServer({ now: clock.now }, async (server) => {
    const p = await people(server, ["owner", "pub", "req", "link", "late"] as const);
    const g = await newGroup(p.owner, "Private one");
    const path = `/api/groups/${g.id}`;
    const asked = await call(p.req.client, "POST", `${path}/join`, { note: "Let me in <please>" });
    assert.deepEqual([asked.status, asked.body], [202, { status: "requested" }]);
    clock.advance(1000);
    assert.equal(
      (await call(p.late.client, "POST", `${path}/join`)).status,
      202,
      "the body is optional",
    );
    const reqs = await call<{ requests: { user: { id: string }; note: string }[] }>(
      p.owner.client,
      "GET",
      `${path}/requests`,
    );
    assert.deepEqual(reqs.body.requests.map((r) => [r.user.id, r.note]), [[
      p.req.id,
      "Let me in <please>",
    ], [p.late.id, ""]]);
    const ok = await call<G>(p.owner.client, "POST", `${path}/requests/${p.req.id}/approve`);
    assert.deepEqual(ok.body.group.members.map((m) => m.id), [p.owner.id, p.req.id]);
    assert.deepEqual(
      (await call(p.owner.client, "POST", `${path}/requests/${p.late.id}/decline`)).body,
      { ok: true },
    );
    assertError(
      await call(p.owner.client, "POST", `${path}/requests/${p.late.id}/approve`),
      404,
      "join_request_not_found",
    );

    const made = await call<{ invite: { id: string; expiresAt: number }; url: string }>(
      p.owner.client,
      "POST",
      `${path}/invites`,
      { hours: 2 },
    );
    assert.equal(made.status, 201);
    assert.equal(made.body.invite.expiresAt, clock.now() + 2 * 3600_000);
    const madeAt = clock.now();
    const token = made.body.url.match(/\/join#token=([A-Za-z0-9_-]+)$/)![1];
    assert.ok(made.body.url.startsWith(server.origin));
    clock.advance(1000);
    const forever = await call<{ invite: { id: string; expiresAt: null } }>(
      p.owner.client,
      "POST",
      `${path}/invites`,
    );
    assert.equal(forever.body.invite.expiresAt, null);
    const listed = await call<{ invites: { id: string; by: string }[] }>(
      p.owner.client,
      "GET",
      `${path}/invites`,
    );
    assert.deepEqual(listed.body.invites.map((i) => [i.id, i.by]), [[
      made.body.invite.id,
      p.owner.id,
    ], [forever.body.invite.id, p.owner.id]]);
    const preview = await call(p.link.client, "POST", "/api/invites/preview", { token });
    assert.deepEqual(preview.body, {
      group: { id: g.id, title: "Private one", avatarUrl: null, memberCount: 2 },
    });
    const joined = await call<G>(p.link.client, "POST", "/api/invites/join", { token });
    assert.equal(joined.body.group.myRole, "member");
    assertError(
      await call(p.link.client, "POST", "/api/invites/join", { token }),
      409,
      "already_member",
    );
    clock.advance(madeAt + 2 * 3600_000 - clock.now());
    assertError(
      await call(p.late.client, "POST", "/api/invites/preview", { token }),
      404,
      "invite_invalid",
    );
    assertError(
      await call(p.late.client, "POST", "/api/invites/join", { token }),
      404,
      "invite_invalid",
    );
    assert.deepEqual(
      (await call(p.owner.client, "DELETE", `${path}/invites/${forever.body.invite.id}`)).body,
      { ok: true },
    );
    assert.deepEqual(
      (await call<{ invites: unknown[] }>(p.owner.client, "GET", `${path}/invites`)).body.invites,
      [],
    );

    const pub = await call<G>(p.owner.client, "PATCH", path, { public: true });
    assert.equal(pub.body.group.public, true);
    const direct = await call<G>(p.pub.client, "POST", `${path}/join`, { note: "ignored" });
    assert.equal(direct.status, 200, JSON.stringify(direct.body));
    assert.deepEqual([direct.body.group.myRole, direct.body.group.memberCount], ["member", 4]);
    assertError(await call(p.pub.client, "POST", `${path}/join`), 409, "already_member");
  });
});

Deno.test("bad input to the group API gets a clear error and changes nothing", async () => {
  await withServer(async (server) => {
    const p = await people(server, ["owner", "friend", "out"] as const);
    await befriend(server, p.owner, p.friend);
    const g = await newGroup(p.owner, "Bad input", [p.friend]);
    const path = `/api/groups/${g.id}`;
    const o = p.owner.client;
    const cases: [() => ReturnType<typeof call>, number, string, string?][] = [
      [() => call(o, "POST", "/api/groups", { title: "" }), 400, "field_required", "title"],
      [
        () => call(o, "POST", "/api/groups", { title: "名".repeat(31) }),
        400,
        "field_long",
        "title",
      ],
      [() => call(o, "POST", "/api/groups", { title: "a\u202Eb" }), 400, "bad_input", "title"],
      [() => call(o, "POST", "/api/groups", { title: 42 }), 400, "bad_input", "title"],
      [
        () => call(o, "POST", "/api/groups", { title: "x", members: "all" }),
        400,
        "bad_input",
        "members",
      ],
      [
        () => call(o, "POST", "/api/groups", { title: "x", members: [p.out.id] }),
        403,
        "not_friends",
        "members",
      ],
      [
        () => call(o, "POST", "/api/groups", { title: "x", members: ["../../x"] }),
        400,
        "bad_input",
        "members",
      ],
      [() => o.json("/api/groups", { method: "POST", body: "{not json" }), 400, "bad_json"],
      [() => call(o, "PATCH", path, { title: "t".repeat(31) }), 400, "field_long", "title"],
      [() => call(o, "PATCH", path, { notice: "n".repeat(501) }), 400, "field_long", "notice"],
      [() => call(o, "PATCH", path, { notice: "bell\u0007" }), 400, "bad_input", "notice"],
      [() => call(o, "PATCH", path, { public: "yes" }), 400, "bad_input", "public"],
      [() => call(o, "PATCH", path, {}), 400, "bad_input"],
      [() => call(o, "PATCH", "/api/groups/nosuchgroup00", { title: "x" }), 404, "group_not_found"],
      [() => call(o, "GET", "/api/groups/NOT-AN-ID"), 404, "group_not_found"],
      [
        () => call(o, "PUT", `${path}/me`, { displayName: "d".repeat(33) }),
        400,
        "field_long",
        "displayName",
      ],
      [() => call(o, "POST", `${path}/members`, { userIds: [] }), 400, "field_required", "members"],
      [
        () => call(o, "POST", `${path}/members`, { userIds: [p.friend.id] }),
        409,
        "already_member",
        "members",
      ],
      [
        () => call(o, "POST", `${path}/members`, { userIds: [p.out.id] }),
        403,
        "not_friends",
        "members",
      ],
      [() => call(o, "DELETE", `${path}/members/nosuchuser`), 404, "not_member"],
      [
        () => call(o, "PUT", `${path}/members/${p.friend.id}/role`, { role: "owner" }),
        400,
        "bad_input",
        "role",
      ],
      [
        () => call(o, "PUT", `${path}/members/${p.out.id}/role`, { role: "admin" }),
        404,
        "not_member",
      ],
      [
        () => call(o, "POST", `${path}/members/${p.friend.id}/mute`, { minutes: "10" }),
        400,
        "bad_input",
        "minutes",
      ],
      [
        () => call(o, "POST", `${path}/members/${p.friend.id}/mute`, { minutes: 43201 }),
        400,
        "bad_input",
        "minutes",
      ],
      [() => call(o, "POST", `${path}/transfer`, {}), 400, "field_required", "userId"],
      [() => call(o, "POST", `${path}/transfer`, { userId: p.out.id }), 404, "not_member"],
      [() => call(o, "POST", `${path}/invites`, { hours: 0 }), 400, "bad_input", "hours"],
      [() => call(o, "POST", `${path}/invites`, { hours: "24" }), 400, "bad_input", "hours"],
      [() => call(o, "DELETE", `${path}/invites/nosuchinvite`), 404, "invite_not_found"],
      [
        () => call(o, "POST", `${path}/requests/${p.out.id}/approve`),
        404,
        "join_request_not_found",
      ],
      [
        () => call(o, "POST", `${path}/requests/${p.out.id}/decline`),
        404,
        "join_request_not_found",
      ],
      [
        () => call(p.out.client, "POST", `${path}/join`, { note: "n".repeat(61) }),
        400,
        "field_long",
        "note",
      ],
      [() => call(p.out.client, "POST", "/api/groups/nosuchgroup00/join"), 404, "group_not_found"],
      [
        () => call(p.out.client, "POST", "/api/invites/preview", { token: "A".repeat(32) }),
        404,
        "invite_invalid",
      ],
      [
        () => call(p.out.client, "POST", "/api/invites/join", { token: "forged<script>" }),
        404,
        "invite_invalid",
      ],
      [() => call(p.out.client, "POST", "/api/invites/join", {}), 404, "invite_invalid"],
      [() => call(new Client(server), "GET", path), 401, "unauthorized"],
      [() => call(new Client(server), "POST", "/api/groups", { title: "x" }), 401, "unauthorized"],
    ];
    const before = await snapshot(server.kv);
    for (const [run, status, code, field] of cases) assertError(await run(), status, code, field);
    assert.deepEqual(await snapshot(server.kv), before, "a refused request wrote something");
    // HTML in names and notes is data: it comes back exactly as sent, never interpreted.
    const html = `<img src=x onerror="alert(1)">`;
    const res = await call<G>(o, "PATCH", path, { title: html.slice(0, 30), notice: html });
    assert.deepEqual([res.body.group.title, res.body.group.notice?.text], [
      html.slice(0, 30),
      html,
    ]);
    assert.match(res.res.headers.get("Content-Type") ?? "", /^application\/json/);
  });
});
