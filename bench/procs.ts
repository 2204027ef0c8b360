/**
 * Servers under test, each its own OS process so its CPU and RSS are measured apart from the load
 * generator: HappyChat (main.ts with the start task's permission flags) and the reference server.
 */
import { cpuSeconds, rssBytes, sleep } from "./stats.ts";
import { SERVER_FLAGS } from "../scripts/flags.ts";

export const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

export interface ServerProc {
  pid: number;
  port: number;
  origin: string;
  /** CPU seconds used so far. */
  cpu(): number;
  rss(): number;
  stop(): Promise<void>;
}

export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function spawn(
  args: string[],
  env: Record<string, string>,
  port: number,
  name: string,
): Promise<ServerProc> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env,
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const tail: string[] = [];
  const reading = (async () => {
    const dec = new TextDecoderStream();
    for await (const chunk of child.stderr.pipeThrough(dec)) {
      if (Deno.env.get("BENCH_SERVER_LOG")) Deno.stderr.writeSync(new TextEncoder().encode(chunk));
      tail.push(...chunk.split("\n").filter(Boolean));
      if (tail.length > 40) tail.splice(0, tail.length - 40);
    }
  })();
  let exited = false;
  const status = child.status.then((s) => (exited = true, s));
  const until = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      await Promise.race([reading, sleep(2000)]);
      throw new Error(`${name} exited at start:\n${tail.join("\n")}`);
    }
    if (Date.now() > until) {
      child.kill("SIGKILL");
      throw new Error(`${name} did not start within 60 s:\n${tail.join("\n")}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      await res.body?.cancel();
      if (res.ok) break;
    } catch { /* not listening yet */ }
    await sleep(100);
  }
  const pid = child.pid;
  return {
    pid,
    port,
    origin: `http://127.0.0.1:${port}`,
    cpu: () => cpuSeconds(pid),
    rss: () => rssBytes(pid),
    async stop() {
      if (exited) return;
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      const done = await Promise.race([status.then(() => true), sleep(8000).then(() => false)]);
      if (!done) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
        await status;
      }
    },
  };
}

/**
 * Starts HappyChat on a seeded KV file with WORKERS isolates. Unless `extraEnv` says otherwise it
 * runs as in production behind a TLS proxy, with CONN_GUARD=0: the proxy, not the app, relays
 * the client connections there (docs/deploy.md). Scenarios that measure the guard turn it on.
 */
export function startHappyChat(
  kvPath: string,
  workers: number,
  extraEnv: Record<string, string> = {},
  /** A given port (a restart keeps its clients' origin valid), else a free one. */
  port = freePort(),
): Promise<ServerProc> {
  const env = {
    PORT: String(port),
    HOSTNAME_BIND: "127.0.0.1",
    APP_ORIGIN: `http://127.0.0.1:${port}`,
    DENO_KV_PATH: kvPath,
    WORKERS: String(workers),
    LOG_LEVEL: "error",
    DEV_OUTBOX: "0",
    CONN_GUARD: "0",
    ...extraEnv,
  };
  // BENCH_SERVER_V8_FLAGS (e.g. "--prof") is for profiling the server while a scenario runs.
  const v8 = Deno.env.get("BENCH_SERVER_V8_FLAGS");
  return spawn(
    ["run", ...SERVER_FLAGS, ...(v8 ? [`--v8-flags=${v8}`] : []), "main.ts"],
    env,
    port,
    "HappyChat",
  );
}

/** Starts the reference broadcast server. */
export function startReference(): Promise<ServerProc> {
  const port = freePort();
  return spawn(
    ["run", "--allow-net=127.0.0.1", "bench/reference_server.ts", String(port)],
    {},
    port,
    "reference server",
  );
}

async function git(args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command("git", { args, cwd: ROOT, stdout: "piped", stderr: "null" })
      .output();
    return new TextDecoder().decode(out.stdout).trimEnd();
  } catch {
    return "";
  }
}

/** The commit, and the server's own files changed since it (the numbers are for those changes). */
export async function gitCommit(): Promise<string> {
  const head = (await git(["rev-parse", "--short", "HEAD"])) || "unknown";
  const dirty =
    (await git(["status", "--porcelain", "--", "lib", "routes", "main.ts", "deno.json"]))
      .split("\n").filter(Boolean).map((l) => l.slice(3));
  return dirty.length ? `${head} + uncommitted changes to ${dirty.join(", ")}` : head;
}
