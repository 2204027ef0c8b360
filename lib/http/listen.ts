/**
 * Puts the app on the network: through the connection guard (Deno.serve on loopback behind it)
 * or, with CONN_GUARD=0, Deno.serve on the public address. Deno.serve's accept loop ends for good
 * on an error such as EMFILE; then a new one is started, so the process never stops serving.
 */
import type { Config } from "./config.ts";
import type { GuardPool } from "./guard/pool.ts";
import { log } from "../log.ts";

type Handler = (
  req: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

export interface Listening {
  port: number;
  /** Resolves when serving has stopped after `signal` aborted. */
  finished(): Promise<void>;
}

const RETRY_MS = 250;

/** Runs Deno.serve with `options` again whenever its loop fails; `onServe` sees each new one. */
function resilientServe(
  options: Deno.ServeTcpOptions,
  handler: Handler,
  signal: AbortSignal,
  onServe: (s: Deno.HttpServer<Deno.NetAddr>) => void,
): Deno.HttpServer<Deno.NetAddr> {
  const server = Deno.serve({ ...options, signal, onListen() {} }, handler);
  onServe(server);
  server.finished.catch((err) => {
    if (signal.aborted) return;
    log.error("server.loop_failed", { err, hint: "serving again" });
    const again = () => {
      if (signal.aborted) return;
      try {
        resilientServe(options, handler, signal, onServe);
      } catch (e) {
        log.warn("server.restart_failed", { err: e });
        setTimeout(again, RETRY_MS);
      }
    };
    setTimeout(again, RETRY_MS);
  });
  return server;
}

/** Serves `fetch`; throws Deno's own errors (AddrInUse, PermissionDenied) for the caller to word. */
export async function listen(
  fetch: Handler,
  config: Config,
  guard: GuardPool | null,
  opts: { reusePort?: boolean; signal: AbortSignal },
): Promise<Listening> {
  let current: Deno.HttpServer<Deno.NetAddr>;
  const track = (s: Deno.HttpServer<Deno.NetAddr>) => current = s;
  if (!guard) {
    // The same port again after a failure: the failed loop's listener is gone with it.
    const first = resilientServe(
      { port: config.port, hostname: config.hostname, reusePort: opts.reusePort },
      fetch,
      opts.signal,
      track,
    );
    const port = first.addr.port;
    return { port, finished: () => serverDone(current) };
  }
  // Deno.serve listens on loopback only; the guard's threads face clients and tell which one each
  // relayed connection is for (by the relay's local port). A connection that did not come through
  // the guard is refused, so nothing can skip its limits or claim an address.
  const inner: Handler = (req, info) => {
    const client = guard.clientOf(info.remoteAddr.port);
    if (!client) {
      // Only a program on this machine that found the loopback port can get here.
      log.warn("guard.unknown_link", { port: info.remoteAddr.port });
      return new Response("Connect through the public port\n", { status: 403 });
    }
    return fetch(req, { ...info, remoteAddr: { ...info.remoteAddr, hostname: client } });
  };
  const first = resilientServe({ port: 0, hostname: "127.0.0.1" }, inner, opts.signal, (s) => {
    track(s);
    guard.setUpstream({ hostname: "127.0.0.1", port: s.addr.port });
  });
  const addr = await guard.listen({
    port: config.port,
    hostname: config.hostname,
    reusePort: opts.reusePort,
  });
  void first;
  return { port: addr.port, finished: () => serverDone(current) };
}

/** Resolves when the serve loop ends; a loop that failed was logged by resilientServe already. */
function serverDone(s: Deno.HttpServer<Deno.NetAddr>): Promise<void> {
  return s.finished.catch((err) => log.debug("server.loop_ended", { err }));
}
