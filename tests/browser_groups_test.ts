/**
 * Groups in real browsers, by four people: A creates a group with two friends (B, C) from the UI,
 * renames it, posts a notice (B sees it at once), makes an invite link that D (a stranger) joins
 * through; A makes B an admin, B removes C (C's screen drops the group at once), A mutes D (D's
 * composer is off, saying why), B leaves, A dissolves. Run once in English with A on a desktop and
 * once in Chinese with A on a phone. SHOTS=/tmp/shots saves screenshots.
 */
import assert from "node:assert/strict";
import { friendsDm, signUp } from "./helpers.ts";
import { DESKTOP, PHONE, withBrowser } from "./browser.ts";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import {
  as,
  inList,
  member,
  memberAction,
  opener,
  type Person,
  pngFile,
  ready,
  shot,
  type Size,
  systemTexts,
} from "./browser_groups.ts";

async function scenario(locale: Locale, aSize: Size) {
  const other = aSize === DESKTOP ? PHONE : DESKTOP;
  const l = locale;
  await withBrowser(async ({ server, browser, problems }) => {
    const open = opener(problems);
    const [A, B, C, D] = [
      await signUp(server),
      await signUp(server),
      await signUp(server),
      await signUp(server),
    ];
    await friendsDm(server, A.userId, B.userId);
    await friendsDm(server, A.userId, C.userId);
    const nick = (p: Person) => p.input.nickname;

    const a = await open(await as(browser, server, A, aSize, l), server.url("/"));
    const b = await open(await as(browser, server, B, other, l), server.url("/"));
    const c = await open(await as(browser, server, C, aSize, l), server.url("/"));
    await b.waitForSelector('[data-connection="online"]');
    await c.waitForSelector('[data-connection="online"]');

    // A creates the group from the chat list: name (shown as text, never HTML), avatar, two friends.
    await a.click('[data-testid="list-plus"]');
    await a.click('[data-testid="new-group"]');
    await a.waitForURL("**/g/new");
    await ready(a);
    await a.fill('[data-testid="group-title"]', "Trip <b>plan</b>");
    await a.setInputFiles('[data-testid="group-avatar-input"]', await pngFile());
    await a.check(`[data-testid="pick-friend"][data-user="${B.userId}"] input`);
    await a.check(`[data-testid="pick-friend"][data-user="${C.userId}"] input`);
    await shot(a, `${l}-new`);
    await a.click('[data-testid="group-create"]');
    await a.waitForURL(/\/\?c=/);
    const id = new URL(a.url()).searchParams.get("c")!;
    await ready(a);
    assert.equal(await a.textContent('[data-testid="conv-title"]'), "Trip <b>plan</b>");
    await a.waitForSelector(`${inList(id)} img.avatar`, { state: "attached" });
    assert.match(
      (await a.textContent('[data-testid="conv-sub"]')) ?? "",
      new RegExp(t(l, "chat.members", { n: 3 })),
    );

    // The group appears in B's and C's lists at once; both open it.
    for (const p of [b, c]) {
      await p.click(`[data-conv="${id}"]`);
      await p.waitForSelector(".conv-view li.system");
    }

    // A renames it and posts a notice on the group page; B sees both live.
    await a.click('[data-testid="group-info-link"]');
    await a.waitForURL(`**/g/${id}`);
    await ready(a);
    await a.waitForSelector('[data-testid="group-page"][data-role="owner"]');
    await a.fill('[data-testid="edit-title"]', "Weekend <i>trip</i>");
    await a.click('[data-testid="edit-title-save"]');
    await b.waitForFunction(() =>
      document.querySelector('[data-testid="conv-title"]')?.textContent === "Weekend <i>trip</i>"
    );
    await a.fill('[data-testid="edit-notice"]', "Bring snacks 🍪 <script>");
    await a.click('[data-testid="edit-notice-save"]');
    await b.waitForSelector('[data-testid="group-notice"] >> text=Bring snacks 🍪 <script>');
    const bSys = await systemTexts(b);
    assert.ok(
      bSys.includes(t(l, "chat.sys.renamed", { name: nick(A), title: "Weekend <i>trip</i>" })),
      bSys.join(" | "),
    );
    assert.ok(bSys.includes(t(l, "chat.sys.notice", { name: nick(A) })), bSys.join(" | "));
    await shot(b, `${l}-notice`);

    // A makes an invite link; D, a stranger, joins through the link page.
    await a.selectOption('[data-testid="invite-hours"]', "24");
    await a.click('[data-testid="invite-create"]');
    const link = new URL(await a.inputValue('[data-testid="invite-url"]'));
    assert.equal(link.pathname, "/join");
    await a.waitForSelector('[data-testid="invite"]');
    const dCtx = await as(browser, server, D, other, l);
    const d = await open(dCtx, server.url(link.pathname + link.hash));
    await d.waitForSelector(`[data-testid="invite-group"][data-group="${id}"]`);
    assert.match(
      (await d.textContent('[data-testid="invite-group"]')) ?? "",
      /Weekend <i>trip<\/i>/,
    );
    await shot(d, `${l}-join`);
    await d.click('[data-testid="join-group"]');
    await d.waitForURL(/\/\?c=/);
    await ready(d);
    await d.waitForSelector('[data-connection="online"]');
    await a.waitForSelector(member(D.userId));

    // A makes B an admin; B removes C, whose screen drops the group at once.
    await memberAction(a, B.userId, "act-admin");
    await a.waitForSelector(`${member(B.userId)}[data-role="admin"]`);
    await b.click('[data-testid="group-info-link"]');
    await b.waitForURL(`**/g/${id}`);
    await ready(b);
    await b.waitForSelector('[data-testid="group-page"][data-role="admin"]');
    await memberAction(b, C.userId, "act-kick");
    await b.click('[data-testid="confirm-ok"]');
    await c.waitForSelector('[data-testid="group-gone"][data-why="kicked"]');
    assert.equal(await c.$(inList(id)) === null, true, "the group left C's list");
    assert.equal(
      await c.getAttribute('[data-testid="chat"]', "data-open"),
      "0",
      "C's open view closed",
    );
    await shot(c, `${l}-kicked`);
    await b.waitForSelector(member(C.userId), { state: "detached" });

    // A mutes D; D is told, and D's message is refused.
    await a.selectOption(`${member(D.userId)} [data-testid="mute-minutes"]`, "10").catch(
      async () => {
        await a.click(`${member(D.userId)} [data-testid="member-menu"]`);
        await a.selectOption(`${member(D.userId)} [data-testid="mute-minutes"]`, "10");
      },
    );
    await a.click(`${member(D.userId)} [data-testid="act-mute"]`);
    await a.waitForSelector(`${member(D.userId)} [data-testid="muted-badge"]`);
    await d.waitForSelector('[data-testid="muted-note"]');
    // D's composer is off while the mute lasts, and says why and until when.
    await d.waitForSelector('[data-testid="composer"]:disabled');
    const why = await d.getAttribute('[data-testid="composer"]', "placeholder");
    assert.ok(
      why?.startsWith(t(l, "group.mutedNote", { time: "" }).trim()),
      `placeholder: ${why}`,
    );
    assert.equal(await d.isDisabled('[data-testid="send"]'), true);
    const dSys = await systemTexts(d);
    for (
      const want of [
        t(l, "chat.sys.joinedLink", { name: nick(D) }),
        t(l, "chat.sys.admin_added", { name: nick(B) }),
        t(l, "chat.sys.kicked", { name: nick(C), by: nick(B) }),
      ]
    ) assert.ok(dSys.includes(want), `"${want}" in ${dSys.join(" | ")}`);
    assert.ok(
      dSys.some((s) =>
        s.startsWith(t(l, "chat.sys.muted", { name: nick(D), by: nick(A), time: "" }).trim())
      ),
      dSys.join(" | "),
    );
    await shot(d, `${l}-muted`);

    // B leaves (the group leaves B's list); A dissolves it (D's open view closes).
    await b.click('[data-testid="leave"]');
    await b.click('[data-testid="confirm-ok"]');
    await b.waitForURL(server.url("/"));
    await ready(b);
    assert.equal(await b.$(inList(id)) === null, true, "the group left B's list");
    await a.waitForSelector(member(B.userId), { state: "detached" });
    await shot(a, `${l}-group-page`);
    await a.click('[data-testid="dissolve"]');
    await a.click('[data-testid="confirm-ok"]');
    await a.waitForURL(server.url("/"));
    await d.waitForSelector('[data-testid="group-gone"][data-why="dissolved"]');
    assert.equal(await d.$(inList(id)) === null, true, "the group left D's list");
    assert.equal(await a.$(inList(id)) === null, true, "the group left A's list");
  });
}

Deno.test("groups in the UI (English, owner on a desktop): create, rename, notice, invite link, roles, kick, mute, leave, dissolve", async () => {
  await scenario("en", DESKTOP);
});

Deno.test("groups in the UI (Chinese, owner on a phone): the same flow", async () => {
  await scenario("zh-CN", PHONE);
});
