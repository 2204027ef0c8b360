/** Group changes in realtime: every device of everyone concerned, removal stops delivery at once, resume and history. */
import assert from "node:assert/strict";
import { type TestServer, withServer } from "./helpers.ts";
import { pngBytes } from "./http_checks.ts";
import { befriend, call, device, newGroup, people, type Person } from "./groups_fixture.ts";
import { WsClient } from "./ws_client.ts";

/** Two sockets (two devices) per person. */
async function devices(server: TestServer, who: Person[]): Promise<Map<Person, WsClient[]>> {
  const out = new Map<Person, WsClient[]>();
  for (const p of who) {
    out.set(
      p,
      await Promise.all([
        WsClient.connect(server, p.client),
        WsClient.connect(server, await device(server, p.id)),
      ]),
    );
  }
  return out;
}

/** Waits until each socket has the group's system message for `event` (optionally about `userId`). */
async function allSee(sockets: WsClient[], conv: string, event: string, userId?: string) {
  const got = await Promise.all(
    sockets.map((s) =>
      s.next("msg", (f) =>
        f.msg.conv === conv && f.msg.meta?.event === event &&
        (!userId || f.msg.meta.userId === userId))
    ),
  );
  assert.ok(got.every((f) => f.msg.seq === got[0].msg.seq && f.msg.kind === "system"));
  return got[0].msg;
}

async function closeAll(m: Map<Person, WsClient[]>) {
  await Promise.all([...m.values()].flat().map((s) => s.close()));
}

Deno.test("every group change reaches every device of every member", async () => {
  await withServer(async (server) => {
    const p = await people(server, ["owner", "admin", "mem", "newbie"] as const);
    await befriend(server, p.owner, p.admin, p.mem, p.newbie);
    await befriend(server, p.mem, p.newbie);
    const g = await newGroup(p.owner, "Live", [p.admin, p.mem]);
    const path = `/api/groups/${g.id}`;
    const ws = await devices(server, [p.owner, p.admin, p.mem, p.newbie]);
    const members = () => [p.owner, p.admin, p.mem].flatMap((x) => ws.get(x)!);

    await call(p.owner.client, "PUT", `${path}/members/${p.admin.id}/role`, { role: "admin" });
    assert.equal((await allSee(members(), g.id, "admin_added", p.admin.id)).meta?.by, p.owner.id);
    await call(p.admin.client, "PATCH", path, { title: "Live <b>2</b>" });
    assert.equal((await allSee(members(), g.id, "renamed")).meta?.title, "Live <b>2</b>");
    await call(p.admin.client, "PATCH", path, { notice: "Be nice" });
    assert.equal((await allSee(members(), g.id, "notice")).meta?.text, "Be nice");
    await call(p.admin.client, "PATCH", path, { public: true });
    assert.deepEqual(JSON.parse((await allSee(members(), g.id, "settings")).meta!.text!), {
      public: true,
    });
    await p.admin.client.json(`${path}/avatar`, { method: "PUT", body: await pngBytes() });
    await allSee(members(), g.id, "avatar");
    await call(p.admin.client, "POST", `${path}/members/${p.mem.id}/mute`, { minutes: 5 });
    assert.ok((await allSee(members(), g.id, "muted", p.mem.id)).meta!.until! > Date.now());
    await call(p.admin.client, "POST", `${path}/members/${p.mem.id}/mute`, { minutes: 0 });
    await allSee(members(), g.id, "unmuted", p.mem.id);
    await call(p.mem.client, "PUT", `${path}/me`, { displayName: "M" });
    await Promise.all(members().map((s) => s.next("members_changed", (f) => f.conv === g.id)));
    // The members frame carries the name each member chose in the group.
    const [first] = members();
    first.send({ type: "members", rid: "mm", conv: g.id });
    const listed = await first.next("members", (f) => f.rid === "mm");
    assert.equal(listed.members.find((m) => m.id === p.mem.id)?.displayName, "M");
    assert.equal(listed.members.find((m) => m.id === p.owner.id)?.displayName, undefined);

    // A new member's devices learn of the group, then get everything from their join on.
    assert.equal(
      (await call(p.mem.client, "POST", `${path}/members`, { userIds: [p.newbie.id] })).status,
      200,
    );
    const added = await allSee(members(), g.id, "member_added", p.newbie.id);
    for (const s of ws.get(p.newbie)!) {
      const { conv } = await s.next("conv", (f) => f.conv.id === g.id);
      assert.deepEqual([conv.title, conv.lastSeq, conv.role, conv.notice?.text], [
        "Live <b>2</b>",
        added.seq,
        "member",
        "Be nice",
      ]);
      // Their own "joined" message comes at once, not only when the next message fills the gap.
      const joined = await s.next("msg", (f) => f.msg.conv === g.id && f.msg.seq === added.seq);
      assert.equal(joined.msg.meta?.event, "member_added");
    }
    const everyone = () => [p.owner, p.admin, p.mem, p.newbie].flatMap((x) => ws.get(x)!);
    await call(p.owner.client, "POST", `${path}/transfer`, { userId: p.admin.id });
    const handover = await allSee(everyone(), g.id, "owner_changed", p.admin.id);
    assert.equal(handover.meta?.by, p.owner.id);
    await call(p.admin.client, "PUT", `${path}/members/${p.owner.id}/role`, { role: "member" });
    await allSee(everyone(), g.id, "admin_removed", p.owner.id);
    await call(p.newbie.client, "DELETE", `${path}/members/${p.newbie.id}`);
    await allSee(everyone(), g.id, "member_left", p.newbie.id);
    for (const s of ws.get(p.newbie)!) assert.equal((await s.next("conv_removed")).conv, g.id);
    await closeAll(ws);
  });
});

Deno.test("a kicked member's devices stop at once: conv_removed, no more messages, no send, no history", async () => {
  await withServer(async (server) => {
    const p = await people(server, ["owner", "kicked", "stays"] as const);
    await befriend(server, p.owner, p.kicked, p.stays);
    const g = await newGroup(p.owner, "Kick", [p.kicked, p.stays]);
    const ws = await devices(server, [p.owner, p.kicked, p.stays]);
    const kicked = ws.get(p.kicked)!;
    await call(p.owner.client, "DELETE", `/api/groups/${g.id}/members/${p.kicked.id}`);
    await allSee([...ws.values()].flat(), g.id, "member_removed", p.kicked.id);
    for (const s of kicked) assert.equal((await s.next("conv_removed")).conv, g.id);
    const [o] = ws.get(p.owner)!;
    o.send({ type: "send", conv: g.id, cid: "after", text: "not for you" });
    await o.next("ack");
    await Promise.all(
      ws.get(p.stays)!.map((s) => s.next("msg", (f) => f.msg.text === "not for you")),
    );
    for (const s of kicked) assert.ok(!s.msgs(g.id).some((m) => m.text === "not for you"));
    kicked[0].send({ type: "send", conv: g.id, cid: "k1", text: "still here?" });
    assert.equal((await kicked[0].next("error", (f) => f.cid === "k1")).code, "not_member");
    kicked[1].send({ type: "history", conv: g.id, rid: "h" });
    assert.equal((await kicked[1].next("error", (f) => f.rid === "h")).code, "not_member");
    const again = await WsClient.connect(server, p.kicked.client);
    assert.ok(
      !(again.frames.find((f) => f.type === "welcome") as { convs: { id: string }[] }).convs.some((
        c,
      ) => c.id === g.id),
      "gone from the list",
    );
    await again.close();
    await closeAll(ws);
  });
});

Deno.test("a muted member's send gets 'muted'; others still talk; unmuted, they can send again", async () => {
  await withServer(async (server) => {
    const p = await people(server, ["owner", "loud"] as const);
    await befriend(server, p.owner, p.loud);
    const g = await newGroup(p.owner, "Quiet", [p.loud]);
    const ws = await devices(server, [p.owner, p.loud]);
    const [loud] = ws.get(p.loud)!;
    await call(p.owner.client, "POST", `/api/groups/${g.id}/members/${p.loud.id}/mute`, {
      minutes: 10,
    });
    await allSee([loud], g.id, "muted");
    loud.send({ type: "send", conv: g.id, cid: "m1", text: "hello?" });
    const err = await loud.next("error", (f) => f.cid === "m1");
    assert.equal(err.code, "muted");
    assert.match(err.message, /10/);
    const [o] = ws.get(p.owner)!;
    o.send({ type: "send", conv: g.id, cid: "o1", text: "owner talks" });
    await o.next("ack", (f) => f.cid === "o1");
    await call(p.owner.client, "POST", `/api/groups/${g.id}/members/${p.loud.id}/mute`, {
      minutes: 0,
    });
    await allSee([loud], g.id, "unmuted");
    loud.send({ type: "send", conv: g.id, cid: "m2", text: "thanks" });
    await loud.next("ack", (f) => f.cid === "m2");
    await closeAll(ws);
  });
});

Deno.test("dissolving: every member's devices get the last message and conv_removed; the group is gone on reconnect", async () => {
  await withServer(async (server) => {
    const p = await people(server, ["owner", "a", "b"] as const);
    await befriend(server, p.owner, p.a, p.b);
    const g = await newGroup(p.owner, "Bye", [p.a, p.b]);
    const ws = await devices(server, [p.owner, p.a, p.b]);
    assert.deepEqual((await call(p.owner.client, "DELETE", `/api/groups/${g.id}`)).body, {
      ok: true,
    });
    await allSee([...ws.values()].flat(), g.id, "dissolved");
    for (const s of [...ws.values()].flat()) {
      assert.equal((await s.next("conv_removed")).conv, g.id);
    }
    const [a] = ws.get(p.a)!;
    a.send({ type: "send", conv: g.id, cid: "x", text: "anyone?" });
    assert.equal((await a.next("error", (f) => f.cid === "x")).code, "not_member");
    const again = await WsClient.open(server, p.b.client);
    again.send({ type: "hello", v: 1, resume: { [g.id]: 1 } });
    const welcome = await again.next("welcome");
    assert.ok(!welcome.convs.some((c) => c.id === g.id));
    await again.next("resumed");
    await again.close();
    await closeAll(ws);
  });
});

Deno.test("join requests reach every admin device; approval brings the group to the new member's devices", async () => {
  await withServer(async (server) => {
    const p = await people(server, ["owner", "admin", "asker"] as const);
    await befriend(server, p.owner, p.admin);
    const g = await newGroup(p.owner, "Ask", [p.admin]);
    await call(p.owner.client, "PUT", `/api/groups/${g.id}/members/${p.admin.id}/role`, {
      role: "admin",
    });
    const ws = await devices(server, [p.owner, p.admin, p.asker]);
    await call(p.asker.client, "POST", `/api/groups/${g.id}/join`, { note: "<hi>" });
    for (const s of [...ws.get(p.owner)!, ...ws.get(p.admin)!]) {
      const f = await s.next("join_request");
      assert.deepEqual([f.conv, f.request.user.id, f.request.note], [g.id, p.asker.id, "<hi>"]);
    }
    await call(p.admin.client, "POST", `/api/groups/${g.id}/requests/${p.asker.id}/approve`);
    const added = await allSee(
      [...ws.get(p.owner)!, ...ws.get(p.admin)!],
      g.id,
      "member_added",
      p.asker.id,
    );
    // The new member's devices get the group itself (ending at their join), then what follows.
    for (const s of ws.get(p.asker)!) {
      await s.next(
        "conv",
        (f) => f.conv.id === g.id && f.conv.role === "member" && f.conv.lastSeq === added.seq,
      );
    }
    await call(p.admin.client, "PATCH", `/api/groups/${g.id}`, { notice: "Welcome!" });
    await allSee([...ws.values()].flat(), g.id, "notice");
    await closeAll(ws);
  });
});

Deno.test("system messages resume after a reconnect and page back through history like other messages", async () => {
  await withServer(async (server) => {
    const p = await people(server, ["owner", "away"] as const);
    await befriend(server, p.owner, p.away);
    const g = await newGroup(p.owner, "Log", [p.away]);
    const first = await WsClient.connect(server, p.away.client);
    const last = (first.frames.find((f) =>
      f.type === "welcome"
    ) as { convs: { id: string; lastSeq: number }[] }).convs.find((c) =>
      c.id === g.id
    )!.lastSeq;
    await first.close();
    const path = `/api/groups/${g.id}`;
    await call(p.owner.client, "PATCH", path, { title: "Log 2" });
    await call(p.owner.client, "PATCH", path, { notice: "Notice!" });
    await call(p.owner.client, "POST", `${path}/members/${p.away.id}/mute`, { minutes: 1 });
    await call(p.owner.client, "PUT", `${path}/members/${p.away.id}/role`, { role: "admin" });
    const back = await WsClient.connect(server, p.away.client, { [g.id]: last });
    const missed = back.msgs(g.id).map((m) => m.meta?.event);
    assert.deepEqual(missed, ["renamed", "notice", "muted", "admin_added"]);
    const summary = (back.frames.find((f) => f.type === "welcome") as {
      convs: { id: string; title: string; role: string }[];
    }).convs.find((c) => c.id === g.id)!;
    assert.deepEqual([summary.title, summary.role], ["Log 2", "admin"]);
    back.send({ type: "history", conv: g.id, limit: 2, rid: "p1" });
    const page1 = await back.next("history", (f) => f.rid === "p1");
    assert.deepEqual(page1.messages.map((m) => m.meta?.event), ["muted", "admin_added"]);
    assert.equal(page1.hasMore, true);
    back.send({ type: "history", conv: g.id, limit: 10, before: page1.messages[0].seq, rid: "p2" });
    const page2 = await back.next("history", (f) => f.rid === "p2");
    assert.deepEqual(page2.messages.map((m) => m.meta?.event), ["created", "renamed", "notice"]);
    assert.equal(page2.hasMore, false);
    await back.close();
  });
});
