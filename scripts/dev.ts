/** `deno task dev`: rebuilds island bundles when sources change and restarts the server. */
import { say } from "../lib/log.ts";
import { BUILD_FLAGS, SERVER_FLAGS } from "./flags.ts";

const root = new URL("../", import.meta.url);
// By name, as the task's `--allow-run=deno` allows (Deno.execPath() is a symlink's target).
const deno = "deno";
let server: Deno.ChildProcess | null = null;

async function build(): Promise<boolean> {
  const args = ["run", "-q", ...BUILD_FLAGS, "scripts/build.ts", "--if-stale"];
  const { code } = await new Deno.Command(deno, { args, cwd: root }).output();
  return code === 0;
}

function startServer(): void {
  const args = ["run", ...SERVER_FLAGS, "main.ts"];
  server = new Deno.Command(deno, { args, cwd: root, stdout: "inherit", stderr: "inherit" })
    .spawn();
}

async function restart(): Promise<void> {
  if (server) {
    try {
      server.kill("SIGTERM");
    } catch { /* already gone */ }
    await server.status;
  }
  if (await build()) startServer();
  else say("build failed: fix the error above; watching for changes");
}

await restart();
let timer: ReturnType<typeof setTimeout> | undefined;
const watcher = Deno.watchFs(
  ["islands", "lib", "components", "routes", "static", "main.ts"].map((p) =>
    new URL(p, root).pathname
  ),
);
for await (const ev of watcher) {
  if (ev.paths.every((p) => p.endsWith("_test.ts"))) continue;
  clearTimeout(timer);
  timer = setTimeout(() => {
    say("change detected: rebuilding and restarting");
    restart();
  }, 150);
}
