/** GET /ws: the WebSocket upgrade. Logged-in sessions only, exact Origin allowlist, checked before upgrading. */
import { Hono } from "hono";
import { getConnInfo } from "hono/deno";
import type { Env } from "../lib/http/state.ts";
import { HttpError } from "../lib/errors.ts";
import { isAllowedOrigin } from "../lib/http/security.ts";
import { Conn, LIMITS_WS } from "../lib/realtime/conn.ts";
import { socketClosed, socketOpened } from "../lib/http/metrics.ts";

export const MAX_SOCKETS_PER_USER = 10;

export const wsRoutes = new Hono<Env>();

wsRoutes.get("/", (c) => {
  const { config, rt } = c.var.deps;
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new HttpError(426, "upgrade_required", "Expected a WebSocket upgrade");
  }
  const origin = c.req.header("Origin");
  if (!origin || !isAllowedOrigin(config.appOrigin, origin)) {
    throw new HttpError(403, "csrf", "Origin not allowed");
  }
  const user = c.var.user;
  const session = c.var.session;
  if (!user || !session) throw new HttpError(401, "unauthorized", "Log in first");
  if (rt.hub.socketsOf(user.id) >= MAX_SOCKETS_PER_USER) {
    throw new HttpError(429, "too_many_sockets", "Too many open connections");
  }
  const { socket, response } = Deno.upgradeWebSocket(c.req.raw, {
    idleTimeout: LIMITS_WS.pingIdleSec,
  });
  // Through the guard, the remote port is the relay's own: the guard can cut that connection.
  const guard = c.var.deps.guard;
  const relayPort = guard ? getConnInfo(c).remote.port : undefined;
  const release = guard && relayPort ? () => guard.release(relayPort) : undefined;
  const conn = new Conn(socket, user, session.id, c.var.locale, { ...rt.connDeps(), release });
  socket.onopen = () => {
    socketOpened();
    rt.conns.add(conn);
    socket.addEventListener("close", () => {
      socketClosed();
      rt.conns.delete(conn);
    });
  };
  conn.attach();
  return response;
});
