/**
 * One serving isolate when main.ts runs several (one per core), all on one port with SO_REUSEPORT.
 * At the top beside main.ts, as the other entry point: it assembles the app from routes/mod.ts.
 */
import { loadConfig } from "./lib/http/config.ts";
import { type Running, startServer } from "./lib/http/server.ts";
import { log, setLogLevel } from "./lib/log.ts";
import { buildApp } from "./routes/mod.ts";

declare const self: Worker & { name: string; close(): void };

let running: Running | null = null;

self.onmessage = async (
  e: MessageEvent<{ type: "start"; port: number; logLevel?: string } | { type: "stop" }>,
) => {
  const msg = e.data;
  if (msg.type === "start") {
    try {
      const lvl = msg.logLevel;
      if (lvl === "debug" || lvl === "info" || lvl === "warn" || lvl === "error") setLogLevel(lvl);
      const config = loadConfig();
      config.port = msg.port;
      running = await startServer(config, { app: buildApp, reusePort: true });
      self.postMessage({ type: "ready", name: self.name });
    } catch (err) {
      self.postMessage({ type: "failed", message: (err as Error).message });
    }
  } else if (msg.type === "stop") {
    try {
      await running?.close();
    } catch (err) {
      log.warn("worker.stop_failed", { err });
    }
    self.postMessage({ type: "stopped" });
  }
};
