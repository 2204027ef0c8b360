/**
 * The soak's server restart: HappyChat again on the port it had before it was killed, with the
 * environment startHappyChat() (bench/procs.ts) gives it, so its clients' origin stays valid.
 * startHappyChat() itself always picks a fresh port.
 */
import { ROOT, type ServerProc } from "./procs.ts";
import { cpuSeconds, rssBytes, sleep } from "./stats.ts";
import { SERVER_FLAGS } from "../scripts/flags.ts";

/** Starts main.ts with WORKERS=1 on `port`; resolves once /healthz answers (at most 60 s). */
export async function startHappyChatOnPort(kvPath: string, port: number): Promise<ServerProc> {
  const env = {
    PORT: String(port),
    HOSTNAME_BIND: "127.0.0.1",
    APP_ORIGIN: `http://127.0.0.1:${port}`,
    DENO_KV_PATH: kvPath,
    WORKERS: "1",
    LOG_LEVEL: "error",
    DEV_OUTBOX: "0",
    CONN_GUARD: "0",
  };
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...SERVER_FLAGS, "main.ts"],
    env,
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const tail: string[] = [];
  const reading = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
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
      throw new Error(`HappyChat (restart on ${port}) exited at start:\n${tail.join("\n")}`);
    }
    if (Date.now() > until) {
      child.kill("SIGKILL");
      await status;
      throw new Error(`HappyChat (restart on ${port}) did not start within 60 s`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
        signal: AbortSignal.timeout(2000),
      });
      await res.body?.cancel();
      if (res.ok) break;
    } catch { /* not listening yet */ }
    await sleep(100);
  }
  const pid = child.pid;
  return {
    pid,
    port,
    origin: env.APP_ORIGIN,
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
