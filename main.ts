/**
 * HappyChat: `deno task start`. Every setting is an environment variable (README.md).
 * Serves with one isolate per core (WORKERS to change), all sharing one port and one KV.
 */
import { ConfigError, loadConfig } from "./lib/http/config.ts";
import { openStore, startServer } from "./lib/http/server.ts";
import { log, say, setLogLevel } from "./lib/log.ts";
import { buildApp } from "./routes/mod.ts";

function fail(message: string): never {
  say(`error: ${message}`);
  Deno.exit(1);
}

function workerCount(kvPath: string, remote: boolean): number {
  const raw = Deno.env.get("WORKERS");
  if (raw) {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 64) {
      fail(`WORKERS must be a whole number from 1 to 64, got "${raw}"`);
    }
    if (n > 1 && kvPath === ":memory:" && !remote) {
      fail('WORKERS > 1 needs a KV file or DENO_KV_URL: isolates cannot share ":memory:"');
    }
    return n;
  }
  // Several isolates writing one local SQLite file contend for its lock: measured with
  // `deno task bench`, 2 isolates under 2000 DM msg/s gave p99 7.2 s against 16.7 ms for one
  // (bench/RESULTS.md). So one isolate per local file; one per core with a remote KV.
  if (!remote) return 1;
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/** Binds the port once to report "in use" clearly, and to learn the port when PORT=0. */
function probePort(hostname: string, port: number): number {
  try {
    const l = Deno.listen({ hostname, port });
    const got = (l.addr as Deno.NetAddr).port;
    l.close();
    return got;
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      fail(`Port ${port} is already in use (set PORT to another port)`);
    }
    fail(`Cannot listen on ${hostname}:${port}: ${(err as Error).message}`);
  }
}

async function runWorkers(n: number, port: number, origin: string): Promise<void> {
  if (new URL(origin).port === "0") origin = origin.replace(/:0$/, `:${port}`);
  const workers: Worker[] = [];
  await Promise.all(Array.from({ length: n }, (_, i) =>
    new Promise<void>((resolve) => {
      const w = new Worker(new URL("./worker.ts", import.meta.url), {
        type: "module",
        name: `isolate-${i}`,
      });
      workers.push(w);
      w.onerror = (e) => {
        e.preventDefault();
        fail(`isolate ${i} crashed: ${e.message}`);
      };
      w.onmessage = (e) => {
        if (e.data.type === "ready") resolve();
        if (e.data.type === "failed") fail(e.data.message);
      };
      w.postMessage({ type: "start", port, logLevel: Deno.env.get("LOG_LEVEL") });
    })));
  say(`HappyChat is running at ${origin} (port ${port}, ${n} isolates)`);
  const stop = async () => {
    log.info("server.stopping", { isolates: n });
    await Promise.race([
      Promise.all(workers.map((w) =>
        new Promise<void>((resolve) => {
          w.onmessage = (e) => e.data.type === "stopped" && resolve();
          w.postMessage({ type: "stop" });
        })
      )),
      new Promise((r) => setTimeout(r, 5000)),
    ]);
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

try {
  const level = Deno.env.get("LOG_LEVEL");
  if (level === "debug" || level === "info" || level === "warn" || level === "error") {
    setLogLevel(level);
  }
  const config = loadConfig();
  const n = workerCount(config.kvPath, !!config.kvUrl);
  if (n === 1) {
    const running = await startServer(config, { app: buildApp });
    say(`HappyChat is running at ${config.appOrigin} (port ${running.port})`);
    const stop = async () => {
      log.info("server.stopping", {});
      await running.close();
      Deno.exit(0);
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  } else {
    const port = probePort(config.hostname, config.port);
    // Check the KV store once here so a bad path is one clear line, not one per isolate.
    (await openStore(config)).close();
    await runWorkers(n, port, config.appOrigin);
  }
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}
