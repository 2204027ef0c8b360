/** Runs the real server process the way `deno task start` does (same Deno, same permission flags). */
import assert from "node:assert/strict";
import { Client, newUserInput, type TestServer } from "./helpers.ts";

const root = new URL("../", import.meta.url);
export const rootPath = root.pathname;

/** The flags of the `deno run … main.ts` step of the start task. */
export async function startFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const step = (config.tasks.start as string).split("&&").map((s) => s.trim()).find((s) =>
    s.endsWith(" main.ts")
  );
  assert.ok(step, "the start task runs main.ts");
  const words = step.split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
  return words.slice(2, -1);
}

/** Every setting main.ts reads, blanked (blank means unset), so the test's own env cannot leak in. */
export const BLANK: Record<string, string> = Object.fromEntries(
  [
    "PORT",
    "HOSTNAME_BIND",
    "APP_ORIGIN",
    "DENO_KV_PATH",
    "DENO_KV_URL",
    "DENO_KV_ACCESS_TOKEN",
    "SMTP_URL",
    "MAIL_FROM",
    "ADMIN_EMAIL",
    "DEV_OUTBOX",
    "TRUST_PROXY",
    "METRICS_TOKEN",
    "LOG_LEVEL",
    "WORKERS",
  ].map((k) => [k, ""]),
);

export interface ServerProcess {
  port: number;
  origin: string;
  url(path: string): string;
  /** Everything the process wrote to stderr so far (logs at LOG_LEVEL warn and above). */
  logs(): string;
  /** SIGTERM, then waits for the exit; returns the exit code. */
  stop(): Promise<number>;
  /** SIGKILL: the process dies at once, wherever it is; resolves once it is gone. */
  kill(): Promise<void>;
  /** What tests/helpers.ts clients need of a server (its address and origin). */
  asTestServer(): TestServer;
}

/**
 * `deno run main.ts` with the start task's flags, every setting blank but those given, PORT=0
 * (a busy 8000 on this machine must not change an outcome) and bound to 127.0.0.1.
 */
export async function serverCommand(
  env: Record<string, string>,
  stdout: "null" | "piped" = "null",
): Promise<Deno.Command> {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...(await startFlags()), "main.ts"],
    cwd: rootPath,
    env: { ...BLANK, NO_COLOR: "1", PORT: "0", HOSTNAME_BIND: "127.0.0.1", ...env },
    stdin: "null",
    stdout,
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  });
}

/** Starts main.ts as its own process and waits for its "running at" line. */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = (await serverCommand({ LOG_LEVEL: "warn", ...env })).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = Date.now() + 30_000;
  let port = 0;
  while (!port) {
    if (Date.now() > deadline) throw new Error(`server did not start:\n${text}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited:\n${text}`);
    text += value;
    const m = text.match(/running at (\S+) \(port (\d+)/);
    if (m) port = Number(m[2]);
  }
  // Keep draining stderr so the child never blocks on a full pipe.
  (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
    } catch { /* closed */ }
  })();
  const origin = `http://127.0.0.1:${port}`;
  return {
    port,
    origin,
    url: (path) => origin + path,
    logs: () => text,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      return (await child.status).code;
    },
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
    },
    asTestServer: () => ({ url: (path: string) => origin + path, origin }) as unknown as TestServer,
  };
}

/** Registers, activates (through the dev outbox) and logs in a new user on a server process. */
export async function signUpOver(server: TestServer, prefix = "proc") {
  const input = newUserInput(prefix);
  const client = new Client(server);
  const reg = await client.post("/api/auth/register", input);
  assert.equal(reg.status, 201);
  const outbox = await (await fetch(server.url("/dev/outbox"))).text();
  const token = outbox.match(new RegExp(`${input.email}[\\s\\S]*?#token=([A-Za-z0-9_-]+)`))?.[1] ??
    [...outbox.matchAll(/#token=([A-Za-z0-9_-]+)/g)].map((m) => m[1])[0];
  assert.ok(token, "activation link in the dev outbox");
  assert.equal((await client.post("/api/auth/activate", { token })).status, 200);
  assert.equal(
    (await client.post("/api/auth/login", { login: input.username, password: input.password }))
      .status,
    200,
  );
  return { client, userId: (reg.body as { user: { id: string } }).user.id };
}
