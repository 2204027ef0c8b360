import assert from "node:assert/strict";
import { kvState, refused, world } from "./_fixture.ts";
import { keys } from "../kv/keys.ts";
import {
  createGroup,
  GROUP_CAP,
  rename,
  setDisplayName,
  setNotice,
  setSettings,
  TITLE_MAX,
} from "./groups.ts";
import { dissolve, kick, leave, mute, setRole, transferOwnership } from "./moderation.ts";
import { searchPublicGroups } from "./view.ts";
import { inviteFriends, joinPublic } from "./join.ts";
import type { Conversation, Member } from "../chat/conversations.ts";
import { textMessage } from "../chat/send_rules.ts";

async function setup() {
  const w = await world();
  const [owner, admin, member, other] = [
    await w.user("own"),
    await w.user("adm"),
    await w.user("mem"),
    await w.user("oth"),
  ];
  await w.befriend(owner, admin, member, other);
  const g = await createGroup(w.rt, owner, "Team", [admin.id, member.id]);
  await setRole(w.rt, owner, g.id, admin.id, "admin");
  return { w, owner, admin, member, other, g };
}

Deno.test("createGroup() makes the creator owner, adds friends, logs a 'created' message and counts members", async () => {
  const w = await world();
  try {
    const [a, b, c] = [await w.user(), await w.user(), await w.user()];
    await w.befriend(a, b, c);
    const listening = w.listen(b);
    const g = await createGroup(w.rt, a, "  <b>Trip</b>  ", [b.id, c.id, b.id, a.id]);
    assert.equal(g.title, "<b>Trip</b>", "trimmed, stored as text");
    const members = await w.members(g.id);
    assert.deepEqual(
      members.map((m) => [m.userId, m.role]).sort(),
      [[a.id, "owner"], [b.id, "member"], [c.id, "member"]].sort(),
    );
    assert.equal((await w.kv.get(keys.memberCount(g.id))).value, 3);
    assert.ok((await w.kv.get(keys.userConv(c.id, g.id))).value, "in the member's list");
    const log = await w.log(g.id);
    assert.deepEqual(log.map((m) => [m.seq, m.kind, m.meta?.event, m.meta?.by]), [[
      1,
      "system",
      "created",
      a.id,
    ]]);
    const conv = (await w.kv.get<Conversation>(keys.conv(g.id))).value!;
    assert.equal(conv.public, false);
    assert.equal(conv.memberInvite, true);
    assert.equal(conv.cap, GROUP_CAP);
    assert.deepEqual(listening.controls, [{ kind: "conv_added", conv: g.id }]);
  } finally {
    w.close();
  }
});

Deno.test("createGroup() refuses strangers, friends who blocked the creator and bad names, and writes nothing", async () => {
  const w = await world();
  try {
    const [a, friend, stranger, blocker] = [
      await w.user(),
      await w.user(),
      await w.user(),
      await w.user(),
    ];
    await w.befriend(a, friend, blocker);
    await w.block(blocker, a);
    const before = await kvState(w.kv);
    await refused(createGroup(w.rt, a, "G", [friend.id, stranger.id]), 403, "not_friends");
    await refused(createGroup(w.rt, a, "G", [blocker.id]), 403, "not_friends");
    await refused(createGroup(w.rt, a, "G", ["NOT an id"]), 400, "bad_input");
    await refused(createGroup(w.rt, a, "   ", []), 400, "field_required");
    await refused(createGroup(w.rt, a, "x".repeat(TITLE_MAX + 1), []), 400, "field_long");
    await refused(createGroup(w.rt, a, "bad\u0007name", []), 400, "bad_input");
    assert.deepEqual(await kvState(w.kv), before);
  } finally {
    w.close();
  }
});

Deno.test("rename, notice and settings need an admin; each is a system message; the public index follows", async () => {
  const { w, owner, admin, member, g } = await setup();
  try {
    const before = await kvState(w.kv);
    await refused(rename(w.rt, member, g.id, "Mine"), 403, "forbidden_role");
    await refused(setNotice(w.rt, member, g.id, "hi"), 403, "forbidden_role");
    await refused(setSettings(w.rt, member, g.id, { public: true }), 403, "forbidden_role");
    await refused(setNotice(w.rt, admin, g.id, "n".repeat(501)), 400, "field_long");
    assert.deepEqual(await kvState(w.kv), before, "refusals change nothing");
    await setSettings(w.rt, admin, g.id, { public: true });
    assert.deepEqual((await searchPublicGroups(w.kv, "te")).map((c) => c.id), [g.id]);
    await rename(w.rt, owner, g.id, "Wandern 🥾 Club");
    assert.deepEqual(await searchPublicGroups(w.kv, "te"), [], "the old name is no longer indexed");
    assert.deepEqual(
      (await searchPublicGroups(w.kv, "WANDERN")).map((c) => c.id),
      [g.id],
      "case-insensitive prefix",
    );
    assert.deepEqual(
      (await searchPublicGroups(w.kv, "Wandern 🥾")).map((c) => c.id),
      [g.id],
      "prefix ending outside the BMP",
    );
    await setNotice(w.rt, admin, g.id, "Line 1\nLine <i>2</i>");
    const conv = (await w.kv.get<Conversation>(keys.conv(g.id))).value!;
    assert.deepEqual(conv.notice, { text: "Line 1\nLine <i>2</i>", by: admin.id, at: w.clock.t });
    await setSettings(w.rt, owner, g.id, { public: false });
    assert.deepEqual(await searchPublicGroups(w.kv, "w"), []);
    const events = (await w.log(g.id)).map((m) => m.meta?.event);
    assert.deepEqual(events, [
      "created",
      "admin_added",
      "settings",
      "renamed",
      "notice",
      "settings",
    ]);
  } finally {
    w.close();
  }
});

Deno.test("inviteFriends(): members add friends while allowed; refusals up front change nothing", async () => {
  const { w, owner, admin, member, other, g } = await setup();
  try {
    await w.befriend(member, other, admin);
    const stranger = await w.user();
    await refused(inviteFriends(w.rt, member, g.id, [stranger.id]), 403, "not_friends");
    await refused(inviteFriends(w.rt, member, g.id, [admin.id]), 409, "already_member");
    await refused(inviteFriends(w.rt, member, g.id, []), 400, "field_required");
    await setSettings(w.rt, owner, g.id, { memberInvite: false });
    const before = await kvState(w.kv);
    await refused(inviteFriends(w.rt, member, g.id, [other.id]), 403, "forbidden_role");
    assert.deepEqual(await kvState(w.kv), before);
    await setSettings(w.rt, owner, g.id, { memberInvite: true });
    await w.kv.set(keys.conv(g.id), {
      ...(await w.kv.get<Conversation>(keys.conv(g.id))).value!,
      cap: 3,
    });
    await refused(inviteFriends(w.rt, member, g.id, [other.id]), 409, "group_full");
    await w.kv.set(keys.conv(g.id), {
      ...(await w.kv.get<Conversation>(keys.conv(g.id))).value!,
      cap: 4,
    });
    const [ack] = await inviteFriends(w.rt, member, g.id, [other.id]);
    const msg = (await w.log(g.id)).find((m) => m.seq === ack.seq)!;
    assert.deepEqual(msg.meta, { event: "member_added", userId: other.id, by: member.id });
    assert.equal(
      (await w.kv.get<Member>(keys.member(g.id, other.id))).value?.joinedSeq,
      ack.seq - 1,
    );
  } finally {
    w.close();
  }
});

Deno.test("concurrent public joins never pass the cap, and the count stays exact", async () => {
  const { w, owner, g } = await setup();
  try {
    await setSettings(w.rt, owner, g.id, { public: true });
    await w.kv.set(keys.conv(g.id), {
      ...(await w.kv.get<Conversation>(keys.conv(g.id))).value!,
      cap: 6,
    });
    const joiners = await Promise.all(Array.from({ length: 10 }, () => w.user("j")));
    const res = await Promise.allSettled(joiners.map((u) => joinPublic(w.rt, u, g.id)));
    assert.equal(res.filter((r) => r.status === "fulfilled").length, 3);
    for (const r of res) if (r.status === "rejected") assert.equal(r.reason.code, "group_full");
    assert.equal((await w.members(g.id)).length, 6);
    assert.equal((await w.kv.get(keys.memberCount(g.id))).value, 6);
  } finally {
    w.close();
  }
});

Deno.test("kick: admins remove members, only the owner removes admins, nobody removes the owner", async () => {
  const { w, owner, admin, member, other, g } = await setup();
  try {
    await inviteFriends(w.rt, owner, g.id, [other.id]);
    await setRole(w.rt, owner, g.id, other.id, "admin");
    await refused(kick(w.rt, member, g.id, admin.id), 403, "forbidden_role");
    await refused(kick(w.rt, admin, g.id, other.id), 403, "forbidden_role");
    await refused(kick(w.rt, other, g.id, admin.id), 403, "forbidden_role");
    await refused(kick(w.rt, admin, g.id, owner.id), 403, "forbidden_role");
    await refused(kick(w.rt, admin, g.id, "nobody"), 404, "not_member");
    await refused(kick(w.rt, admin, g.id, admin.id), 400, "bad_input");
    await kick(w.rt, admin, g.id, member.id);
    assert.equal(
      (await w.kv.get(keys.userConv(member.id, g.id))).value,
      null,
      "gone from their list",
    );
    await kick(w.rt, owner, g.id, other.id);
    assert.equal((await w.kv.get(keys.memberCount(g.id))).value, 2);
    await refused(rename(w.rt, member, g.id, "x"), 403, "not_member");
  } finally {
    w.close();
  }
});

Deno.test("a group change commits alone: a message batched after its sender's removal is refused, a second removal fails", async () => {
  const { w, owner, member, g } = await setup();
  try {
    const removal = (cid: string) =>
      w.rt.log.append({
        conv: g.id,
        sender: "system",
        cid,
        kind: "system",
        text: "",
        meta: { event: "member_removed", userId: member.id },
        checkMember: false,
        exclusive: true,
        prepare: async () => {
          const m = await w.kv.get<Member>(keys.member(g.id, member.id));
          if (!m.value) throw new Error("gone already");
          return { checks: [m], apply: (op) => void op.delete(m.key) };
        },
      });
    const send = (sender: string, cid: string) =>
      w.rt.log.append({ conv: g.id, sender, cid, kind: "text", text: "x", checkMember: true });
    // The first append starts a commit; everything after it queues up for the next batch.
    const all = [send(owner.id, "o1"), removal("r1"), send(member.id, "late"), removal("r2")];
    const [first, removed, late, again] = await Promise.allSettled(all);
    assert.equal(first.status, "fulfilled");
    assert.equal(removed.status, "fulfilled");
    assert.equal(late.status === "rejected" && late.reason.code, "not_member");
    assert.equal(again.status === "rejected" && again.reason.message, "gone already");
    assert.deepEqual((await w.log(g.id)).filter((m) => m.from === member.id), []);
  } finally {
    w.close();
  }
});

Deno.test("two concurrent kicks of one member: one succeeds, the other finds nobody", async () => {
  const { w, owner, admin, member, g } = await setup();
  try {
    const [a, b] = await Promise.allSettled([
      kick(w.rt, admin, g.id, member.id),
      kick(w.rt, owner, g.id, member.id),
    ]);
    assert.equal([a, b].filter((r) => r.status === "fulfilled").length, 1);
    const lost = [a, b].find((r) => r.status === "rejected") as PromiseRejectedResult;
    assert.equal(lost.reason.code, "not_member");
    assert.equal((await w.log(g.id)).filter((m) => m.meta?.event === "member_removed").length, 1);
    assert.equal((await w.kv.get(keys.memberCount(g.id))).value, 2);
  } finally {
    w.close();
  }
});

Deno.test("leave: members go; the owner must hand the group over first", async () => {
  const { w, owner, admin, member, g } = await setup();
  try {
    await refused(leave(w.rt, owner, g.id), 409, "owner_must_transfer");
    await leave(w.rt, member, g.id);
    await refused(leave(w.rt, member, g.id), 403, "not_member");
    await transferOwnership(w.rt, owner, g.id, admin.id);
    const roles = Object.fromEntries((await w.members(g.id)).map((m) => [m.userId, m.role]));
    assert.deepEqual(roles, { [owner.id]: "admin", [admin.id]: "owner" });
    await leave(w.rt, owner, g.id);
    assert.equal((await w.kv.get(keys.memberCount(g.id))).value, 1);
  } finally {
    w.close();
  }
});

Deno.test("mute: admins mute lower roles; a muted member cannot send until it ends or is lifted", async () => {
  const { w, owner, admin, member, g } = await setup();
  try {
    await refused(mute(w.rt, admin, g.id, owner.id, 10), 403, "forbidden_role");
    await refused(mute(w.rt, member, g.id, admin.id, 10), 403, "forbidden_role");
    await refused(mute(w.rt, admin, g.id, member.id, -1), 400, "bad_input");
    await refused(mute(w.rt, admin, g.id, member.id, 1.5), 400, "bad_input");
    await refused(mute(w.rt, admin, g.id, member.id, 43201), 400, "bad_input");
    await mute(w.rt, admin, g.id, member.id, 10);
    // A user's message as the connection sends it, with the send rules (lib/chat/send_rules.ts).
    const send = (cid: string) =>
      w.rt.log.append(textMessage({ conv: g.id, sender: member.id, cid, text: "x" }));
    const err = await refused(send("a"), 403, "muted");
    assert.equal(err.extra.params?.minutes, 10);
    w.clock.advance(10 * 60_000 + 1);
    await send("b");
    await mute(w.rt, owner, g.id, member.id, 60);
    await refused(send("c"), 403, "muted");
    await mute(w.rt, admin, g.id, member.id, 0);
    await send("d");
    const events = (await w.log(g.id)).flatMap((m) => m.meta ? [m.meta.event] : []);
    assert.deepEqual(events.slice(-3), ["muted", "muted", "unmuted"]);
  } finally {
    w.close();
  }
});

Deno.test("setRole: only the owner; the same role again changes nothing; a new admin is no longer muted", async () => {
  const { w, owner, admin, member, g } = await setup();
  try {
    await refused(setRole(w.rt, admin, g.id, member.id, "admin"), 403, "forbidden_role");
    await refused(setRole(w.rt, owner, g.id, owner.id, "member"), 400, "bad_input");
    await refused(setRole(w.rt, owner, g.id, member.id, "owner" as "admin"), 400, "bad_input");
    const before = await kvState(w.kv);
    assert.equal(await setRole(w.rt, owner, g.id, admin.id, "admin"), null);
    assert.deepEqual(await kvState(w.kv), before);
    await mute(w.rt, admin, g.id, member.id, 5);
    await setRole(w.rt, owner, g.id, member.id, "admin");
    const m = (await w.kv.get<Member>(keys.member(g.id, member.id))).value!;
    assert.equal(m.role, "admin");
    assert.equal(m.mutedUntil, undefined);
    await setRole(w.rt, owner, g.id, admin.id, "member");
    await refused(rename(w.rt, admin, g.id, "x"), 403, "forbidden_role");
  } finally {
    w.close();
  }
});

Deno.test("setDisplayName() stores a checked name and tells the group's sockets", async () => {
  const { w, member, other, g } = await setup();
  try {
    await setDisplayName(w.rt, member, g.id, "  Xiao Ming <3 ");
    assert.equal(
      (await w.kv.get<Member>(keys.member(g.id, member.id))).value?.displayName,
      "Xiao Ming <3",
    );
    await refused(setDisplayName(w.rt, member, g.id, "n".repeat(33)), 400, "field_long");
    await refused(setDisplayName(w.rt, other, g.id, "me"), 403, "not_member");
    await setDisplayName(w.rt, member, g.id, "");
    assert.equal(
      (await w.kv.get<Member>(keys.member(g.id, member.id))).value?.displayName,
      undefined,
    );
  } finally {
    w.close();
  }
});

Deno.test("dissolve: only the owner; every membership, link and request goes; the group is gone for everything", async () => {
  const { w, owner, admin, member, other, g } = await setup();
  try {
    await setSettings(w.rt, owner, g.id, { public: true });
    await w.kv.set(keys.joinReq(g.id, other.id), { userId: other.id, note: "", at: w.clock.t });
    await refused(dissolve(w.rt, admin, g.id), 403, "forbidden_role");
    await dissolve(w.rt, owner, g.id);
    assert.deepEqual(await w.members(g.id), []);
    for (const u of [owner, admin, member]) {
      assert.equal((await w.kv.get(keys.userConv(u.id, g.id))).value, null);
    }
    assert.equal((await w.kv.get(keys.joinReq(g.id, other.id))).value, null);
    assert.equal((await w.kv.get(keys.convHead(g.id))).value, null);
    assert.deepEqual(await searchPublicGroups(w.kv, "team"), []);
    assert.equal((await w.log(g.id)).at(-1)?.meta?.event, "dissolved");
    await refused(rename(w.rt, owner, g.id, "again"), 404, "group_not_found");
    await refused(joinPublic(w.rt, other, g.id), 404, "group_not_found");
    await refused(dissolve(w.rt, owner, g.id), 404, "group_not_found");
  } finally {
    w.close();
  }
});
