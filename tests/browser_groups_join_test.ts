/**
 * Groups in real browsers, the other ways in and names: a stranger finds a public group by name
 * and joins; another asks to join a private group from its page and an admin approves the live
 * request; a member's name in the group shows to others, while a friend's remark wins.
 */
import assert from "node:assert/strict";
import { friendsDm, signUp } from "./helpers.ts";
import { DESKTOP, PHONE, withBrowser } from "./browser.ts";
import { as, member, opener, ready, shot } from "./browser_groups.ts";

Deno.test("groups in the UI: find a public group and join, ask to join a private one, names in a group", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const open = opener(problems);
    const [A, B, E, F] = [
      await signUp(server),
      await signUp(server),
      await signUp(server),
      await signUp(server),
    ];
    await friendsDm(server, A.userId, B.userId);
    await A.client.json(`/api/friends/${B.userId}/remark`, {
      method: "PUT",
      json: { remark: "Bobby" },
    });
    const made = await A.client.post("/api/groups", { title: "Book club", members: [B.userId] });
    const id = (made.body as { group: { id: string } }).group.id;

    // A makes it public on the group page; E finds it by name and joins at once.
    const a = await open(await as(browser, server, A, DESKTOP, "en"), server.url(`/g/${id}`));
    assert.equal(
      await a.textContent(`${member(B.userId)} [data-testid="member-name"]`),
      "Bobby",
      "the remark replaces the nickname",
    );
    await a.check('[data-testid="setting-public"]');
    // The switch flips at once and stays disabled until the server has saved it.
    await a.waitForSelector('[data-testid="setting-public"]:checked:enabled');
    const e = await open(await as(browser, server, E, PHONE, "en"), server.url("/"));
    await e.click('[data-testid="list-plus"]');
    await e.click('[data-testid="find-groups"]');
    await e.waitForURL("**/groups/find");
    await ready(e);
    await e.fill('[data-testid="group-q"]', "book");
    await e.press('[data-testid="group-q"]', "Enter");
    await e.click(`[data-testid="group-result"][data-group="${id}"] button`);
    await e.waitForURL(/\/\?c=/);
    await ready(e);
    await a.waitForSelector(member(E.userId));

    // Private again: F asks to join from the group's page; A approves the live request.
    await a.uncheck('[data-testid="setting-public"]');
    await a.waitForSelector('[data-testid="setting-public"]:not(:checked):enabled');
    const f = await open(await as(browser, server, F, PHONE, "en"), server.url(`/g/${id}`));
    await f.waitForSelector('[data-testid="group-private"]');
    await f.fill("#join-note", "Friend of Bob");
    await f.click('[data-testid="request-join"]');
    await f.waitForSelector('[data-testid="request-sent"]');
    await a.waitForSelector(
      `[data-testid="request"][data-user="${F.userId}"] >> text=Friend of Bob`,
    );
    await a.click(`[data-testid="request"][data-user="${F.userId}"] [data-testid="approve"]`);
    await a.waitForSelector(member(F.userId));
    await f.waitForSelector('[data-testid="group-page"][data-role="member"]');

    // B picks a name for this group: F sees it on the member list and over B's messages; A, who
    // has a remark for B, keeps seeing the remark.
    const b = await open(await as(browser, server, B, PHONE, "en"), server.url(`/g/${id}`));
    await b.fill('[data-testid="edit-myname"]', "Bookworm");
    await b.click('[data-testid="edit-myname-save"]');
    await f.waitForSelector(`${member(B.userId)} [data-testid="member-name"] >> text=Bookworm`);
    assert.equal(await a.textContent(`${member(B.userId)} [data-testid="member-name"]`), "Bobby");
    await b.click('[data-testid="open-chat"]');
    await b.waitForURL(/\/\?c=/);
    await ready(b);
    await b.waitForSelector('[data-connection="online"]');
    await b.fill('[data-testid="composer"]', "Chapter 3?");
    await b.click('[data-testid="send"]');
    for (const [p, name] of [[f, "Bookworm"], [a, "Bobby"]] as const) {
      await p.click('[data-testid="open-chat"]');
      await p.waitForURL(/\/\?c=/);
      await ready(p);
      await p.waitForSelector(`.msg .sender >> text=${name}`);
    }
    await shot(a, "en-names");
  });
});
