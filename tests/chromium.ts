/** Where Debian's Chromium is (kept apart from playwright so tests/setup.ts needs no extra permissions). */

/** $CHROMIUM_PATH, or Debian's /usr/bin/chromium; null when neither exists. */
export async function chromiumPath(): Promise<string | null> {
  for (const p of [Deno.env.get("CHROMIUM_PATH"), "/usr/bin/chromium"]) {
    if (p && await Deno.stat(p).then(() => true, () => false)) return p;
  }
  return null;
}

/** The flags every Chromium of the tests and benches starts with (no sandbox, nothing phones home). */
export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
] as const;
