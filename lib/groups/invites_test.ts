import assert from "node:assert/strict";
import { kvState, refused, world } from "./_fixture.ts";
import { keys } from "../kv/keys.ts";
import { createGroup, setSettings } from "./groups.ts";
import { dissolve, setRole } from "./moderation.ts";
import {
  approveJoin,
  createInvite,
  declineJoin,
  INVITE_MAX_HOURS,
  joinByInvite,
  listInvites,
  listJoinRequests,
  MAX_INVITES,
  previewInvite,
  requestJoin,
  revokeInvite,
} from "./invites.ts";
import type { Conversation } from "../chat/conversations.ts";

async function setup() {
  const w = await world();
  const [owner, admin, member, outsider] = [
    await w.user("own"),
    await w.user("adm"),
    await w.user("mem"),
    await w.user("out"),
  ];
  await w.befriend(owner, admin, member);
  const g = await createGroup(w.rt, owner, "Private", [admin.id, member.id]);
  await setRole(w.rt, owner, g.id, admin.id, "admin");
  return { w, owner, admin, member, outsider, g };
}

Deno.test("invite links: admins make them; only the hash is stored; anyone with the link previews and joins", async () => {
  const { w, admin, member, outsider, g } = await setup();
  try {
    await refused(createInvite(w.rt, member, g.id, null), 403, "forbidden_role");
    await refused(createInvite(w.rt, outsider, g.id, null), 403, "not_member");
    for (const bad of [0, -1, 1.5, INVITE_MAX_HOURS + 1]) {
      await refused(createInvite(w.rt, admin, g.id, bad), 400, "bad_input");
    }
    const { invite, token } = await createInvite(w.rt, admin, g.id, 24);
    assert.equal(invite.expiresAt, w.clock.t + 24 * 3600_000);
    assert.ok(token.length >= 32);
    assert.ok(
      !(await kvState(w.kv)).some((k) => k.includes(token)),
      "the token itself is never stored",
    );
    assert.deepEqual(await previewInvite(w.rt, token), {
      id: g.id,
      title: "Private",
      memberCount: 3,
      avatar: null,
    });
    const ack = await joinByInvite(w.rt, outsider, token);
    const msg = (await w.log(g.id)).find((m) => m.seq === ack.seq)!;
    assert.deepEqual(msg.meta, {
      event: "member_added",
      userId: outsider.id,
      by: outsider.id,
      text: "link",
    });
    await refused(joinByInvite(w.rt, outsider, token), 409, "already_member");
    assert.deepEqual((await listInvites(w.rt, admin, g.id)).map((i) => i.id), [invite.id]);
    await refused(listInvites(w.rt, member, g.id), 403, "forbidden_role");
  } finally {
    w.close();
  }
});

Deno.test("forged, malformed, revoked and expired links are all 'invite_invalid' and change nothing", async () => {
  const { w, owner, admin, member, outsider, g } = await setup();
  try {
    const forever = await createInvite(w.rt, admin, g.id, null);
    const hour = await createInvite(w.rt, owner, g.id, 1);
    const before = await kvState(w.kv);
    for (
      const bad of [
        "x".repeat(32),
        "short",
        "",
        "../../etc/passwd",
        "a".repeat(200),
        forever.token + "x",
      ]
    ) {
      await refused(previewInvite(w.rt, bad), 404, "invite_invalid");
      await refused(joinByInvite(w.rt, outsider, bad), 404, "invite_invalid");
    }
    await refused(revokeInvite(w.rt, member, g.id, forever.invite.id), 403, "forbidden_role");
    await refused(revokeInvite(w.rt, admin, g.id, "nosuchinvite"), 404, "invite_not_found");
    assert.deepEqual(await kvState(w.kv), before);
    w.clock.advance(3600_000);
    await refused(previewInvite(w.rt, hour.token), 404, "invite_invalid");
    await refused(joinByInvite(w.rt, outsider, hour.token), 404, "invite_invalid");
    assert.deepEqual(
      (await listInvites(w.rt, admin, g.id)).map((i) => i.id),
      [forever.invite.id],
      "expired links are not listed",
    );
    await revokeInvite(w.rt, admin, g.id, forever.invite.id);
    await refused(joinByInvite(w.rt, outsider, forever.token), 404, "invite_invalid");
    assert.equal((await w.kv.get(keys.member(g.id, outsider.id))).value, null);
  } finally {
    w.close();
  }
});

Deno.test(`at most ${MAX_INVITES} live links per group; expired ones do not count`, async () => {
  const { w, admin, g } = await setup();
  try {
    for (let i = 0; i < MAX_INVITES - 1; i++) await createInvite(w.rt, admin, g.id, null);
    await createInvite(w.rt, admin, g.id, 1);
    await refused(createInvite(w.rt, admin, g.id, null), 409, "too_many_invites");
    w.clock.advance(3600_000 + 1);
    await createInvite(w.rt, admin, g.id, null);
  } finally {
    w.close();
  }
});

Deno.test("a link into a full or dissolved group does not let anyone in", async () => {
  const { w, owner, admin, outsider, g } = await setup();
  try {
    const { token } = await createInvite(w.rt, admin, g.id, null);
    await w.kv.set(keys.conv(g.id), {
      ...(await w.kv.get<Conversation>(keys.conv(g.id))).value!,
      cap: 3,
    });
    await refused(joinByInvite(w.rt, outsider, token), 409, "group_full");
    await dissolve(w.rt, owner, g.id);
    await refused(previewInvite(w.rt, token), 404, "invite_invalid");
    await refused(joinByInvite(w.rt, outsider, token), 404, "invite_invalid");
  } finally {
    w.close();
  }
});

Deno.test("join requests reach the admins live, except an admin who blocked the requester", async () => {
  const { w, owner, admin, member, outsider, g } = await setup();
  try {
    await w.block(owner, outsider);
    const [toOwner, toAdmin, toMember] = [w.listen(owner), w.listen(admin), w.listen(member)];
    await refused(requestJoin(w.rt, outsider, g.id, "n".repeat(61)), 400, "field_long");
    await refused(requestJoin(w.rt, member, g.id, ""), 409, "already_member");
    await refused(requestJoin(w.rt, outsider, "nosuchgroup", ""), 404, "group_not_found");
    await requestJoin(w.rt, outsider, g.id, "Hi <script>");
    assert.deepEqual(toAdmin.frames.map((f) => f.type), ["join_request"]);
    assert.deepEqual(toOwner.frames, [], "the blocker is not told");
    assert.deepEqual(toMember.frames, []);
    assert.deepEqual((await listJoinRequests(w.rt, admin, g.id)).map((r) => [r.user.id, r.note]), [[
      outsider.id,
      "Hi <script>",
    ]]);
    assert.deepEqual(await listJoinRequests(w.rt, owner, g.id), []);
    await refused(listJoinRequests(w.rt, member, g.id), 403, "forbidden_role");
    await refused(approveJoin(w.rt, owner, g.id, outsider.id), 404, "join_request_not_found");
    await refused(approveJoin(w.rt, member, g.id, outsider.id), 403, "forbidden_role");
    const ack = await approveJoin(w.rt, admin, g.id, outsider.id);
    const msg = (await w.log(g.id)).find((m) => m.seq === ack.seq)!;
    assert.deepEqual(msg.meta, {
      event: "member_added",
      userId: outsider.id,
      text: "request",
      by: admin.id,
    });
    assert.equal(
      (await w.kv.get(keys.joinReq(g.id, outsider.id))).value,
      null,
      "the request is answered",
    );
  } finally {
    w.close();
  }
});

Deno.test("approve and decline at once: exactly one wins; an approval after a decline adds nobody", async () => {
  for (let round = 0; round < 6; round++) {
    const { w, owner, admin, outsider, g } = await setup();
    try {
      await requestJoin(w.rt, outsider, g.id, "");
      const [a, d] = await Promise.allSettled([
        approveJoin(w.rt, owner, g.id, outsider.id),
        declineJoin(w.rt, admin, g.id, outsider.id),
      ]);
      assert.equal([a, d].filter((r) => r.status === "fulfilled").length, 1, `round ${round}`);
      const joined = (await w.kv.get(keys.member(g.id, outsider.id))).value !== null;
      assert.equal(joined, a.status === "fulfilled");
      const lost = (a.status === "rejected" ? a : d) as PromiseRejectedResult;
      assert.equal(lost.reason.code, "join_request_not_found");
      assert.equal((await w.kv.get(keys.joinReq(g.id, outsider.id))).value, null);
    } finally {
      w.close();
    }
  }
});

Deno.test("two admins approving one request: one adds the member, the other is told it is answered", async () => {
  const { w, owner, admin, outsider, g } = await setup();
  try {
    await requestJoin(w.rt, outsider, g.id, "");
    const res = await Promise.allSettled([
      approveJoin(w.rt, owner, g.id, outsider.id),
      approveJoin(w.rt, admin, g.id, outsider.id),
    ]);
    assert.equal(res.filter((r) => r.status === "fulfilled").length, 1);
    const lost = res.find((r) => r.status === "rejected") as PromiseRejectedResult;
    assert.ok(
      ["already_member", "join_request_not_found"].includes(lost.reason.code),
      lost.reason.code,
    );
    assert.equal((await w.log(g.id)).filter((m) => m.meta?.event === "member_added").length, 1);
    await refused(declineJoin(w.rt, admin, g.id, outsider.id), 404, "join_request_not_found");
    await setSettings(w.rt, owner, g.id, { public: true });
  } finally {
    w.close();
  }
});
