/**
 * Accounts in a real browser, as a new user goes through them: sign up, the mail in the dev
 * outbox, activation, log in, profile and avatar, the public profile, the language switch; at
 * phone and desktop size. Every page must hydrate under the CSP without a console error.
 *
 * One Chromium and one server for the whole file. SHOTS=/tmp/shots saves a screenshot of every
 * page (light, and dark for the phone) for a human to look at.
 */
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { Buffer } from "node:buffer";
import sharp from "sharp";
import { Client, newUserInput, type TestServer } from "./helpers.ts";
import { DESKTOP, hydrated, newContext, PHONE, watchConsole, withBrowser } from "./browser.ts";

const SHOTS = Deno.env.get("SHOTS");
if (SHOTS) await Deno.mkdir(SHOTS, { recursive: true });

type Size = typeof PHONE;
const sizeName = (s: Size) => (s === PHONE ? "phone" : "desktop");

/** A browser context that fails fast: a page that works answers in well under 10 s. */
async function context(browser: Browser, size: Size, locale: string): Promise<BrowserContext> {
  const ctx = await newContext(browser, size, locale);
  ctx.setDefaultTimeout(10_000);
  return ctx;
}

/** Checks what every page must do: hydrate, fit the width, and label its form fields. */
async function checkPage(page: Page, size: Size, shot: string): Promise<void> {
  await page.waitForLoadState("load");
  await hydrated(page);
  const overflow = await page.evaluate(() =>
    document.documentElement.scrollWidth - document.documentElement.clientWidth
  );
  assert.ok(overflow <= 0, `${page.url()} scrolls sideways by ${overflow}px at ${size.width}px`);
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLInputElement>("input:not([type=hidden]), select, textarea")]
      .filter((el) => !el.labels?.length && !el.getAttribute("aria-label"))
      .map((el) => el.outerHTML)
  );
  assert.deepEqual(unlabelled, [], `${page.url()} has form fields without a label`);
  if (SHOTS) {
    await page.evaluate(() => scrollTo(0, 0));
    const name = `${SHOTS}/${sizeName(size)}-${shot}`;
    await page.screenshot({ path: `${name}.png`, fullPage: true });
    if (size === PHONE) {
      // Reduced motion: no colour transition caught half-way in the picture.
      await page.emulateMedia({ colorScheme: "dark", reducedMotion: "reduce" });
      await page.screenshot({ path: `${name}-dark.png`, fullPage: true });
      await page.emulateMedia({ colorScheme: "light", reducedMotion: null });
    }
  }
}

/** A 320×240 PNG made on the spot (not square: the server crops it to the middle). */
async function pngBytes(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#ffd54f"/><stop offset="1" stop-color="#ff7043"/>
    </linearGradient></defs>
    <rect width="320" height="240" fill="url(#g)"/>
    <circle cx="160" cy="105" r="45" fill="#fff8e1"/>
    <ellipse cx="160" cy="230" rx="85" ry="70" fill="#fff8e1"/>
  </svg>`;
  return await sharp(Buffer.from(svg)).png().toBuffer();
}

/** The "Me" screen, from its tab (phones). */
async function toMe(page: Page): Promise<void> {
  await page.getByTestId("tab-me").click();
  await page.waitForURL("**/me");
}

/** Settings: from the header on desktops, through "Me" on phones. */
async function toSettings(page: Page, size: Size): Promise<void> {
  if (size === DESKTOP) await page.getByRole("link", { name: "Settings", exact: true }).click();
  else {
    await toMe(page);
    await page.getByTestId("me-settings").click();
  }
  await page.waitForURL("**/settings");
}

/** The other language: the header's switch on desktops, the row on "Me" on phones. */
async function switchLanguage(page: Page, size: Size): Promise<void> {
  if (size === DESKTOP) return await page.getByTestId("lang-switch").click();
  await toMe(page);
  const lang = await page.locator("html").getAttribute("lang");
  await page.getByTestId("me-lang").click();
  await page.waitForFunction((was) => document.documentElement.lang !== was, lang);
}

async function whole(
  browser: Browser,
  server: TestServer,
  size: Size,
): Promise<void> {
  const input = newUserInput(sizeName(size));
  const ctx: BrowserContext = await context(browser, size, "en-US");
  const page = await ctx.newPage();
  const problems = watchConsole(page);
  try {
    // The start page, then sign up.
    await page.goto(server.url("/"));
    await checkPage(page, size, "01-home");
    assert.equal(await page.locator("html").getAttribute("lang"), "en");
    await page.locator("main").getByRole("link", { name: "Sign up" }).click();
    await page.waitForURL("**/register");
    await checkPage(page, size, "02-register");
    await page.getByLabel("Username", { exact: true }).fill(input.username);
    await page.getByLabel("E-mail", { exact: true }).fill(input.email);
    await page.getByLabel("Nickname", { exact: true }).fill(input.nickname);
    await page.getByLabel("Password", { exact: true }).fill(input.password);
    await page.getByRole("button", { name: "Sign up" }).click();

    // "Check your e-mail", then the mail in the dev outbox.
    await page.waitForURL("**/register/sent?**");
    await page.getByRole("heading", { name: "Check your e-mail" }).waitFor();
    assert.match(
      await page.getByTestId("sent").innerText(),
      new RegExp(input.email.replace(".", "\\.")),
    );
    await checkPage(page, size, "03-sent");
    await page.getByRole("link", { name: /dev outbox/ }).click();
    await page.waitForURL("**/dev/outbox");
    await checkPage(page, size, "04-outbox");
    const mail = page.locator(`[data-testid=outbox-mail][data-to="${input.email}"]`);
    await mail.getByText("Activate your HappyChat account", { exact: true }).waitFor();
    await mail.getByTestId("outbox-link").first().click();

    // Activate, and land on the login page with a note.
    await page.waitForURL("**/activate#token=*");
    await page.getByRole("heading", { name: "Activate your account" }).waitFor();
    await checkPage(page, size, "05-activate");
    await page.getByRole("button", { name: "Activate" }).click();
    await page.waitForURL("**/login?activated=1");
    await page.getByRole("status").getByText("Your account is active").waitFor();
    await checkPage(page, size, "06-login-activated");

    // Log in.
    await page.getByLabel("Username or e-mail").fill(input.username);
    await page.getByLabel("Password", { exact: true }).fill(input.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(server.url("/"));
    // The bot has said hello: one unread message waits in its conversation.
    assert.equal(await page.locator('[data-kind="bot"] [data-testid="unread"]').innerText(), "1");
    await checkPage(page, size, "07-home");
    if (size === DESKTOP) {
      // The header shows who is logged in: avatar and nickname.
      const me = page.getByTestId("me");
      assert.equal(await me.getAttribute("title"), input.nickname);
      await page.locator("header").getByRole("link", { name: input.nickname }).waitFor();
      assert.equal(await me.locator(".avatar").innerText(), input.nickname[0].toUpperCase());
      assert.equal(await me.locator(".me-name").innerText(), input.nickname);
    } else {
      // Phones have no top bar: the tab bar counts the bot's hello on 消息, and "Me" shows who
      // is logged in.
      assert.equal(await page.getByTestId("tab-unread").innerText(), "1");
      await toMe(page);
      const card = page.getByTestId("me-card");
      assert.ok((await card.innerText()).includes(input.nickname));
      assert.equal(await card.locator(".avatar").innerText(), input.nickname[0].toUpperCase());
      await checkPage(page, size, "07b-me");
    }

    // Settings: edit the profile.
    await toSettings(page, size);
    await checkPage(page, size, "08-settings");
    const profile = page.locator("[data-form=profile]");
    const nick = `${sizeName(size)} 乐乐`;
    await profile.getByLabel("Nickname").fill(nick);
    await profile.getByLabel("Gender").selectOption("female");
    await profile.getByLabel("Region").fill("Hangzhou 杭州");
    await profile.getByLabel("Bio").fill("Hello there!\nSecond line");
    await profile.getByLabel("Website").fill("https://example.com/me");
    await profile.getByRole("button", { name: "Save" }).click();
    await profile.getByRole("status").getByText("Saved").waitFor();
    // The form keeps showing what was saved (not the values the page was loaded with).
    assert.equal(await profile.getByLabel("Nickname").inputValue(), nick);
    assert.equal(await profile.getByLabel("Region").inputValue(), "Hangzhou 杭州");
    assert.equal(await profile.getByLabel("Website").inputValue(), "https://example.com/me");
    assert.equal(await profile.getByLabel("Gender").inputValue(), "female");

    // Upload an avatar; the new picture shows and is served as a JPEG.
    await page.getByTestId("avatar-input").setInputFiles({
      name: "me.png",
      mimeType: "image/png",
      buffer: await pngBytes(),
    });
    const img = page.getByTestId("avatar-img");
    await img.waitFor();
    await page.waitForFunction(() => {
      const el = document.querySelector<HTMLImageElement>("[data-testid=avatar-img]");
      return el?.complete && el.naturalWidth > 0;
    });
    const src = await img.getAttribute("src");
    assert.match(src ?? "", /^\/avatars\/[0-9a-z]{20}$/);
    const res = await page.request.get(server.url(src!));
    assert.equal(res.status(), 200);
    assert.equal(res.headers()["content-type"], "image/jpeg");
    await checkPage(page, size, "09-settings-saved");

    // The public profile shows the new values.
    await page.getByRole("link", { name: "View my public profile" }).click();
    await page.waitForURL(`**/u/${input.username}`);
    const card = page.getByTestId("profile-card");
    await card.getByRole("heading", { name: nick }).waitFor();
    const text = await card.innerText();
    for (
      const want of [
        `@${input.username}`,
        "Female",
        "Hangzhou 杭州",
        "Hello there!",
        "Second line",
        "https://example.com/me",
      ]
    ) {
      assert.ok(text.includes(want), `the profile shows "${want}" in: ${text}`);
    }
    assert.match((await card.locator("img.avatar").getAttribute("src")) ?? "", /^\/avatars\//);
    await checkPage(page, size, "10-profile");

    // Feedback, from the settings menu.
    await page.goto(server.url("/settings"));
    await page.getByRole("link", { name: "Feedback" }).click();
    await page.waitForURL("**/feedback");
    await checkPage(page, size, "10b-feedback");
    await page.getByLabel("Message").fill("Lovely app 很好用");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByRole("status").getByText("Thank you!").waitFor();

    // Language: switch to Chinese, and it stays on the next page load.
    await toSettings(page, size);
    await switchLanguage(page, size);
    if (size !== DESKTOP) await toSettings(page, size);
    await page.getByRole("heading", { name: "设置", exact: true }).waitFor();
    assert.equal(await page.locator("html").getAttribute("lang"), "zh-CN");
    await checkPage(page, size, "11-settings-zh");
    await page.goto(server.url(`/u/${input.username}`));
    await (size === DESKTOP
      ? page.getByRole("link", { name: "聊天" })
      : page.getByTestId("tab-chats").getByText("消息", { exact: true })).waitFor();
    await page.getByText("性别").waitFor();
    await checkPage(page, size, "12-profile-zh");
    await switchLanguage(page, size);
    if (size !== DESKTOP) await page.goto(server.url(`/u/${input.username}`));
    await page.getByText("Gender").waitFor();
    await page.goto(server.url("/settings"));
    await page.getByRole("heading", { name: "Settings", exact: true }).waitFor();
    assert.equal(await page.locator("html").getAttribute("lang"), "en");

    // Change the password: a wrong current one is refused at its field, the right one works.
    const pw = page.locator("[data-form=password]");
    const newPassword = `${input.password} and more`;
    await pw.getByLabel("Current password").fill("not my password");
    await pw.getByLabel("New password").fill(newPassword);
    await pw.getByRole("button", { name: "Save" }).click();
    await pw.locator("[data-error=wrong_password]").waitFor();
    // The browser logs that refused request (400) as a console error: that one is expected.
    const refused = problems.findIndex((p) =>
      /\/settings: Failed to load resource: .* 400/.test(p)
    );
    assert.ok(refused >= 0, `the refused change shows in the console: ${problems}`);
    problems.splice(refused, 1);
    await pw.getByLabel("Current password").fill(input.password);
    await pw.getByRole("button", { name: "Save" }).click();
    await pw.getByRole("status").getByText("Password changed").waitFor();

    // Log out (from the header on desktops, from "Me" on phones), and back in with the new
    // password.
    if (size === DESKTOP) {
      await page.getByRole("navigation", { name: "Main" }).getByRole("button", { name: "Log out" })
        .click();
    } else {
      await toMe(page);
      await page.getByTestId("me-logout").click();
    }
    await page.waitForURL("**/login");
    await checkPage(page, size, "13-logged-out");
    await page.getByLabel("Username or e-mail").fill(input.username);
    await page.getByLabel("Password", { exact: true }).fill(newPassword);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(server.url("/"));

    assert.deepEqual(problems, []);
  } finally {
    await ctx.close();
  }
}

Deno.test({
  name: "accounts in Chromium at phone and desktop size",
  // Playwright keeps its pipe to the browser open across steps.
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await withBrowser(async ({ server, browser }) => {
    for (const size of [PHONE, DESKTOP]) {
      await t.step(
        `${
          sizeName(size)
        }: sign up → mail → activate → log in → profile and avatar → public profile → language`,
        () => whole(browser, server, size),
      );
    }

    await t.step("a browser asking for zh-CN sees Chinese by default", async () => {
      const ctx = await context(browser, PHONE, "zh-CN");
      const page = await ctx.newPage();
      const problems = watchConsole(page);
      try {
        await page.goto(server.url("/"));
        assert.equal(await page.locator("html").getAttribute("lang"), "zh-CN");
        await page.getByRole("heading", { name: "乐聊" }).waitFor();
        await page.locator("main").getByRole("link", { name: "注册" }).click();
        await page.waitForURL("**/register");
        await page.getByRole("heading", { name: "注册账号" }).waitFor();
        await page.getByLabel("用户名", { exact: true }).waitFor();
        await checkPage(page, PHONE, "14-register-zh");
        assert.deepEqual(problems, []);
      } finally {
        await ctx.close();
      }
    });

    for (const size of [PHONE, DESKTOP]) {
      await t.step(`${sizeName(size)}: errors show next to the field they are about`, async () => {
        const taken = newUserInput("taken");
        const reg = await new Client(server).post("/api/auth/register", taken);
        assert.equal(reg.status, 201);
        const ctx = await context(browser, size, "en-US");
        const page = await ctx.newPage();
        // This step failed twice in full parallel runs (2 of 5, 2026-12-02) waiting for the e-mail
        // error and passed alone every time: say what the page had and which request failed.
        const failed: string[] = [];
        page.on(
          "requestfailed",
          (r) => failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`),
        );
        // The API answers 4xx on purpose here; Chromium logs each as a failed resource.
        const problems = watchConsole(page, [
          /Failed to load resource: the server responded with a status of 4\d\d/,
        ]);
        try {
          await page.goto(server.url("/register"));
          await hydrated(page);
          const fresh = newUserInput("fresh");
          const form = page.locator("[data-form=register]");
          const field = (name: string) =>
            form.locator(".field", { has: page.locator(`[name=${name}]`) });
          await form.getByLabel("Username", { exact: true }).fill(taken.username);
          await form.getByLabel("E-mail").fill(fresh.email);
          await form.getByLabel("Password").fill(fresh.password);
          await form.getByRole("button", { name: "Sign up" }).click();
          await field("username").getByRole("alert").getByText("That username is taken").waitFor();
          const username = form.getByLabel("Username", { exact: true });
          assert.equal(await username.getAttribute("aria-invalid"), "true");
          // The form moves the focus in an effect, after the error has been drawn.
          await page.waitForFunction(() =>
            document.activeElement?.getAttribute("name") === "username"
          );
          // The error is part of the field's description for screen readers.
          const describedBy = (await username.getAttribute("aria-describedby")) ?? "";
          assert.equal(await page.locator(`#${describedBy}`).innerText(), "That username is taken");
          assert.equal(await form.getByRole("alert").count(), 1, "only the username has an error");
          await checkPage(page, size, "15-register-taken");

          await form.getByLabel("Username", { exact: true }).fill(fresh.username);
          await form.getByLabel("Password").fill("12345678");
          await form.getByRole("button", { name: "Sign up" }).click();
          await field("password").getByRole("alert").getByText("That password is too common")
            .waitFor();
          assert.equal(await form.getByLabel("Password").getAttribute("aria-invalid"), "true");
          assert.equal(
            await form.getByLabel("Username", { exact: true }).getAttribute("aria-invalid"),
            null,
          );

          await form.getByLabel("Password").fill("short");
          await form.getByRole("button", { name: "Sign up" }).click();
          await field("password").getByRole("alert").getByText("At least 8 characters").waitFor();

          await form.getByLabel("E-mail").fill("not-an-email");
          await form.getByLabel("Password").fill(fresh.password);
          await form.getByRole("button", { name: "Sign up" }).click();
          await field("email").getByRole("alert").getByText("That is not a valid e-mail address")
            .waitFor().catch(async (err) => {
              const alerts = await page.getByRole("alert").allInnerTexts();
              const guard = await server.guard?.stats();
              const warnings = server.logs().filter((l) => !l.includes('"level":"info"'));
              throw new Error(
                `${err}\nalerts: ${JSON.stringify(alerts)}\nfailed requests: ${
                  JSON.stringify(failed)
                }\nguard: ${JSON.stringify(guard)}\nserver warnings: ${warnings.join("\n")}`,
              );
            });
          await checkPage(page, size, "16-register-email-error");

          // Keyboard focus is visible.
          await form.getByLabel("Password").focus();
          await page.keyboard.press("Tab");
          const submit = form.getByRole("button", { name: "Sign up" });
          assert.equal(await submit.evaluate((el) => el === document.activeElement), true);
          assert.equal(await submit.evaluate((el) => getComputedStyle(el).outlineStyle), "solid");

          // An e-mail that has an account gets the page any sign-up gets; its owner gets a note.
          const other = newUserInput("other");
          await form.getByLabel("Username", { exact: true }).fill(other.username);
          await form.getByLabel("E-mail").fill(taken.email);
          await form.getByLabel("Password").fill(other.password);
          await form.getByRole("button", { name: "Sign up" }).click();
          await page.waitForURL("**/register/sent?**");
          assert.match(
            await page.getByTestId("sent").innerText(),
            new RegExp(taken.email.replace(".", "\\.")),
          );

          // Logging in before activation answers like a wrong password, and says it may be that.
          await page.goto(server.url("/login"));
          await hydrated(page);
          await page.getByLabel("Username or e-mail").fill(taken.username);
          await page.getByLabel("Password", { exact: true }).fill(taken.password);
          await page.getByRole("button", { name: "Log in" }).click();
          await page.getByRole("alert").getByText("not activated yet").waitFor();
          await checkPage(page, size, "17-login-not-activated");

          // Pages that do not exist say so, in the page frame.
          const missing = await page.goto(server.url("/no-such-page"));
          assert.equal(missing?.status(), 404);
          await page.getByRole("heading", { name: "Page not found" }).waitFor();
          await checkPage(page, size, "18-not-found");

          // Forgot password: the same answer whether the account exists or not.
          await page.goto(server.url("/forgot"));
          await checkPage(page, size, "19-forgot");
          await page.getByLabel("E-mail").fill(fresh.email);
          await page.getByRole("button", { name: "Send reset link" }).click();
          await page.getByRole("status").getByText("a reset link is on its way").waitFor();
          assert.deepEqual(problems, []);
        } finally {
          await ctx.close();
        }
      });
    }
  });
});
