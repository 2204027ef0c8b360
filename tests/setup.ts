/**
 * Before the test run: makes sure Chromium is there for the browser tests. On a machine without
 * it, installs Debian's package when running as root with apt-get; otherwise says what to do.
 */
import { say } from "../lib/log.ts";
import { chromiumPath } from "./chromium.ts";

async function run(cmd: string, args: string[]): Promise<boolean> {
  const { code } = await new Deno.Command(cmd, { args, stdout: "inherit", stderr: "inherit" })
    .output();
  return code === 0;
}

if (!(await chromiumPath())) {
  const isRoot = Deno.uid?.() === 0;
  const hasApt = await Deno.stat("/usr/bin/apt-get").then(() => true, () => false);
  if (isRoot && hasApt) {
    say("Chromium is missing: installing Debian's chromium package for the browser tests…");
    if (
      !(await run("apt-get", ["update", "-qq"])) ||
      !(await run("apt-get", ["install", "-y", "-qq", "chromium"]))
    ) {
      say("error: apt-get could not install chromium");
      Deno.exit(1);
    }
  } else {
    say(
      "error: the browser tests need Chromium: run `sudo apt-get install -y chromium`, or set CHROMIUM_PATH",
    );
    Deno.exit(1);
  }
}
