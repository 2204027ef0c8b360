/**
 * A new user in each engine (Chromium, Firefox, WebKit): sign up, the mail in the dev outbox,
 * activation, log in, and the bot answers; on a phone in Chinese, then on a desktop in English.
 */
import assert from "node:assert/strict";
import { newUserInput } from "./helpers.ts";
import { DESKTOP, eachEngine, PHONE, type Size, type Tab } from "./engines.ts";

async function newUser(tab: Tab, input: ReturnType<typeof newUserInput>): Promise<void> {
  await tab.goto("/register");
  await tab.fill("#register-username", input.username);
  await tab.fill("#register-email", input.email);
  await tab.fill("#register-nickname", input.nickname);
  await tab.fill("#register-password", input.password);
  await tab.click('form[data-form="register"] button[type="submit"]');
  await tab.waitForText(input.email, '[data-testid="sent"]');

  await tab.click('a[href="/dev/outbox"]');
  const link = `[data-testid="outbox-mail"][data-to="${input.email}"] [data-testid="outbox-link"]`;
  await tab.waitFor(link);
  await tab.click(link);
  await tab.waitFor('form[data-form="activate"]');
  await tab.hydrated();
  await tab.click('form[data-form="activate"] button[type="submit"]');
  await tab.until(() => location.pathname === "/login" && location.search.includes("activated=1"));
  await tab.hydrated();

  await tab.fill("#login-login", input.username);
  await tab.fill("#login-password", input.password);
  await tab.click('form[data-form="login"] button[type="submit"]');
  await tab.waitFor('[data-testid="chat"][data-connection="online"]', { state: "attached" });
  await tab.hydrated();
}

async function askBot(tab: Tab, question: string, answer: string): Promise<void> {
  await tab.click('a.conv-item[data-kind="bot"]');
  await tab.waitFor('[data-testid="composer"]');
  await tab.fill('[data-testid="composer"]', question);
  await tab.click('[data-testid="send"]');
  await tab.waitForText(question, '.conv-view [data-testid="msg"].mine .text');
  await tab.waitForText(answer, '.conv-view [data-testid="msg"]:not(.mine) .text');
}

const flow = (size: Size, lang: "en" | "zh-CN") =>
async (t: {
  tab(o: { size: Size; locale?: "en" | "zh-CN" }): Promise<Tab>;
}) => {
  const tab = await t.tab({ size, locale: lang });
  const input = newUserInput();
  await newUser(tab, input);
  assert.equal(await tab.eval(() => document.documentElement.lang), lang);
  // The bot's hello is there, unread, for a new account.
  await tab.waitForText("1", 'a.conv-item[data-kind="bot"] [data-testid="unread"]');
  await askBot(tab, "12 * 7", "84");
  // The page fits the width in this engine too.
  const over = await tab.eval(() =>
    document.documentElement.scrollWidth - document.documentElement.clientWidth
  );
  assert.ok(over <= 0, `scrolls sideways by ${over}px`);
};

eachEngine(
  "sign up → mail → activate → log in → the bot answers (phone, 中文)",
  flow(PHONE, "zh-CN"),
);
eachEngine(
  "sign up → mail → activate → log in → the bot answers (desktop, English)",
  flow(DESKTOP, "en"),
);
