/**
 * docs/bots.md "Your first bot in five minutes", step by step, in Chromium: make a bot on the
 * settings page, copy its token, run examples/weather_bot.ts with it (a real process), add the bot
 * from Contacts, ask it in a DM, then add it to a group and @mention it there. Also: the built-in
 * bot added to a group answers an @mention.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { friendsGroup, signUp } from "./helpers.ts";
import { DESKTOP, hydrated, loggedIn, PHONE, watchConsole, withBrowser } from "./browser.ts";
import { startLlmServer } from "./llm_server.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Runs the example bot; resolves once it printed that it is connected. */
async function runExample(serverUrl: string, token: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "examples/weather_bot.ts"],
    cwd: ROOT,
    env: { BOT_TOKEN: token, HAPPYCHAT_URL: serverUrl },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out: string[] = [];
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const until = Date.now() + 15_000;
  while (!out.join("").includes("Connected as")) {
    if (Date.now() > until) throw new Error(`example bot did not connect: ${out.join("")}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`example bot ended: ${out.join("")}`);
    out.push(value);
  }
  return {
    printed: () => out.join(""),
    async stop() {
      child.kill("SIGTERM");
      reader.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      await child.status;
    },
  };
}

Deno.test("docs/bots.md word for word: make a bot, run the example, add it, ask it in a DM and a group", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const me = await signUp(server);
    const page = await (await loggedIn(browser, server, me, DESKTOP)).newPage();
    problems.push(watchConsole(page));

    // Step 2: Settings → My bots → Username, Name → Make the bot.
    await page.goto(server.url("/settings"));
    await hydrated(page);
    const form = page.locator('[data-testid="bot-create"]');
    await form.getByLabel("Username").fill("weather_bot");
    await form.getByLabel("Name", { exact: true }).fill("Weather");
    await form.getByRole("button", { name: "Make the bot" }).click();
    // Step 3: the token, shown once.
    const token = (await page.textContent('[data-testid="bot-token"] code'))!.trim();
    assert.match(token, /^hcb_/);
    await page.reload();
    await hydrated(page);
    await page.waitForSelector('[data-testid="bot"]');
    assert.equal(await page.$('[data-testid="bot-token"]'), null, "shown only once");

    // Step 4: run the example with the token.
    const bot = await runExample(server.url(""), token);
    try {
      assert.match(bot.printed(), /Connected as Weather \(@weather_bot\)/);

      // Step 5: Contacts → Add friends → search weather_bot → Add → Send request; it accepts.
      await page.goto(server.url("/contacts"));
      await hydrated(page);
      await page.click('[data-testid="add-friends"]');
      await hydrated(page);
      await page.fill('[data-testid="find-q"]', "weather_bot");
      await page.click('[data-testid="find-go"]');
      await page.click('[data-testid="result"] [data-testid="add"]');
      await page.click('[data-testid="send-request"]');
      // Leaving at once could cancel the request before it was sent.
      await page.waitForSelector(
        '[data-testid="result"]:is([data-relation="pending"],[data-relation="friend"])',
      );
      await page.goto(server.url("/"));
      await hydrated(page);
      await page.waitForSelector('[data-connection="online"]');
      await page.click('[data-kind="dm"]:has-text("Weather")');
      await page.fill('[data-testid="composer"]', "weather in Paris");
      await page.click('[data-testid="send"]');
      await page.waitForSelector('[data-testid="msg"] .text:text-is("paris: ⛅ Cloudy, 7°C")');

      // Step 6: a group's page → Add members → Weather; then @Weather in the group.
      const friend = await signUp(server);
      const g = await friendsGroup(server, me.userId, "Trip", [friend.userId]);
      await page.goto(server.url(`/g/${g.id}`));
      await hydrated(page);
      await page.click('[data-testid="add-members"]');
      await page.click('[data-testid="pick-friend"]:has-text("Weather")');
      await page.click('#add-members-form button[type="submit"]');
      await page.waitForSelector('[data-testid="member"]:has-text("Weather")');
      await page.goto(server.url("/"));
      await hydrated(page);
      await page.waitForSelector('[data-connection="online"]');
      await page.click(`[data-conv="${g.id}"]`);
      await page.focus('[data-testid="composer"]');
      await page.keyboard.type("@Weat");
      await page.waitForSelector('[data-testid="mention-option"]:has-text("Weather")');
      await page.keyboard.press("Enter");
      await page.keyboard.type("weather in Beijing");
      await page.keyboard.press("Enter");
      await page.waitForSelector('[data-testid="msg"] .text:text-is("beijing: ☀️ Sunny, 3°C")');
      // Without a mention, the example bot keeps quiet in a group.
      await page.fill('[data-testid="composer"]', "weather in London");
      await page.click('[data-testid="send"]');
      await page.waitForSelector('[data-testid="msg"] .text:text-is("weather in London")');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await page.$('[data-testid="msg"] .text:text-is("london: 🌫 Fog, 6°C")'), null);
    } finally {
      await bot.stop();
    }
  });
});

Deno.test("the built-in bot added to a group answers when @mentioned", async () => {
  await withBrowser(async ({ server, browser, problems }) => {
    const me = await signUp(server);
    const friend = await signUp(server);
    const g = await friendsGroup(server, me.userId, "Study", [friend.userId]);
    const page = await (await loggedIn(browser, server, me, DESKTOP)).newPage();
    problems.push(watchConsole(page));
    await page.goto(server.url(`/g/${g.id}`));
    await hydrated(page);
    await page.click('[data-testid="add-members"]');
    await page.click('[data-testid="pick-friend"][data-user="bot"]');
    await page.click('#add-members-form button[type="submit"]');
    await page.waitForSelector('[data-testid="member"][data-user="bot"]');
    await page.goto(server.url("/"));
    await hydrated(page);
    await page.waitForSelector('[data-connection="online"]');
    await page.click(`[data-conv="${g.id}"]`);
    await page.focus('[data-testid="composer"]');
    await page.keyboard.type("@HappyCh");
    await page.waitForSelector('[data-testid="mention-option"]:has-text("HappyChat Bot")');
    await page.keyboard.press("Enter");
    await page.keyboard.type("12*(3+4)");
    await page.keyboard.press("Enter");
    await page.waitForSelector('[data-testid="msg"] .text:text-is("12*(3+4) = 84")');
  });
});

Deno.test("with a language model, the bot's answer grows on the page and becomes a message", async () => {
  const llm = await startLlmServer();
  try {
    await withBrowser(async ({ server, browser, problems }) => {
      const text = "Cats sleep for about 13 to 16 hours a day, 猫一天睡十几个小时。";
      llm.setMode({ kind: "reply", text, chunkChars: 2, delayMs: 40 });
      const me = await signUp(server);
      const page = await (await loggedIn(browser, server, me, PHONE)).newPage();
      problems.push(watchConsole(page));
      await page.goto(server.url("/"));
      await hydrated(page);
      await page.waitForSelector('[data-connection="online"]');
      await page.click('[data-kind="bot"]');
      await page.fill('[data-testid="composer"]', "how long do cats sleep?");
      await page.click('[data-testid="send"]');
      // Part-way: a draft with a blinking caret, holding the start of the answer.
      await page.waitForSelector('[data-testid="draft"]');
      const partial = (await page.textContent('[data-testid="draft"] .text')) ?? "";
      assert.ok(partial.length > 0 && partial.length < text.length, partial);
      assert.ok(text.startsWith(partial), partial);
      // Whole: an ordinary message, and the draft is gone.
      await page.waitForSelector(`[data-testid="msg"] .text:text-is("${text}")`);
      assert.equal(await page.$('[data-testid="draft"]'), null);
    }, { env: { BOT_LLM_URL: llm.url, BOT_LLM_MODEL: "test" } });
  } finally {
    await llm.close();
  }
});
