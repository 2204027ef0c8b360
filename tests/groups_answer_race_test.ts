/**
 * A group change that was committed is answered as done, even when the actor loses sight of the
 * group before the answer is built (removed by the owner, the group dissolved or handed over).
 * Each case makes that race happen on purpose: the change is held right after its commit (a gate
 * around the realtime log) while the other action runs, then released.
 */
import assert from "node:assert/strict";
import { type TestServer, withServer } from "./helpers.ts";
import { pngBytes } from "./http_checks.ts";
import { befriend, call, newGroup, people, type Person } from "./groups_fixture.ts";
import { keys } from "../lib/kv/keys.ts";
import type { FanEvent } from "../lib/realtime/fan_event.ts";
import type { MsgInput } from "../lib/chat/events.ts";
import type { Member } from "../lib/chat/conversations.ts";
import type { Message } from "../lib/wire/protocol.ts";

type Seen = { append: MsgInput } | { publish: FanEvent };

/**
 * Holds the first log write matching `match` once it has been committed, until `release()`:
 * the request that made it is then between its commit and its answer.
 */
function holdAfterCommit(server: TestServer, match: (w: Seen) => boolean) {
  const log = server.rt.log;
  const { append, publish } = log;
  let reached!: () => void;
  let release!: () => void;
  const committed = new Promise<void>((r) => (reached = r));
  const released = new Promise<void>((r) => (release = r));
  let armed = true;
  const hold = async (w: Seen) => {
    if (armed && match(w)) {
      armed = false;
      reached();
      await released;
    }
  };
  log.append = async (input) => {
    const ack = await append.call(log, input);
    await hold({ append: input });
    return ack;
  };
  log.publish = async (ev, writes) => {
    await publish.call(log, ev, writes);
    await hold({ publish: ev });
  };
  return {
    committed,
    release,
    restore() {
      log.append = append;
      log.publish = publish;
    },
  };
}

const event = (name: string, by?: string) => (w: Seen) =>
  "append" in w && w.append.meta?.event === name && (!by || w.append.meta.by === by);

async function logOf(server: TestServer, conv: string): Promise<Message[]> {
  const out: Message[] = [];
  for await (const e of server.kv.list<Message>({ prefix: keys.msgs(conv) })) out.push(e.value);
  return out;
}

interface World {
  server: TestServer;
  p: Record<"owner" | "admin" | "m" | "f" | "joiner", Person>;
  g: { id: string };
  path: string;
}

interface Case {
  name: string;
  /** The actor's request; it is held right after its commit. */
  act(w: World): Promise<{ status: number; body: unknown }>;
  /** Which committed write to hold. */
  hold(w: World): (s: Seen) => boolean;
  /** What happens meanwhile: the actor loses sight of the group. */
  meanwhile(w: World, heldConv: string): Promise<void>;
  /** The change is there afterwards. */
  check(w: World, heldConv: string): Promise<void>;
}

const kickAdmin = async ({ p, path }: World) => {
  const r = await call(p.owner.client, "DELETE", `${path}/members/${p.admin.id}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
};

async function hasEvent(w: World, conv: string, name: string, userId?: string) {
  const log = await logOf(w.server, conv);
  assert.ok(
    log.some((m) => m.meta?.event === name && (!userId || m.meta.userId === userId)),
    `"${name}" is in the log`,
  );
}

const CASES: Case[] = [
  {
    name: "an admin kicks a member while the owner removes the admin",
    act: ({ p, path }) => call(p.admin.client, "DELETE", `${path}/members/${p.m.id}`),
    hold: ({ p }) => event("member_removed", p.admin.id),
    meanwhile: kickAdmin,
    check: async (w) => {
      const m = await w.server.kv.get<Member>(keys.member(w.g.id, w.p.m.id));
      assert.equal(m.value, null, "the member is out");
      await hasEvent(w, w.g.id, "member_removed", w.p.m.id);
    },
  },
  {
    name: "an admin mutes a member while the owner removes the admin",
    act: ({ p, path }) =>
      call(p.admin.client, "POST", `${path}/members/${p.m.id}/mute`, { minutes: 5 }),
    hold: ({ p }) => event("muted", p.admin.id),
    meanwhile: kickAdmin,
    check: (w) => hasEvent(w, w.g.id, "muted", w.p.m.id),
  },
  {
    name: "an admin renames the group while the owner removes the admin",
    act: ({ p, path }) => call(p.admin.client, "PATCH", path, { title: "Renamed" }),
    hold: ({ p }) => event("renamed", p.admin.id),
    meanwhile: kickAdmin,
    check: (w) => hasEvent(w, w.g.id, "renamed"),
  },
  {
    name: "an admin sets the group picture while the owner removes the admin",
    act: async ({ p, path }) =>
      p.admin.client.json(`${path}/avatar`, { method: "PUT", body: await pngBytes() }),
    hold: ({ p }) => event("avatar", p.admin.id),
    meanwhile: kickAdmin,
    check: (w) => hasEvent(w, w.g.id, "avatar"),
  },
  {
    name: "an admin adds a friend while the owner removes the admin",
    act: ({ p, path }) => call(p.admin.client, "POST", `${path}/members`, { userIds: [p.f.id] }),
    hold: ({ p }) => event("member_added", p.admin.id),
    meanwhile: kickAdmin,
    check: (w) => hasEvent(w, w.g.id, "member_added", w.p.f.id),
  },
  {
    name: "an admin approves a join request while the owner removes the admin",
    act: ({ p, path }) => call(p.admin.client, "POST", `${path}/requests/${p.joiner.id}/approve`),
    hold: ({ p }) => event("member_added", p.admin.id),
    meanwhile: kickAdmin,
    check: (w) => hasEvent(w, w.g.id, "member_added", w.p.joiner.id),
  },
  {
    name: "a member renames themself in the group while the owner removes them",
    act: ({ p, path }) => call(p.m.client, "PUT", `${path}/me`, { displayName: "Em" }),
    hold: ({ g }) => (s) =>
      "publish" in s && s.publish.t === "conv" && s.publish.conv === g.id &&
      s.publish.frame?.type === "members_changed",
    meanwhile: async ({ p, path }) => {
      assert.equal((await call(p.owner.client, "DELETE", `${path}/members/${p.m.id}`)).status, 200);
    },
    check: async (w) => {
      const removed = (await logOf(w.server, w.g.id)).find((m) =>
        m.meta?.event === "member_removed" && m.meta.userId === w.p.m.id
      );
      assert.ok(removed, "removed after renaming");
    },
  },
  {
    name: "the owner hands the group over and the new owner removes them at once",
    act: ({ p, path }) => call(p.owner.client, "POST", `${path}/transfer`, { userId: p.m.id }),
    hold: ({ p }) => event("owner_changed", p.owner.id),
    meanwhile: async ({ p, path }) => {
      const r = await call(p.m.client, "DELETE", `${path}/members/${p.owner.id}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
    },
    check: (w) => hasEvent(w, w.g.id, "owner_changed", w.p.m.id),
  },
  {
    name: "the owner makes someone an admin while their other device dissolves the group",
    act: ({ p, path }) =>
      call(p.owner.client, "PUT", `${path}/members/${p.m.id}/role`, { role: "admin" }),
    hold: ({ p }) => event("admin_added", p.owner.id),
    meanwhile: async ({ p, path }) => {
      assert.equal((await call(p.owner.client, "DELETE", path)).status, 200);
    },
    check: (w) => hasEvent(w, w.g.id, "admin_added", w.p.m.id),
  },
  {
    name: "someone creates a group while their other device dissolves it",
    act: ({ p }) =>
      call(p.owner.client, "POST", "/api/groups", { title: "Brief", members: [p.m.id] }),
    hold: ({ p }) => event("created", p.owner.id),
    meanwhile: async ({ p }, conv) => {
      assert.equal((await call(p.owner.client, "DELETE", `/api/groups/${conv}`)).status, 200);
    },
    check: (w, conv) => hasEvent(w, conv, "created"),
  },
  {
    name: "someone joins a public group while the owner removes them",
    act: async ({ p, path }) => {
      assert.equal((await call(p.owner.client, "PATCH", path, { public: true })).status, 200);
      return call(p.f.client, "POST", `${path}/join`);
    },
    hold: ({ p }) => event("member_added", p.f.id),
    meanwhile: async ({ p, path }) => {
      assert.equal((await call(p.owner.client, "DELETE", `${path}/members/${p.f.id}`)).status, 200);
    },
    check: (w) => hasEvent(w, w.g.id, "member_added", w.p.f.id),
  },
  {
    name: "someone joins by an invite link while the owner removes them",
    act: async ({ p, path }) => {
      const link = await call<{ url: string }>(p.owner.client, "POST", `${path}/invites`, {});
      const token = link.body.url.split("#token=")[1];
      return call(p.f.client, "POST", "/api/invites/join", { token });
    },
    hold: ({ p }) => event("member_added", p.f.id),
    meanwhile: async ({ p, path }) => {
      assert.equal((await call(p.owner.client, "DELETE", `${path}/members/${p.f.id}`)).status, 200);
    },
    check: (w) => hasEvent(w, w.g.id, "member_added", w.p.f.id),
  },
];

async function setUp(server: TestServer): Promise<World> {
  const p = await people(server, ["owner", "admin", "m", "f", "joiner"] as const);
  await befriend(server, p.owner, p.admin, p.m);
  await befriend(server, p.admin, p.f);
  const g = await newGroup(p.owner, "Race", [p.admin, p.m]);
  const path = `/api/groups/${g.id}`;
  await call(p.owner.client, "PUT", `${path}/members/${p.admin.id}/role`, { role: "admin" });
  assert.equal((await call(p.joiner.client, "POST", `${path}/join`)).status, 202);
  return { server, p, g, path };
}

for (const c of CASES) {
  Deno.test(`committed, so answered as done: ${c.name}`, async () => {
    await withServer(async (server) => {
      const w = await setUp(server);
      let heldConv = "";
      const match = c.hold(w);
      const gate = holdAfterCommit(server, (s) => {
        const hit = match(s);
        if (hit && "append" in s) heldConv = s.append.conv;
        return hit;
      });
      const answer = c.act(w);
      await gate.committed;
      await c.meanwhile(w, heldConv || w.g.id);
      gate.release();
      const res = await answer;
      gate.restore();
      assert.equal(res.status < 300, true, `${res.status} ${JSON.stringify(res.body)}`);
      const group = (res.body as { group?: { id: string; members?: unknown } }).group;
      if (group) {
        assert.equal(group.id, heldConv || w.g.id);
        assert.equal(group.members, undefined, "the members are no longer the actor's to see");
      }
      await c.check(w, heldConv || w.g.id);
    });
  });
}
