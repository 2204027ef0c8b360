/** Races over HTTP, resolved by KV atomic checks: joins at the cap, admins against each other, double answers. */
import assert from "node:assert/strict";
import { withServer } from "./helpers.ts";
import { assertError, snapshot } from "./http_checks.ts";
import {
  befriend,
  call,
  memberIds,
  newGroup,
  patchRecord,
  people,
  type Person,
} from "./groups_fixture.ts";
import { keys } from "../lib/kv/keys.ts";
import type { Message } from "../lib/wire/protocol.ts";
import type { TestServer } from "./helpers.ts";

async function logOf(server: TestServer, conv: string): Promise<Message[]> {
  const out: Message[] = [];
  for await (const e of server.kv.list<Message>({ prefix: keys.msgs(conv) })) out.push(e.value);
  return out;
}

function statuses(results: { status: number; body: unknown }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const k = r.status < 300
      ? String(r.status)
      : `${r.status} ${(r.body as { error: { code: string } }).error.code}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

Deno.test("concurrent joins at the cap: public joins, link joins and approvals never pass it", async () => {
  await withServer(async (server) => {
    const names = Array.from({ length: 14 }, (_, i) => `j${i}`);
    const p = await people(server, ["owner", "admin", "m1", ...names]);
    await befriend(server, p.owner, p.admin, p.m1);
    const joiners: Person[] = names.map((n) => p[n]);

    // A public group of 3 with room for 5 more; 10 people join at once.
    const pub = await newGroup(p.owner, "Public", [p.admin, p.m1]);
    await call(p.owner.client, "PATCH", `/api/groups/${pub.id}`, { public: true });
    await patchRecord(server, pub.id, { cap: 8 });
    const res = await Promise.all(
      joiners.slice(0, 10).map((j) => call(j.client, "POST", `/api/groups/${pub.id}/join`)),
    );
    assert.deepEqual(statuses(res), { "200": 5, "409 group_full": 5 });
    assert.equal((await memberIds(server, pub.id)).length, 8);
    assert.equal((await server.kv.get(keys.memberCount(pub.id))).value, 8);
    assert.equal(
      (await logOf(server, pub.id)).filter((m) => m.meta?.event === "member_added").length,
      5,
    );

    // A private group with room for 3: four link joins and four approvals race for it.
    const priv = await newGroup(p.owner, "Private", [p.admin]);
    const path = `/api/groups/${priv.id}`;
    await patchRecord(server, priv.id, { cap: 5 });
    await call(p.owner.client, "PUT", `${path}/members/${p.admin.id}/role`, { role: "admin" });
    const link = await call<{ url: string }>(p.owner.client, "POST", `${path}/invites`, {});
    const token = link.body.url.split("#token=")[1];
    const askers = joiners.slice(10, 14);
    for (const a of askers) {
      assert.equal((await call(a.client, "POST", `${path}/join`)).status, 202);
    }
    const viaLink = joiners.slice(0, 4).map((j) =>
      call(j.client, "POST", "/api/invites/join", { token })
    );
    const approvals = askers.map((a, i) =>
      call(i % 2 ? p.owner.client : p.admin.client, "POST", `${path}/requests/${a.id}/approve`)
    );
    const all = await Promise.all([...viaLink, ...approvals]);
    assert.equal(all.filter((r) => r.status === 200).length, 3, JSON.stringify(statuses(all)));
    for (const r of all) if (r.status !== 200) assertError(r, 409, "group_full");
    assert.equal((await memberIds(server, priv.id)).length, 5);
    assert.equal((await server.kv.get(keys.memberCount(priv.id))).value, 5);
  });
});

Deno.test("two admins kicking each other: neither may (admins remove members only), nothing changes", async () => {
  await withServer(async (server) => {
    const p = await people(server, ["owner", "a1", "a2", "m"] as const);
    await befriend(server, p.owner, p.a1, p.a2, p.m);
    const g = await newGroup(p.owner, "Admins", [p.a1, p.a2, p.m]);
    const path = `/api/groups/${g.id}`;
    for (const a of [p.a1, p.a2]) {
      await call(p.owner.client, "PUT", `${path}/members/${a.id}/role`, { role: "admin" });
    }
    const before = await snapshot(server.kv);
    const [x, y] = await Promise.all([
      call(p.a1.client, "DELETE", `${path}/members/${p.a2.id}`),
      call(p.a2.client, "DELETE", `${path}/members/${p.a1.id}`),
    ]);
    assertError(x, 403, "forbidden_role");
    assertError(y, 403, "forbidden_role");
    assert.deepEqual(await snapshot(server.kv), before);
    // Both kick the same member at once: one removal, the other finds nobody.
    const both = await Promise.all(
      [p.a1, p.a2].map((a) => call(a.client, "DELETE", `${path}/members/${p.m.id}`)),
    );
    assert.deepEqual(statuses(both), { "200": 1, "404 not_member": 1 });
    assert.equal(
      (await logOf(server, g.id)).filter((m) => m.meta?.event === "member_removed").length,
      1,
    );
  });
});

Deno.test("an admin acting while the owner removes them: their action lands before their removal, or not at all", async () => {
  await withServer(async (server) => {
    const p = await people(server, ["owner", "admin", "m1", "m2", "m3", "m4", "m5", "m6"] as const);
    const members = [p.m1, p.m2, p.m3, p.m4, p.m5, p.m6];
    await befriend(server, p.owner, p.admin, ...members);
    for (const m of members) {
      const g = await newGroup(p.owner, "Round", [p.admin, m]);
      const path = `/api/groups/${g.id}`;
      await call(p.owner.client, "PUT", `${path}/members/${p.admin.id}/role`, { role: "admin" });
      const [kickM, kickAdmin, demote] = await Promise.all([
        call(p.admin.client, "DELETE", `${path}/members/${m.id}`),
        call(p.owner.client, "DELETE", `${path}/members/${p.admin.id}`),
        call(p.owner.client, "PUT", `${path}/members/${p.admin.id}/role`, { role: "member" }),
      ]);
      assert.equal(kickAdmin.status, 200);
      const log = await logOf(server, g.id);
      const adminGone = log.find((x) =>
        x.meta?.event === "member_removed" && x.meta.userId === p.admin.id
      )!;
      const mGone = log.find((x) => x.meta?.event === "member_removed" && x.meta.userId === m.id);
      if (kickM.status === 200) {
        assert.ok(
          mGone && mGone.seq < adminGone.seq,
          "the admin's kick committed while they were an admin",
        );
        const demoted = log.find((x) => x.meta?.event === "admin_removed");
        assert.ok(!demoted || mGone.seq < demoted.seq, "…and before they were demoted");
      } else {
        assert.ok([403].includes(kickM.status), JSON.stringify(kickM.body));
        assert.equal(mGone, undefined);
      }
      assert.ok([200, 404].includes(demote.status), JSON.stringify(demote.body));
    }
  });
});

Deno.test("double answers: two approvals of one request, approve against decline, two hand-overs at once", async () => {
  await withServer(async (server) => {
    const p = await people(server, ["owner", "admin", "x", "y", "asker"] as const);
    await befriend(server, p.owner, p.admin, p.x, p.y);
    const g = await newGroup(p.owner, "Answers", [p.admin, p.x, p.y]);
    const path = `/api/groups/${g.id}`;
    await call(p.owner.client, "PUT", `${path}/members/${p.admin.id}/role`, { role: "admin" });

    await call(p.asker.client, "POST", `${path}/join`);
    const two = await Promise.all(
      [p.owner, p.admin].map((a) =>
        call(a.client, "POST", `${path}/requests/${p.asker.id}/approve`)
      ),
    );
    assert.equal(two.filter((r) => r.status === 200).length, 1, JSON.stringify(statuses(two)));
    const lost = two.find((r) => r.status !== 200)!;
    assert.ok(
      ["already_member", "join_request_not_found"].includes(
        (lost.body as { error: { code: string } }).error.code,
      ),
    );
    assert.equal(
      (await logOf(server, g.id)).filter((m) => m.meta?.event === "member_added").length,
      1,
    );

    await call(p.owner.client, "DELETE", `${path}/members/${p.asker.id}`);
    await call(p.asker.client, "POST", `${path}/join`);
    const [ok, no] = await Promise.all([
      call(p.owner.client, "POST", `${path}/requests/${p.asker.id}/approve`),
      call(p.admin.client, "POST", `${path}/requests/${p.asker.id}/decline`),
    ]);
    assert.equal(
      [ok, no].filter((r) => r.status === 200).length,
      1,
      JSON.stringify([ok.body, no.body]),
    );
    const inGroup = (await memberIds(server, g.id)).includes(p.asker.id);
    assert.equal(inGroup, ok.status === 200, "member exactly when the approval won");
    assert.equal((await server.kv.get(keys.joinReq(g.id, p.asker.id))).value, null);

    const handovers = await Promise.all(
      [p.x, p.y].map((to) => call(p.owner.client, "POST", `${path}/transfer`, { userId: to.id })),
    );
    assert.deepEqual(statuses(handovers), { "200": 1, "403 forbidden_role": 1 });
    const owners = (await call<{ group: { members: { role: string }[] } }>(p.x.client, "GET", path))
      .body.group.members.filter((m) => m.role === "owner");
    assert.equal(owners.length, 1, "exactly one owner");
  });
});
