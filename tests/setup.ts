/**
 * Before the test run: makes sure the three browser engines are there for the browser tests
 * (Debian's chromium, firefox-esr, and webkit2gtk-driver with xvfb for WebKit). On a machine
 * without them, installs the missing packages when running as root with apt-get; otherwise says
 * what to do.
 */
import { say } from "../lib/log.ts";
import { chromiumPath } from "./chromium.ts";

async function run(cmd: string, args: string[]): Promise<boolean> {
  const { code } = await new Deno.Command(cmd, { args, stdout: "inherit", stderr: "inherit" })
    .output();
  return code === 0;
}

const exists = (p: string) => Deno.stat(p).then(() => true, () => false);

/** Debian package → whether this machine has it (Chromium may also come from CHROMIUM_PATH). */
const missing: string[] = [];
if (!(await chromiumPath())) missing.push("chromium");
if (!(await exists("/usr/bin/firefox-esr"))) missing.push("firefox-esr");
if (!(await exists("/usr/bin/WebKitWebDriver"))) missing.push("webkit2gtk-driver");
if (!(await exists("/usr/bin/Xvfb"))) missing.push("xvfb");

if (missing.length) {
  const isRoot = Deno.uid?.() === 0;
  const hasApt = await exists("/usr/bin/apt-get");
  if (isRoot && hasApt) {
    say(`missing for the browser tests: installing Debian's ${missing.join(", ")}…`);
    if (
      !(await run("apt-get", ["update", "-qq"])) ||
      !(await run("apt-get", ["install", "-y", "-qq", ...missing]))
    ) {
      say(`error: apt-get could not install ${missing.join(", ")}`);
      Deno.exit(1);
    }
  } else {
    say(
      `error: the browser tests need Debian's ${
        missing.join(", ")
      }: run \`sudo apt-get install -y ${
        missing.join(" ")
      }\` (Chromium may also be given by CHROMIUM_PATH)`,
    );
    Deno.exit(1);
  }
}
