/**
 * axe-core in each engine: what a page exposes to assistive tech and how it renders (contrast,
 * sizes, focus) can differ between engines, so the main pages are audited in Firefox and WebKit
 * here: logged out, and logged in with a DM open (its emoji picker, a message's menu), the chat
 * list's "+" menu, at phone size in English and at desktop size in Chinese.
 * tests/browser_a11y_test.ts audits all of these and every other page in Chromium, in both
 * languages at both sizes, light and dark.
 */
import assert from "node:assert/strict";
import { friendsDm, friendsGroup, signUp } from "./helpers.ts";
import { DESKTOP, eachEngine, PHONE, type Size, type Tab } from "./engines.ts";
import { WsClient } from "./ws_client.ts";
import { AXE_SOURCE, axeViolations } from "./axe.ts";

/** axe's violations on the page as it is now, one line each. */
async function audit(tab: Tab, what: string): Promise<string[]> {
  // The library goes in as the body of the function the engine runs: a driver's script is not
  // under the page's CSP, while an eval() inside the page would be.
  if (!await tab.eval(() => typeof (globalThis as { axe?: unknown }).axe !== "undefined")) {
    await tab.evalSource(`${AXE_SOURCE}\n;return typeof axe;`);
  }
  return (await tab.eval(axeViolations)).map((line) => `${tab.engine} ${what}: ${line}`);
}

const LOGGED_OUT = ["/", "/login", "/register", "/forgot"];

async function pass(
  t: Parameters<Parameters<typeof eachEngine>[1]>[0],
  size: Size,
  locale: "en" | "zh-CN",
): Promise<string[]> {
  const found: string[] = [];
  const alice = await signUp(t.server);
  const bob = await signUp(t.server);
  const dm = await friendsDm(t.server, alice.userId, bob.userId);
  const group = await friendsGroup(t.server, alice.userId, "Weekend trip", [bob.userId]);
  const wb = await WsClient.connect(t.server, bob.client);
  try {
    wb.send({ type: "send", conv: dm.id, cid: "b1", text: "Hi Alice! https://example.com" });
    await wb.next("ack");
    wb.send({ type: "send", conv: dm.id, cid: "b2", text: "See you soon" });
    await wb.next("ack");
  } finally {
    wb.close();
  }
  const tag = `${size.width < 600 ? "phone" : "desktop"} ${locale}`;

  const out = await t.tab({ size, locale });
  // First, that axe runs and sees in this engine: a field with no label is found, then removed.
  await out.goto("/login");
  await out.eval(() => {
    const el = document.createElement("input");
    el.id = "unlabelled-probe";
    document.querySelector("main")!.append(el);
  });
  const probe = await audit(out, "probe");
  assert.ok(probe.some((v) => /label/.test(v) && v.includes("#unlabelled-probe")), probe.join());
  for (const path of LOGGED_OUT) {
    await out.goto(path);
    found.push(...await audit(out, `${tag} ${path}`));
  }

  const tab = await t.tab({ size, locale, cookies: alice.client.cookies });
  await tab.goto(`/?c=${dm.id}`);
  await tab.waitFor('[data-testid="chat"][data-connection="online"]', { state: "attached" });
  await tab.waitFor('.conv-view [data-testid="msg"]');
  found.push(...await audit(tab, `${tag} chat DM`));
  await tab.click('[data-testid="emoji-toggle"]');
  await tab.waitFor('[data-testid="emoji-grid"] [data-testid="emoji"]');
  found.push(...await audit(tab, `${tag} emoji picker`));
  // A message's menu (with Copy), and the chat list's "+" menu.
  await tab.click('[data-testid="emoji-toggle"]');
  await tab.waitFor('[data-testid="emoji-picker"]', { state: "detached" });
  // (On the message without a link: a click on a link opens it instead.)
  await tab.clickText('.conv-view [data-testid="msg"]:not(.mine) .bubble .text', "See you soon");
  await tab.waitFor('[data-testid="actions"] [data-testid="copy"]');
  found.push(...await audit(tab, `${tag} message menu`));
  await tab.goto("/");
  await tab.click('[data-testid="list-plus"]');
  await tab.waitFor('[data-testid="plus-menu"]');
  found.push(...await audit(tab, `${tag} + menu`));
  // (The phone's tab bar is on all of these but the group's page.)
  for (const path of ["/contacts", "/me", "/join", "/settings", `/g/${group.id}`]) {
    await tab.goto(path);
    if (path === "/join") await tab.waitFor("#invite-link");
    found.push(...await audit(tab, `${tag} ${path}`));
  }
  return found;
}

// Chromium sees all of this and more in tests/browser_a11y_test.ts.
eachEngine("axe finds nothing on the main pages (phone English, desktop 中文)", async (t) => {
  const found = [...await pass(t, PHONE, "en"), ...await pass(t, DESKTOP, "zh-CN")];
  assert.deepEqual(found, [], `axe violations:\n${found.join("\n")}`);
}, { engines: ["firefox", "webkit"] });
