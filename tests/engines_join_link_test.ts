/**
 * "Join by link", in each engine (Chromium, Firefox, WebKit): from the chat list's "+" to /join,
 * where a pasted invite link shows its group's preview as an opened link does, and joining opens
 * the group's chat; what holds no token is refused in place, and a dead token says so.
 */
import assert from "node:assert/strict";
import { type Client, friendsGroup, signUp, type TestServer } from "./helpers.ts";
import { DESKTOP, eachEngine, PHONE, type Tab } from "./engines.ts";
import { tokenFromInput } from "../islands/GroupJoin.tsx";

const ONLINE = '[data-testid="chat"][data-connection="online"]';
const FIELD = '[data-testid="invite-link"]';
const OPEN = '[data-testid="invite-link-open"]';
const PREVIEW = '[data-testid="invite-group"]';

/** Bob's group (with a friend in it) and a live invite link to it, as the group page makes one. */
async function bobsInvite(server: TestServer, title: string): Promise<{ id: string; url: string }> {
  const bob = await signUp(server);
  const carol = await signUp(server);
  const g = await friendsGroup(server, bob.userId, title, [carol.userId]);
  return { id: g.id, url: await inviteUrl(bob.client, g.id) };
}

async function inviteUrl(owner: Client, groupId: string): Promise<string> {
  const made = await owner.post(`/api/groups/${groupId}/invites`, {});
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return (made.body as { url: string }).url;
}

/** The field's accessible name, from its <label> (what a screen reader announces). */
async function labelOf(tab: Tab, selector: string): Promise<string> {
  // The island shows the form once it has read the address's fragment (after hydrating).
  await tab.waitFor(selector);
  return await tab.eval((s: string) => {
    const el = document.querySelector<HTMLInputElement>(s)!;
    return [...el.labels ?? []].map((l) => l.textContent?.trim()).join(" ");
  }, selector);
}

Deno.test("tokenFromInput() takes a whole link, a path or a bare token, trimmed", () => {
  const origin = "https://chat.example";
  assert.equal(tokenFromInput("https://x.example/join#token=abc", origin), "abc");
  assert.equal(tokenFromInput("  /join#token=abc\n", origin), "abc");
  assert.equal(tokenFromInput("join#token=abc&x=1", origin), "abc");
  assert.equal(tokenFromInput(" abc_DEF-123 ", origin), "abc_DEF-123");
  assert.equal(tokenFromInput("hello world/x", origin), null);
  assert.equal(tokenFromInput("https://x.example/join", origin), null);
  assert.equal(tokenFromInput("https://x.example/join#token=", origin), null);
  assert.equal(tokenFromInput("http://[#token=abc", origin), null, "not a URL");
  assert.equal(tokenFromInput("   ", origin), null);
});

eachEngine(
  "+ → Join by link: a pasted invite link previews the group, and joining opens it",
  async (t) => {
    const group = await bobsInvite(t.server, "Lake walkers");
    const alice = await signUp(t.server);
    const a = await t.tab({ size: DESKTOP, locale: "en", cookies: alice.client.cookies });
    await a.goto("/");
    await a.waitFor(ONLINE, { state: "attached" });
    await a.click('[data-testid="list-plus"]');
    await a.waitForText("Join by link", '[data-testid="plus-menu"] [data-testid="join-link"]');
    await a.click('[data-testid="plus-menu"] [data-testid="join-link"]');
    await a.until(() => location.pathname === "/join" && !location.hash);
    await a.hydrated();

    // No token yet: the form, its field labelled, and no error.
    assert.equal(await labelOf(a, FIELD), "Invite link");
    assert.equal(await a.count('[role="alert"]'), 0);
    await a.fill(FIELD, `  ${group.url}  `);
    await a.click(OPEN);

    // The same preview as an opened link, and the token is in the address as if it had been.
    await a.waitFor(`${PREVIEW}[data-group="${group.id}"]`);
    await a.waitForText("Lake walkers", PREVIEW);
    const token = new URL(group.url).hash;
    assert.equal(await a.eval(() => location.pathname + location.hash), `/join${token}`);
    await a.waitFor('[data-testid="join-link-form"]', { state: "detached" });
    await a.click('[data-testid="join-group"]');
    await a.until(
      (id: string) =>
        location.pathname === "/" && new URLSearchParams(location.search).get("c") === id,
      [group.id],
      { what: "the chat with the group" },
    );
    await a.waitFor(`.conv-view[data-conv="${group.id}"] [data-testid="composer"]`);
  },
);

eachEngine(
  "Join by link refuses what holds no token in place, and shows a dead token's error",
  async (t) => {
    const group = await bobsInvite(t.server, "湖边散步");
    const alice = await signUp(t.server);
    const a = await t.tab({ size: PHONE, locale: "zh-CN", cookies: alice.client.cookies });
    await a.goto("/join");
    assert.equal(await labelOf(a, FIELD), "邀请链接");

    // No token in it: an alert by the field, and nothing else changes.
    await a.fill(FIELD, "hello world/x");
    await a.press(FIELD, "Enter");
    await a.waitForText("这个链接里没有邀请信息", '[role="alert"]');
    assert.deepEqual(
      await a.eval((s: string) => ({
        at: location.pathname + location.hash,
        invalid: document.querySelector(s)!.getAttribute("aria-invalid"),
        kept: document.querySelector<HTMLInputElement>(s)!.value,
      }), FIELD),
      { at: "/join", invalid: "true", kept: "hello world/x" },
    );
    assert.equal(await a.count(PREVIEW), 0);

    // A bare token the server does not know: its own words; the form stays to try again.
    await a.fill(FIELD, "not-a-live-token");
    await a.click(OPEN);
    await a.waitForText("邀请链接无效", '[role="alert"][data-error="invite_invalid"]');
    assert.equal(await a.eval(() => location.hash), "#token=not-a-live-token");
    assert.equal(await a.count('[data-testid="invite-link-err"]'), 0);

    // The path form of a live link previews; Back returns to the dead one and its error.
    await a.fill(FIELD, new URL(group.url).pathname + new URL(group.url).hash);
    await a.click(OPEN);
    await a.waitFor(`${PREVIEW}[data-group="${group.id}"]`);
    await a.waitForText("湖边散步", PREVIEW);
    await a.eval(() => history.back());
    await a.waitFor('[role="alert"][data-error="invite_invalid"]');
    await a.waitFor(PREVIEW, { state: "detached" });
    await a.waitFor(FIELD);
  },
  // The preview of a dead token answers 404, which a browser may log.
  { allow: [/status of 404/] },
);
