import assert from "node:assert/strict";
import { Realtime } from "../realtime/realtime.ts";
import { createUser, updateUser, type User } from "../accounts/users.ts";
import {
  accept,
  block,
  countIncoming,
  decline,
  DECLINE_COOLDOWN_MS,
  getFriend,
  listFriends,
  listRequests,
  removeFriend,
  REQUEST_COOLDOWN_MS,
  sendRequest,
  setRemark,
  unblock,
} from "./friends.ts";
import { friendsSnapshot, searchPeople } from "./contacts.ts";
import { indexLetter } from "./initials.ts";
import { listUserConvs } from "../chat/conversations.ts";
import { keys } from "../kv/keys.ts";
import { HttpError } from "../errors.ts";

let clock = 1_700_000_000_000;

async function setup() {
  const kv = await Deno.openKv(":memory:");
  const rt = new Realtime(kv, () => clock);
  let n = 0;
  const user = async (nickname: string, active = true): Promise<User> => {
    const name = `u${n++}x${Math.random().toString(36).slice(2, 8)}`;
    const u = await createUser(kv, {
      username: name,
      email: `${name}@example.com`,
      passwordHash: "x",
      nickname,
      locale: "en",
    }, clock);
    return active ? await updateUser(kv, u.id, (x) => ({ ...x, activatedAt: clock })) : u;
  };
  return { kv, rt, user, [Symbol.asyncDispose]: () => Promise.resolve(kv.close()) };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HttpError) return `${e.status} ${e.code}`;
    throw e;
  }
  return "ok";
}

Deno.test("indexLetter() gives Latin and pinyin initials, '#' for the rest", () => {
  assert.equal(indexLetter("alice"), "A");
  assert.equal(indexLetter("Émile"), "E");
  assert.equal(indexLetter("张三"), "Z");
  assert.equal(indexLetter("曾小贤"), "Z", "surnames read as surnames");
  assert.equal(indexLetter("李雷"), "L");
  assert.equal(indexLetter("欧阳娜娜"), "O");
  assert.equal(indexLetter("  bob"), "B");
  assert.equal(indexLetter("123"), "#");
  assert.equal(indexLetter("<b>x</b>"), "#");
  assert.equal(indexLetter("😀"), "#");
  assert.equal(indexLetter(""), "#");
});

Deno.test("a request and its accept make friends both ways with one DM for both", async () => {
  await using t = await setup();
  const [a, b] = [await t.user("Alice"), await t.user("Bob")];
  assert.deepEqual(await sendRequest(t.rt, a, { toId: b.id }, "  hi, I'm <b>Alice</b>  "), {
    status: "sent",
  });
  const reqs = await listRequests(t.kv, b.id);
  assert.equal(reqs.incoming[0].note, "hi, I'm <b>Alice</b>", "trimmed, kept as text");
  assert.equal((await listRequests(t.kv, a.id)).outgoing[0].user.id, b.id);
  assert.equal(await countIncoming(t.kv, b.id), 1);
  const view = await accept(t.rt, b, a.id);
  assert.equal(view.user.id, a.id);
  assert.equal(view.initial, "A");
  assert.equal((await getFriend(t.kv, a.id, b.id))?.dm, view.dm);
  assert.ok(
    (await listUserConvs(t.kv, a.id)).some((e) => e.convId === view.dm && e.peerId === b.id),
  );
  assert.deepEqual(await listRequests(t.kv, a.id), { incoming: [], outgoing: [] });
  assert.deepEqual(await listRequests(t.kv, b.id), { incoming: [], outgoing: [] });
  assert.equal(await code(sendRequest(t.rt, a, { toId: b.id }, "")), "409 already_friends");
  assert.equal(await code(sendRequest(t.rt, a, { toId: a.id }, "")), "400 friend_self");
});

Deno.test("two requests crossing at once merge into one friendship", async () => {
  await using t = await setup();
  for (let i = 0; i < 5; i++) {
    const [a, b] = [await t.user("A"), await t.user("B")];
    const results = await Promise.all([
      sendRequest(t.rt, a, { toId: b.id }, "1"),
      sendRequest(t.rt, b, { toId: a.id }, "2"),
    ]);
    const statuses = results.map((r) => r.status).sort();
    assert.ok(statuses.includes("friends"), `one of them finds the other's request: ${statuses}`);
    const fa = await getFriend(t.kv, a.id, b.id);
    const fb = await getFriend(t.kv, b.id, a.id);
    assert.ok(fa && fb && fa.dm === fb.dm);
    assert.deepEqual(await listRequests(t.kv, a.id), { incoming: [], outgoing: [] });
    assert.deepEqual(await listRequests(t.kv, b.id), { incoming: [], outgoing: [] });
  }
});

Deno.test("accept and decline at once: exactly one wins, and a lost accept leaves no DM behind", async () => {
  await using t = await setup();
  for (let i = 0; i < 6; i++) {
    const [a, b] = [await t.user("A"), await t.user("B")];
    await sendRequest(t.rt, a, { toId: b.id }, "");
    const order = i % 2
      ? [accept(t.rt, b, a.id), decline(t.rt, b, a.id)]
      : [decline(t.rt, b, a.id), accept(t.rt, b, a.id)];
    const res = await Promise.allSettled(order);
    assert.equal(res.filter((r) => r.status === "fulfilled").length, 1, "one wins");
    const loser = res.find((r) => r.status === "rejected") as PromiseRejectedResult;
    assert.ok(loser.reason instanceof HttpError && loser.reason.code === "request_not_found");
    const friends = await getFriend(t.kv, b.id, a.id);
    const dms = (await listUserConvs(t.kv, b.id)).filter((e) => e.kind === "dm");
    assert.equal(dms.length, friends ? 1 : 0, "a DM exists only with the friendship");
    assert.equal(await countIncoming(t.kv, b.id), 0);
  }
  // Two devices accepting at once: one friendship, one error.
  const [a, b] = [await t.user("A"), await t.user("B")];
  await sendRequest(t.rt, a, { toId: b.id }, "");
  const two = await Promise.allSettled([accept(t.rt, b, a.id), accept(t.rt, b, a.id)]);
  assert.equal(two.filter((r) => r.status === "fulfilled").length, 1);
});

Deno.test("repeated requests hit a cooldown; a decline is silent and keeps the asker away for a day", async () => {
  await using t = await setup();
  const [a, b] = [await t.user("A"), await t.user("B")];
  await sendRequest(t.rt, a, { toId: b.id }, "one");
  assert.equal(await code(sendRequest(t.rt, a, { toId: b.id }, "two")), "429 request_cooldown");
  clock += REQUEST_COOLDOWN_MS + 1;
  assert.equal(
    await code(sendRequest(t.rt, a, { toId: b.id }, "three")),
    "ok",
    "after the cooldown, asking again is fine",
  );
  assert.equal((await listRequests(t.kv, b.id)).incoming.length, 1, "one request, replaced");
  await decline(t.rt, b, a.id);
  assert.equal(await countIncoming(t.kv, b.id), 0);
  assert.equal((await listRequests(t.kv, a.id)).outgoing.length, 1, "the asker is not told");
  clock += REQUEST_COOLDOWN_MS + 1;
  assert.deepEqual(
    await sendRequest(t.rt, a, { toId: b.id }, "again"),
    { status: "sent" },
    "looks sent…",
  );
  assert.equal(await countIncoming(t.kv, b.id), 0, "…but does not arrive");
  clock += DECLINE_COOLDOWN_MS;
  await sendRequest(t.rt, a, { toId: b.id }, "a day later");
  assert.equal(await countIncoming(t.kv, b.id), 1);
  assert.equal(await code(decline(t.rt, b, "nobody")), "404 request_not_found");
  assert.equal(await code(accept(t.rt, b, "nobody")), "404 user_not_found");
});

Deno.test("by e-mail the answer is the same for any address, and never a cooldown", async () => {
  await using t = await setup();
  const [a, b] = [await t.user("A"), await t.user("B")];
  const inactive = await t.user("C", false);
  for (
    const email of [b.email, b.email.toUpperCase(), "nobody@example.com", inactive.email, a.email]
  ) {
    assert.deepEqual(await sendRequest(t.rt, a, { email }, "hi"), { status: "sent" }, email);
  }
  assert.equal(await countIncoming(t.kv, b.id), 1);
  assert.equal(await countIncoming(t.kv, inactive.id), 0);
  await accept(t.rt, b, a.id);
  assert.deepEqual(
    await sendRequest(t.rt, a, { email: b.email }, "again"),
    { status: "sent" },
    "a friend's address too",
  );
});

Deno.test("blocking is silent: requests and the block's effects", async () => {
  await using t = await setup();
  const [a, b, c] = [await t.user("A"), await t.user("B"), await t.user("C")];
  await sendRequest(t.rt, a, { toId: b.id }, "before");
  await block(t.rt, b, a.id);
  assert.equal(await countIncoming(t.kv, b.id), 0, "blocking drops their waiting request");
  clock += REQUEST_COOLDOWN_MS + 1;
  assert.deepEqual(await sendRequest(t.rt, a, { toId: b.id }, "after"), { status: "sent" });
  assert.equal(await countIncoming(t.kv, b.id), 0, "a blocked user's request never arrives");
  assert.deepEqual((await friendsSnapshot(t.kv, b.id)).blocked, [a.id]);
  assert.equal(await code(block(t.rt, b, b.id)), "400 block_self");
  assert.equal(await code(block(t.rt, b, "nope")), "404 user_not_found");
  await unblock(t.rt, b, a.id);
  clock += REQUEST_COOLDOWN_MS + 1;
  await sendRequest(t.rt, a, { toId: b.id }, "unblocked");
  assert.equal(await countIncoming(t.kv, b.id), 1);
  assert.equal(
    await code(sendRequest(t.rt, c, { toId: "x".repeat(5000) }, "")),
    "404 user_not_found",
    "a huge id is a clean 404",
  );
});

Deno.test("remarks are private, checked, and used for the index letter and search", async () => {
  await using t = await setup();
  const [a, b] = [await t.user("Alice"), await t.user("Bob")];
  await sendRequest(t.rt, a, { toId: b.id }, "");
  await accept(t.rt, b, a.id);
  const v = await setRemark(t.rt, a, b.id, "  张老板 ");
  assert.deepEqual([v.remark, v.initial], ["张老板", "Z"]);
  assert.equal((await listFriends(t.kv, b.id))[0].remark, "", "only the one who set it sees it");
  assert.equal(await code(setRemark(t.rt, a, b.id, "x".repeat(33))), "400 field_long");
  assert.equal(await code(setRemark(t.rt, a, b.id, "a\u0000b")), "400 bad_input");
  assert.equal(await code(setRemark(t.rt, a, a.id, "me")), "404 not_friends");
  const found = await searchPeople(t.kv, a, "张");
  assert.deepEqual(found.map((r) => [r.user.id, r.remark, r.relation]), [[
    b.id,
    "张老板",
    "friend",
  ]]);
  assert.deepEqual(await searchPeople(t.kv, b, "张"), [], "nobody else's remark is searchable");
  assert.equal((await setRemark(t.rt, a, b.id, "")).initial, "B", "cleared: the nickname again");
});

Deno.test("deleting a friend ends it both ways at once; the DM stays; friending again works", async () => {
  await using t = await setup();
  const [a, b] = [await t.user("A"), await t.user("B")];
  await sendRequest(t.rt, a, { toId: b.id }, "");
  const first = await accept(t.rt, b, a.id);
  await removeFriend(t.rt, a, b.id);
  assert.equal(await getFriend(t.kv, a.id, b.id), null);
  assert.equal(await getFriend(t.kv, b.id, a.id), null);
  assert.ok(
    (await listUserConvs(t.kv, b.id)).some((e) => e.convId === first.dm),
    "the DM stays in the list",
  );
  assert.equal(await code(removeFriend(t.rt, a, b.id)), "404 not_friends");
  assert.equal(await code(removeFriend(t.rt, b, a.id)), "404 not_friends");
  // At once, by either side: the cooldown of the first request ended with the friendship.
  await sendRequest(t.rt, a, { toId: b.id }, "again?");
  const again = await accept(t.rt, b, a.id);
  assert.equal(again.dm, first.dm, "the same DM opens again");
});

Deno.test("searchPeople(): exact username, nickname prefix, never e-mail, never oneself", async () => {
  await using t = await setup();
  const me = await t.user("Sam");
  const [x, y] = [await t.user("Samantha"), await t.user("Zed")];
  await t.user("Samuel", false);
  const names = async (q: string) =>
    (await searchPeople(t.kv, me, q)).map((r) => r.user.nickname).sort();
  assert.deepEqual(
    await names("sam"),
    ["Samantha"],
    "prefix, case-insensitive; not me, not inactive",
  );
  assert.deepEqual(await names(y.username), ["Zed"]);
  assert.deepEqual(await names(y.username.toUpperCase()), ["Zed"]);
  assert.deepEqual(await names(y.email), [], "an e-mail finds nobody");
  assert.deepEqual(await names("@"), []);
  assert.deepEqual(await names("x".repeat(65)), []);
  assert.deepEqual(await names("   "), []);
  await sendRequest(t.rt, me, { toId: x.id }, "");
  assert.equal((await searchPeople(t.kv, me, "Samantha"))[0].relation, "pending");
  const r = (await searchPeople(t.kv, me, "Zed"))[0];
  assert.equal(r.relation, "none");
  assert.equal("email" in r.user, false, "never an e-mail address");
  assert.ok(!(await t.kv.get(keys.friendReq(me.id, x.id))).value);
});

Deno.test("the client reducer: friend frames replayed onto an old state equal a fresh load; remarks show", async () => {
  const { emptyState, reduce } = await import("../client/state.ts");
  const { convTitle, displayName } = await import("../../islands/chat/format.ts");
  const card = (id: string) => ({ id, username: id, nickname: `Nick ${id}`, avatarUrl: null });
  const fv = (id: string, remark = "") => ({
    user: card(id),
    remark,
    since: 1,
    dm: `dm${id}`,
    initial: "N",
  });
  const rq = (id: string, at: number) => ({ user: card(id), note: `note ${id}`, at });
  const old = reduce(emptyState(), {
    type: "local_friends",
    friends: [fv("b")],
    incoming: [rq("c", 1)],
    outgoing: [rq("d", 2)],
    blocked: [],
  });
  const replayed = [
    { type: "friend_request", request: rq("e", 3) },
    { type: "friend", friend: fv("c") },
    { type: "friend_removed", user: "b" },
    { type: "friend", friend: fv("d", "Dee") },
    { type: "blocked", user: "e", blocked: true },
    { type: "friend_request", request: rq("f", 4) },
    { type: "friend_request_gone", user: "f" },
    { type: "friend", friend: fv("c") },
  ] as const;
  const live = replayed.reduce((s, a) => reduce(s, a), old);
  const fresh = reduce(emptyState(), {
    type: "local_friends",
    friends: [fv("c"), fv("d", "Dee")],
    incoming: [],
    outgoing: [],
    blocked: ["e"],
  });
  assert.deepEqual(
    [live.friends, live.requests, live.outgoing, live.blocked],
    [fresh.friends, fresh.requests, fresh.outgoing, fresh.blocked],
  );
  assert.equal(displayName(live, "d", "en"), "Dee", "a remark replaces the nickname");
  assert.equal(displayName(live, "c", "en"), "Nick c");
  const conv = {
    summary: {
      id: "x",
      kind: "dm" as const,
      title: "",
      peer: card("d"),
      lastSeq: 0,
      lastAt: 0,
      last: null,
      readSeq: 0,
    },
    messages: [],
    hasMore: false,
    loaded: true,
    pending: [],
    reads: {},
    typing: {},
  };
  assert.equal(convTitle(conv, "en", live), "Dee");
  assert.equal(convTitle(conv, "en"), "Nick d");
});
