/**
 * Friends and groups through the UI in each engine (Chromium, Firefox, WebKit), one person on a
 * phone and one on a desktop:
 *
 * 1. Alice (phone, English) finds Bob by his username on New friends and asks with a note; Bob
 *    (desktop, 中文) sees the request arrive live, accepts it on New friends; both see each other in
 *    contacts; Alice gives Bob a remark (备注) that replaces his name in her contacts and chat list;
 *    they exchange a message in their DM, each seeing the other's at once.
 * 2. Alice (desktop, English), already Bob's friend, makes a group with him on the New group page;
 *    it appears in Bob's (phone, 中文) chat list without a reload; Bob writes in it and Alice sees
 *    it under his name; the group page lists both, with their roles.
 */
import assert from "node:assert/strict";
import { friendsDm, newUserInput, signUp } from "./helpers.ts";
import { DESKTOP, eachEngine, PHONE, type Tab } from "./engines.ts";
import { t as tr } from "../lib/i18n/i18n.ts";

type Person = Awaited<ReturnType<typeof signUp>>;

const contact = (id: string) => `[data-testid="contact"][data-user="${id}"]`;
const result = (id: string) => `[data-testid="result"][data-user="${id}"]`;
const inList = (id: string) => `[data-testid="conv-list"] a.conv-item[data-conv="${id}"]`;
const member = (id: string) => `[data-testid="member"][data-user="${id}"]`;
const theirs = '.conv-view [data-testid="msg"]:not(.mine)';
const mine = '.conv-view [data-testid="msg"].mine';

/** Both people's pages are shown (not a background tab the browser throttles). */
async function bothShown(...tabs: Tab[]): Promise<void> {
  for (const tab of tabs) {
    assert.equal(
      await tab.eval(() => document.visibilityState),
      "visible",
      `${tab.engine} ${tab.size.width}px: the page is shown`,
    );
  }
}

/** The chat page is up and its socket connected. */
async function online(tab: Tab): Promise<void> {
  await tab.waitFor('[data-testid="chat"][data-connection="online"]', { state: "attached" });
  await tab.hydrated();
}

/** Waits for the page at a path (and query) matching `re` after a click, then for its islands. */
async function arrived(tab: Tab, re: RegExp): Promise<string> {
  const at = await tab.until(
    (src: string) => {
      const here = location.pathname + location.search;
      return new RegExp(src).test(here) && document.readyState !== "loading" ? here : "";
    },
    [re.source],
    { what: `a page at ${re}` },
  );
  await tab.hydrated();
  return at;
}

/** The text content of the first match, visible or not (a phone hides the list behind a chat). */
function textOf(tab: Tab, selector: string): Promise<string | null> {
  return tab.eval((sel: string) => document.querySelector(sel)?.textContent ?? null, selector);
}

/** Marks the page now shown, to tell later that what changed on it came without a reload. */
async function mark(tab: Tab): Promise<void> {
  await tab.eval(() => void ((window as unknown as { __kept: number }).__kept = 1));
}
async function notReloaded(tab: Tab): Promise<void> {
  const kept = await tab.eval(() => (window as unknown as { __kept?: number }).__kept ?? 0);
  assert.equal(kept, 1, `${tab.engine} ${tab.size.width}px: the page was not reloaded`);
}

/** The page does not scroll sideways. */
async function fits(tab: Tab): Promise<void> {
  const over = await tab.eval(() =>
    document.documentElement.scrollWidth - document.documentElement.clientWidth
  );
  assert.ok(over <= 0, `${tab.engine} ${tab.size.width}px: scrolls sideways by ${over}px`);
}

/**
 * Types and sends one message in the open conversation. (The texts keep to the BMP: WebKitGTK's
 * WebDriver drops characters beyond it, like 📱, when it types them.)
 */
async function send(tab: Tab, text: string): Promise<void> {
  await tab.fill('[data-testid="composer"]', text);
  await tab.click('[data-testid="send"]');
  await tab.waitForText(text, `${mine} .text`);
}

eachEngine(
  "friends: find by username, request with a note, accept, remark, DM (phone ↔ desktop)",
  async (t) => {
    const [alice, bob]: Person[] = await Promise.all([
      signUp(t.server, { ...newUserInput("alice"), nickname: "Alice Liddell" }),
      signUp(t.server, { ...newUserInput("bob"), nickname: "王小波" }),
    ]);

    const a = await t.tab({ size: PHONE, locale: "en", cookies: alice.client.cookies });
    const b = await t.tab({ size: DESKTOP, locale: "zh-CN", cookies: bob.client.cookies });
    await b.goto("/");
    await online(b);
    assert.equal(
      await b.eval(() => document.querySelector<HTMLElement>('[data-testid="nav-badge"]')!.hidden),
      true,
      "no request yet",
    );
    await mark(b);

    // Alice finds Bob by his exact username and asks, with her own note.
    await a.goto("/contacts/new");
    await bothShown(a, b);
    await a.fill('[data-testid="find-q"]', bob.input.username);
    await a.click('[data-testid="find-go"]');
    await a.waitFor(`${result(bob.userId)}[data-relation="none"]`);
    assert.equal(await a.count('[data-testid="result"]'), 1, "one person has that username");
    assert.equal(await a.text(`${result(bob.userId)} .contact-name`), "王小波");
    await a.click(`${result(bob.userId)} [data-testid="add"]`);
    await a.fill('[data-testid="note"]', "Hi Bob, it's Alice from the book club");
    await a.click('[data-testid="send-request"]');
    await a.waitFor(`${result(bob.userId)}[data-relation="pending"]`);
    // It is listed at once among the requests she sent, with its note.
    await a.waitForText(
      "Hi Bob, it's Alice from the book club",
      `[data-testid="outgoing"] [data-user="${bob.userId}"] .note`,
    );
    await fits(a);

    // Bob's header badge says 1 at once, on the chat screen; New friends shows who and the note.
    await b.waitFor('[data-testid="nav-badge"]:not([hidden])');
    assert.equal((await b.text('[data-testid="nav-badge"]')).trim(), "1");
    await notReloaded(b);
    await b.click('a[href="/contacts"]');
    await arrived(b, /^\/contacts$/);
    assert.equal((await b.text('[data-testid="requests-badge"]')).trim(), "1");
    await b.click('[data-testid="new-friends"]');
    await arrived(b, /^\/contacts\/new$/);
    const req = `[data-testid="request"][data-user="${alice.userId}"]`;
    await b.waitFor(req);
    assert.equal(await b.text(`${req} .contact-name`), "Alice Liddell");
    assert.equal(
      await b.text(`${req} [data-testid="request-note"]`),
      "Hi Bob, it's Alice from the book club",
    );
    await b.click(`${req} [data-testid="accept"]`);
    await b.waitFor(`${req} [data-testid="send-message"]`);
    await b.waitFor('[data-testid="nav-badge"][hidden]', { state: "attached" });
    await fits(b);

    // Alice's search result turns into "friend" live; each is in the other's contacts.
    await a.waitFor(`${result(bob.userId)}[data-relation="friend"]`);
    await a.goto("/contacts");
    await a.waitFor(contact(bob.userId));
    assert.equal(await a.text(`${contact(bob.userId)} .contact-name`), "王小波");
    // The server files 王 under W (its pinyin initial).
    await a.waitFor(`[data-letter="W"] ${contact(bob.userId)}`);
    await b.click('a[href="/contacts"]');
    await arrived(b, /^\/contacts$/);
    await b.waitFor(`[data-letter="A"] ${contact(alice.userId)}`);
    assert.equal(await b.text(`${contact(alice.userId)} .contact-name`), "Alice Liddell");
    assert.equal(await b.count('[data-testid="requests-badge"]'), 0, "nothing waits any more");
    assert.equal(
      await b.text('[data-testid="friend-count"]'),
      tr("zh-CN", "contacts.count", { n: 1 }),
    );

    // Alice sets a remark (备注) for Bob on his card; it replaces his name in her contacts.
    await a.click(contact(bob.userId));
    await arrived(a, /^\/u\//);
    await a.waitFor('[data-testid="friend-actions"][data-relation="friend"]');
    await a.fill('[data-testid="remark"]', "Bob 老王");
    await a.click('[data-testid="save-remark"]');
    await a.waitForText(tr("en", "friends.remarkSaved"), '[data-testid="friend-status"]');
    await a.until(
      () => document.querySelector('[data-testid="profile-name"]')?.textContent === "Bob 老王",
      [],
      { what: "the remark as the card's name" },
    );
    await a.goto("/contacts");
    await a.waitForText("Bob 老王", `${contact(bob.userId)} .contact-name`);
    assert.equal(await a.text(`${contact(bob.userId)} .contact-sub`), "王小波");
    await a.fill('[data-testid="contacts-search"]', "老王");
    await a.waitFor(contact(bob.userId));
    await a.fill('[data-testid="contacts-search"]', "nobody-like-this");
    await a.waitFor('[data-testid="no-match"]');

    // Bob opens the DM from Alice's card first, so her message must arrive live.
    await b.click(contact(alice.userId));
    await arrived(b, /^\/u\//);
    await b.waitFor('[data-testid="friend-actions"][data-relation="friend"]');
    await b.click('[data-testid="send-message"]');
    const bAt = await arrived(b, /^\/\?c=/);
    const dm = new URLSearchParams(bAt.slice(1)).get("c")!;
    await online(b);
    assert.equal(await b.text('[data-testid="conv-title"]'), "Alice Liddell");

    // Alice opens it from Bob's card: the remark is the chat's title and its name in her list.
    await a.goto(`/u/${encodeURIComponent(bob.input.username)}`);
    await a.click('[data-testid="send-message"]');
    await arrived(a, new RegExp(`^/\\?c=${dm}$`));
    await online(a);
    assert.equal(await a.text('[data-testid="conv-title"]'), "Bob 老王");
    assert.equal(await textOf(a, `${inList(dm)} .conv-title`), "Bob 老王");
    // Before the first message the row invites a hello, dated when they became friends.
    assert.equal(await textOf(a, `${inList(dm)} .conv-preview`), tr("en", "chat.sayHi"));
    assert.match((await textOf(a, `${inList(dm)} .conv-time`)) ?? "", /^\d{1,2}:\d\d [AP]M$/);
    await send(a, "Hello from the phone ☎");
    await b.waitForText("Hello from the phone ☎", `${theirs} .text`);
    await send(b, "桌面回复：收到");
    await a.waitForText("桌面回复：收到", `${theirs} .text`);

    // Back on the phone's list: Bob's entry, under the remark, previews his answer.
    await a.click('[data-testid="back"]');
    await a.waitFor(`${inList(dm)} .conv-preview`);
    await a.waitForText("Bob 老王", `${inList(dm)} .conv-title`);
    await a.waitForText("桌面回复：收到", `${inList(dm)} .conv-preview`);
    await fits(a);
  },
);

eachEngine(
  "groups: create with a friend on New group, it appears live, a message, members (desktop ↔ phone)",
  async (t) => {
    const [alice, bob]: Person[] = await Promise.all([
      signUp(t.server, { ...newUserInput("alice"), nickname: "Alice Chen" }),
      signUp(t.server, { ...newUserInput("bob"), nickname: "鲍勃" }),
    ]);
    await friendsDm(t.server, alice.userId, bob.userId);

    const a = await t.tab({ size: DESKTOP, locale: "en", cookies: alice.client.cookies });
    const b = await t.tab({ size: PHONE, locale: "zh-CN", cookies: bob.client.cookies });
    await b.goto("/");
    await online(b);
    const before = await b.count('[data-testid="conv-list"] a.conv-item[data-kind="group"]');
    assert.equal(before, 0, "Bob is in no group yet");
    await mark(b);

    // Alice: New group from the chat list, a name, Bob ticked among her friends, Create.
    await a.goto("/");
    await online(a);
    await bothShown(a, b);
    await a.click('[data-testid="list-plus"]');
    await a.click('[data-testid="new-group"]');
    await arrived(a, /^\/g\/new$/);
    await a.fill('[data-testid="group-title"]', "Hiking 周末");
    const pick = `[data-testid="pick-friend"][data-user="${bob.userId}"]`;
    await a.waitFor(pick);
    assert.equal(await a.count('[data-testid="pick-friend"]'), 1, "Alice has one friend to pick");
    await a.click(`${pick} input[type="checkbox"]`);
    await a.until(
      (sel: string) => document.querySelector<HTMLInputElement>(`${sel} input`)?.checked === true,
      [pick],
      { what: "Bob ticked" },
    );
    assert.equal(await a.text(".picker-count"), tr("en", "group.selected", { n: 1 }));
    await a.click('[data-testid="group-create"]');
    const aAt = await arrived(a, /^\/\?c=/);
    const id = new URLSearchParams(aAt.slice(1)).get("c")!;
    await online(a);
    assert.equal(await a.text('[data-testid="conv-title"]'), "Hiking 周末");
    await a.waitForText(tr("en", "chat.members", { n: 2 }), '[data-testid="conv-sub"]');

    // The group shows in Bob's list with no reload; he opens it and writes.
    await b.waitFor(inList(id));
    assert.equal(await textOf(b, `${inList(id)} .conv-title`), "Hiking 周末");
    await notReloaded(b);
    await b.click(inList(id));
    await b.waitFor('[data-testid="chat"][data-open="1"]', { state: "attached" });
    await b.waitForText("Hiking 周末", '[data-testid="conv-title"]');
    await b.waitFor(".conv-view li.system");
    await send(b, "我带水和地图");
    await fits(b);

    // Alice sees it at once, under Bob's name.
    await a.waitForText("我带水和地图", `${theirs} .text`);
    const senders = await a.texts(`${theirs} .sender`);
    assert.ok(senders.some((s) => s.includes("鲍勃")), `Bob's name over his message: ${senders}`);

    // The group page lists both, Alice as the owner, each seeing their own role.
    await a.click('[data-testid="group-info-link"]');
    await arrived(a, new RegExp(`^/g/${id}$`));
    await a.waitFor('[data-testid="group-page"][data-role="owner"]');
    assert.equal(await a.text('[data-testid="group-name"]'), "Hiking 周末");
    assert.equal(await a.count('[data-testid="member"]'), 2);
    await a.waitFor(`${member(alice.userId)}[data-role="owner"]`);
    await a.waitFor(`${member(bob.userId)}[data-role="member"]`);
    assert.match(await a.text(`${member(bob.userId)} [data-testid="member-name"]`), /鲍勃/);
    await fits(a);

    await b.click('[data-testid="group-info-link"]');
    await arrived(b, new RegExp(`^/g/${id}$`));
    await b.waitFor('[data-testid="group-page"][data-role="member"]');
    assert.match(await b.text(".group-card"), new RegExp(tr("zh-CN", "chat.members", { n: 2 })));
    assert.equal(await b.count('[data-testid="member"]'), 2);
    assert.match(await b.text(`${member(alice.userId)} [data-testid="member-name"]`), /Alice Chen/);
    assert.match(await b.text(`${member(bob.userId)} [data-testid="member-name"]`), /鲍勃/);
    assert.equal(await b.count(`${member(alice.userId)} [data-testid="member-menu"]`), 0);
    await fits(b);
  },
);
