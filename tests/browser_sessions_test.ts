/**
 * The device list on /settings when its calls fail: the island says so and stays where it is,
 * instead of leaving for the login page with the sessions still open (or throwing in the page).
 * The failures are made in the browser (no answer, or an error answer); the server is real.
 */
import assert from "node:assert/strict";
import { signUp } from "./helpers.ts";
import { DESKTOP, hydrated, loggedIn, watchConsole, withBrowser } from "./browser.ts";

Deno.test({
  name: "settings: a failed log-out shows the error and keeps the page and the sessions",
  // Playwright keeps its pipe to the browser open across steps.
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  await withBrowser(async ({ server, browser }) => {
    const who = await signUp(server);
    const ctx = await loggedIn(browser, server, who, DESKTOP);
    const page = await ctx.newPage();
    // Chromium logs the refused calls below as failed resources; nothing else may show up.
    const problems = watchConsole(page, [/Failed to load resource/]);
    await page.goto(server.url("/settings"));
    await hydrated(page);
    const sessions = page.getByTestId("sessions");
    await sessions.locator("li").first().waitFor();
    const everywhere = page.getByRole("button", { name: "Log out everywhere" });
    const alert = page.getByTestId("sessions-error");

    // No answer at all: the network is gone.
    await page.route("**/api/auth/logout-everywhere", (r) => r.abort("internetdisconnected"));
    await everywhere.click();
    await alert.getByText("Something went wrong on our side").waitFor();
    assert.match(page.url(), /\/settings$/);

    // An error answer: its message is shown.
    await page.unroute("**/api/auth/logout-everywhere");
    await page.route("**/api/auth/logout-everywhere", (r) =>
      r.fulfill({
        status: 503,
        contentType: "application/json",
        body: JSON.stringify({ error: { code: "unavailable", message: "Try again in a minute" } }),
      }));
    await everywhere.click();
    await alert.getByText("Try again in a minute").waitFor();
    assert.match(page.url(), /\/settings$/);
    // Ending this device fails the same way and stays too.
    await page.route("**/api/auth/sessions/*", (r) => r.abort("internetdisconnected"));
    await sessions.getByRole("button", { name: "Log out" }).first().click();
    await alert.getByText("Something went wrong on our side").waitFor();
    assert.match(page.url(), /\/settings$/);
    assert.equal((await who.client.json("/api/me")).status, 200, "still logged in");

    // Once the call goes through, the sessions end and the page goes to the login.
    await page.unrouteAll();
    await everywhere.click();
    await page.waitForURL("**/login");
    assert.equal((await who.client.json("/api/me")).status, 401, "logged out everywhere");
    assert.deepEqual(problems, []);
    await ctx.close();
  });
});
