/**
 * One guard thread (lib/http/guard/pool.ts starts them): a ConnGuard with its share of the limits,
 * on its own listener of the public port, publishing each link's client in the shared table.
 */
import { ClientTable } from "./clients.ts";
import { ConnGuard } from "./guard.ts";
import type { GuardLimits } from "./limits.ts";
import type { ToGuardThread } from "./pool.ts";
import { log, setLogLevel, setLogSink } from "../../log.ts";

declare const self: Worker & {
  onunhandledrejection: ((e: PromiseRejectionEvent) => void) | null;
};

let guard: ConnGuard | null = null;

self.onmessage = async (e: MessageEvent<ToGuardThread>) => {
  const m = e.data;
  switch (m.type) {
    case "start": {
      setLogLevel(m.logLevel);
      // Lines go to the app's thread, which writes them where its own go.
      setLogSink((line, level) => self.postMessage({ type: "log", line, level }));
      guard = new ConnGuard(m.limits as GuardLimits, Date.now, {
        table: new ClientTable(m.table),
        owner: m.owner,
      });
      guard.setUpstream(m.upstream);
      try {
        const addr = guard.listen(m.listen);
        self.postMessage({ type: "listening", addr: { hostname: addr.hostname, port: addr.port } });
      } catch (err) {
        const { name, message } = err as Error;
        self.postMessage({ type: "failed", name, message });
      }
      return;
    }
    case "upstream":
      return guard?.setUpstream(m.upstream);
    case "release":
      return guard?.release(m.port);
    case "stats":
      return self.postMessage({ type: "stats", stats: guard?.stats() ?? null });
    case "stop":
      await guard?.stopAccepting();
      return self.postMessage({ type: "stopped" });
    case "close":
      guard?.closeAll();
      return self.postMessage({ type: "closed" });
  }
};

self.onunhandledrejection = (e) => {
  e.preventDefault();
  log.error("guard.unhandled", { err: e.reason });
};
