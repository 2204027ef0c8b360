/** Runs the real server process the way `deno task start` does (same Deno, same permission flags). */
import assert from "node:assert/strict";
import { Client, newUserInput, type TestServer } from "./helpers.ts";
import { SERVER_FLAGS } from "../scripts/flags.ts";

const root = new URL("../", import.meta.url);
export const rootPath = root.pathname;

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
    "CONN_GUARD",
    "CONN_MAX",
    "CONN_MAX_PER_IP",
    "HTTP_HEADER_TIMEOUT_MS",
    "HTTP_IDLE_TIMEOUT_MS",
    "BODY_TIMEOUT_MS",
    "UPLOAD_TIMEOUT_MS",
    "GUARD_THREADS",
    "DENO_DEPLOYMENT_ID",
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
  /** Whether the process is still running. */
  alive(): boolean;
  /** SIGKILL: the process dies at once, wherever it is; resolves once it is gone. */
  kill(): Promise<void>;
  /** What tests/helpers.ts clients need of a server (its address and origin). */
  asTestServer(): TestServer;
}

export interface ProcessOpts {
  fdLimit?: number;
  softFdLimit?: number;
  /** Deno's permission flags instead of the start task's. */
  flags?: string[];
}

/**
 * `deno run main.ts` with the start task's flags (or `opts.flags`), every setting blank but those given, PORT=0
 * (a busy 8000 on this machine must not change an outcome) and bound to 127.0.0.1.
 */
export function serverCommand(
  env: Record<string, string>,
  stdout: "null" | "piped" = "null",
  opts: ProcessOpts = {},
): Deno.Command {
  // The start task's flags: tests/flags_test.ts checks that deno.json spells the same.
  const deno = ["run", ...(opts.flags ?? SERVER_FLAGS), "main.ts"];
  // fdLimit: soft and hard, so Deno cannot raise it (to reach EMFILE quickly); softFdLimit: only
  // the soft one, as many systems set it.
  const ulimit = opts.fdLimit
    ? `ulimit -n ${opts.fdLimit}`
    : opts.softFdLimit
    ? `ulimit -Sn ${opts.softFdLimit}`
    : "";
  // libvips sets VIPSHOME in this process when a test makes a picture with sharp; a server must not
  // inherit what it would not have in production (even set empty it changes what libvips does).
  Deno.env.delete("VIPSHOME");
  const [cmd, args] = ulimit
    ? ["sh", ["-c", `${ulimit} && exec "$0" "$@"`, Deno.execPath(), ...deno]]
    : [Deno.execPath(), deno];
  return new Deno.Command(cmd, {
    args,
    cwd: rootPath,
    env: { ...BLANK, NO_COLOR: "1", PORT: "0", HOSTNAME_BIND: "127.0.0.1", ...env },
    stdin: "null",
    stdout,
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  });
}

/** Starts main.ts as its own process and waits for its "running at" line. */
export async function spawnServer(
  env: Record<string, string>,
  opts: ProcessOpts = {},
): Promise<ServerProcess> {
  const child = serverCommand({ LOG_LEVEL: "warn", ...env }, "null", opts).spawn();
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
  let exited = false;
  child.status.then(() => exited = true);
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
    alive: () => !exited,
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
    // Its sockets are the test's to close (kill() ends the process, not the clients).
    asTestServer: () =>
      ({
        url: (path: string) => origin + path,
        origin,
        sockets: new Set(),
      }) as unknown as TestServer,
  };
}

/** Registers, activates (through the dev outbox) and logs in a new user on a server process. */
export async function signUpOver(server: TestServer, prefix = "proc") {
  const input = newUserInput(prefix);
  const client = new Client(server);
  const reg = await client.post("/api/auth/register", input);
  assert.equal(reg.status, 201);
  // The mail goes out after the answer, in the background of another process: wait for it.
  let token: string | undefined;
  for (let i = 0; i < 200 && !token; i++) {
    if (i) await new Promise((r) => setTimeout(r, 25));
    const outbox = await (await fetch(server.url("/dev/outbox"))).text();
    token = outbox.match(new RegExp(`${input.email}[\\s\\S]*?#token=([A-Za-z0-9_-]+)`))?.[1];
  }
  assert.ok(token, "activation link in the dev outbox");
  assert.equal((await client.post("/api/auth/activate", { token })).status, 200);
  const login = await client.post("/api/auth/login", {
    login: input.username,
    password: input.password,
  });
  assert.equal(login.status, 200);
  return { client, userId: (login.body as { user: { id: string } }).user.id };
}
