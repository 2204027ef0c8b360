/**
 * The authorization matrix of the group API: every operation tried by a stranger, a user the
 * owner blocked, a member, an admin, the owner and a removed member, each against a fresh group.
 * Allowed ones succeed and change KV (or, for reads, answer); the rest get the expected error
 * and change nothing at all (KV snapshot before and after).
 */
import assert from "node:assert/strict";
import { type Client, type TestServer, withServer } from "./helpers.ts";
import { assertError, pngBytes, snapshot } from "./http_checks.ts";
import { befriend, call, people, type Person } from "./groups_fixture.ts";
import { createGroup, setSettings } from "../lib/groups/groups.ts";
import { kick, setRole } from "../lib/groups/moderation.ts";
import { createInvite, requestJoin } from "../lib/groups/invites.ts";
import { block } from "../lib/social/friends.ts";

const ACTORS = ["stranger", "blocked", "member", "admin", "owner", "removed"] as const;
type Actor = (typeof ACTORS)[number];
/** A success status, or the refusal expected. */
type Outcome = number | [number, string];

const NOT_MEMBER: Outcome = [403, "not_member"];
const ROLE: Outcome = [403, "forbidden_role"];
const OUTSIDERS = { stranger: NOT_MEMBER, blocked: NOT_MEMBER, removed: NOT_MEMBER } as const;
const ALREADY: Outcome = [409, "already_member"];

/** Admins and the owner may; a member is refused for the role; outsiders are not in the group. */
const adminsOnly = (ok = 200): Record<Actor, Outcome> => ({
  ...OUTSIDERS,
  member: ROLE,
  admin: ok,
  owner: ok,
});
const ownerOnly = (): Record<Actor, Outcome> => ({
  ...OUTSIDERS,
  member: ROLE,
  admin: ROLE,
  owner: 200,
});
const membersAll = (): Record<Actor, Outcome> => ({
  ...OUTSIDERS,
  member: 200,
  admin: 200,
  owner: 200,
});
const outsidersJoin = (ok: number): Record<Actor, Outcome> => ({
  stranger: ok,
  blocked: ok,
  removed: ok,
  member: ALREADY,
  admin: ALREADY,
  owner: ALREADY,
});

interface Ctx {
  g: string;
  path: string;
  token: string;
  inviteId: string;
  ids: Record<string, string>;
}

interface Op {
  name: string;
  /** Reads change nothing even when allowed. */
  read?: boolean;
  setup?: { public?: boolean; memberInvite?: boolean };
  run: (
    c: Client,
    x: Ctx,
    me: Person,
  ) => Promise<{ status: number; body: unknown; res?: Response }>;
  expect: Record<Actor, Outcome>;
}

const png = await pngBytes();

const OPS: Op[] = [
  {
    name: "view group",
    read: true,
    run: (c, x) => call(c, "GET", x.path),
    expect: {
      ...membersAll(),
      stranger: [404, "group_not_found"],
      blocked: [404, "group_not_found"],
      removed: [404, "group_not_found"],
    },
  },
  {
    name: "rename",
    run: (c, x) => call(c, "PATCH", x.path, { title: "Renamed" }),
    expect: adminsOnly(),
  },
  {
    name: "set notice",
    run: (c, x) => call(c, "PATCH", x.path, { notice: "Read me" }),
    expect: adminsOnly(),
  },
  {
    name: "make public",
    run: (c, x) => call(c, "PATCH", x.path, { public: true }),
    expect: adminsOnly(),
  },
  {
    name: "set avatar",
    run: (c, x) => c.json(`${x.path}/avatar`, { method: "PUT", body: png }),
    expect: adminsOnly(),
  },
  {
    name: "add a friend",
    run: (c, x) => call(c, "POST", `${x.path}/members`, { userIds: [x.ids.friend] }),
    expect: membersAll(),
  },
  {
    name: "add a friend (admins only)",
    setup: { memberInvite: false },
    run: (c, x) => call(c, "POST", `${x.path}/members`, { userIds: [x.ids.friend] }),
    expect: adminsOnly(),
  },
  {
    name: "kick a member",
    run: (c, x) => call(c, "DELETE", `${x.path}/members/${x.ids.target}`),
    expect: adminsOnly(),
  },
  {
    name: "kick an admin",
    run: (c, x) => call(c, "DELETE", `${x.path}/members/${x.ids.admin2}`),
    expect: ownerOnly(),
  },
  {
    name: "kick the owner",
    run: (c, x) => call(c, "DELETE", `${x.path}/members/${x.ids.owner}`),
    expect: { ...ownerOnly(), owner: [409, "owner_must_transfer"] },
  },
  {
    name: "mute a member",
    run: (c, x) => call(c, "POST", `${x.path}/members/${x.ids.target}/mute`, { minutes: 10 }),
    expect: adminsOnly(),
  },
  {
    name: "mute an admin",
    run: (c, x) => call(c, "POST", `${x.path}/members/${x.ids.admin2}/mute`, { minutes: 10 }),
    expect: ownerOnly(),
  },
  {
    name: "make admin",
    run: (c, x) => call(c, "PUT", `${x.path}/members/${x.ids.target}/role`, { role: "admin" }),
    expect: ownerOnly(),
  },
  {
    name: "remove admin",
    run: (c, x) => call(c, "PUT", `${x.path}/members/${x.ids.admin2}/role`, { role: "member" }),
    expect: ownerOnly(),
  },
  {
    name: "hand over",
    run: (c, x) => call(c, "POST", `${x.path}/transfer`, { userId: x.ids.target }),
    expect: ownerOnly(),
  },
  { name: "dissolve", run: (c, x) => call(c, "DELETE", x.path), expect: ownerOnly() },
  {
    name: "leave",
    run: (c, x, me) => call(c, "DELETE", `${x.path}/members/${me.id}`),
    expect: { ...membersAll(), owner: [409, "owner_must_transfer"] },
  },
  {
    name: "own display name",
    run: (c, x) => call(c, "PUT", `${x.path}/me`, { displayName: "Me here" }),
    expect: membersAll(),
  },
  {
    name: "join a public group",
    setup: { public: true },
    run: (c, x) => call(c, "POST", `${x.path}/join`),
    expect: outsidersJoin(200),
  },
  {
    name: "ask to join",
    run: (c, x) => call(c, "POST", `${x.path}/join`, { note: "hi" }),
    expect: outsidersJoin(202),
  },
  {
    name: "list join requests",
    read: true,
    run: (c, x) => call(c, "GET", `${x.path}/requests`),
    expect: adminsOnly(),
  },
  {
    name: "approve a request",
    run: (c, x) => call(c, "POST", `${x.path}/requests/${x.ids.asker}/approve`),
    expect: adminsOnly(),
  },
  // The owner blocked this asker: for the owner the request does not exist; other admins see it.
  {
    name: "approve the blocked user's request",
    run: (c, x) => call(c, "POST", `${x.path}/requests/${x.ids.blocked}/approve`),
    expect: { ...adminsOnly(), owner: [404, "join_request_not_found"] },
  },
  {
    name: "decline a request",
    run: (c, x) => call(c, "POST", `${x.path}/requests/${x.ids.asker}/decline`),
    expect: adminsOnly(),
  },
  {
    name: "make an invite link",
    run: (c, x) => call(c, "POST", `${x.path}/invites`, { hours: 24 }),
    expect: adminsOnly(201),
  },
  {
    name: "list invite links",
    read: true,
    run: (c, x) => call(c, "GET", `${x.path}/invites`),
    expect: adminsOnly(),
  },
  {
    name: "revoke an invite link",
    run: (c, x) => call(c, "DELETE", `${x.path}/invites/${x.inviteId}`),
    expect: adminsOnly(),
  },
  {
    name: "preview an invite link",
    read: true,
    run: (c, x) => call(c, "POST", "/api/invites/preview", { token: x.token }),
    expect: { ...outsidersJoin(200), member: 200, admin: 200, owner: 200 },
  },
  {
    name: "join by invite link",
    run: (c, x) => call(c, "POST", "/api/invites/join", { token: x.token }),
    expect: outsidersJoin(200),
  },
];

type People = Record<
  | "owner"
  | "admin"
  | "admin2"
  | "member"
  | "target"
  | "stranger"
  | "blocked"
  | "removed"
  | "friend"
  | "asker",
  Person
>;

/** A fresh group: owner, two admins, two members; one removed member; two pending requests; one link. */
async function fresh(server: TestServer, p: People, setup: Op["setup"] = {}): Promise<Ctx> {
  const rt = server.rt;
  const g = await createGroup(
    rt,
    p.owner.user,
    "Matrix",
    [p.admin, p.admin2, p.member, p.target, p.removed].map((x) => x.id),
  );
  await setRole(rt, p.owner.user, g.id, p.admin.id, "admin");
  await setRole(rt, p.owner.user, g.id, p.admin2.id, "admin");
  await kick(rt, p.owner.user, g.id, p.removed.id);
  await requestJoin(rt, p.asker.user, g.id, "");
  await requestJoin(rt, p.blocked.user, g.id, "");
  const { invite, token } = await createInvite(rt, p.owner.user, g.id, null);
  if (setup.public !== undefined || setup.memberInvite !== undefined) {
    await setSettings(rt, p.owner.user, g.id, setup);
  }
  const ids = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.id]));
  return { g: g.id, path: `/api/groups/${g.id}`, token, inviteId: invite.id, ids };
}

Deno.test("group authorization matrix: operations × {stranger, blocked, member, admin, owner, removed}", async (t) => {
  await withServer(async (server) => {
    const p = await people(
      server,
      [
        "owner",
        "admin",
        "admin2",
        "member",
        "target",
        "stranger",
        "blocked",
        "removed",
        "friend",
        "asker",
      ] as const,
    );
    await befriend(server, p.owner, p.admin, p.admin2, p.member, p.target, p.removed);
    await befriend(server, p.friend, p.owner, p.admin, p.member, p.stranger, p.blocked, p.removed);
    await block(server.rt, p.owner.user, p.blocked.id);

    for (const op of OPS) {
      for (const actor of ACTORS) {
        const expected = op.expect[actor];
        await t.step(
          `${op.name} by ${actor}: ${typeof expected === "number" ? expected : expected.join(" ")}`,
          async () => {
            const x = await fresh(server, p, op.setup);
            const before = await snapshot(server.kv);
            const res = await op.run(p[actor].client, x, p[actor]);
            const after = await snapshot(server.kv);
            if (typeof expected === "number") {
              assert.equal(res.status, expected, JSON.stringify(res.body));
              if (op.read) assert.deepEqual(after, before, "a read changed something");
              else assert.notDeepEqual(after, before, "an allowed change changed nothing");
            } else {
              assertError(res, expected[0], expected[1]);
              assert.deepEqual(after, before, "a refused request changed something");
            }
          },
        );
      }
    }
  });
});
