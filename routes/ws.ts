/**
 * GET /ws: the WebSocket upgrade. Logged-in sessions with an exact Origin allowlist, or a bot's
 * token in the Authorization header, checked before upgrading.
 */
import { Hono } from "hono";
import { getConnInfo } from "hono/deno";
import type { Env } from "../lib/http/state.ts";
import { HttpError } from "../lib/errors.ts";
import { isAllowedOrigin } from "../lib/http/security.ts";
import { Conn, LIMITS_WS } from "../lib/realtime/conn.ts";
import { socketClosed, socketOpened } from "../lib/http/metrics.ts";
import { bearerToken, botByToken } from "../lib/bots/bots.ts";

export const MAX_SOCKETS_PER_USER = 10;

export const wsRoutes = new Hono<Env>();

wsRoutes.get("/", async (c) => {
  const { config, rt } = c.var.deps;
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new HttpError(426, "upgrade_required", "Expected a WebSocket upgrade");
  }
  // A bot signs in with its token (docs/bots.md). A page cannot set this header on a WebSocket,
  // so no Origin is needed: no cookie rides along for a forged page to use.
  const token = bearerToken(c.req.header("Authorization"));
  let user = c.var.user;
  let sessionId = c.var.session?.id;
  if (token !== null) {
    user = await botByToken(c.var.deps.kv, token);
    sessionId = "bot";
    if (!user) throw new HttpError(401, "unauthorized", "Unknown or revoked bot token");
  } else {
    const origin = c.req.header("Origin");
    if (!origin || !isAllowedOrigin(config.appOrigin, origin)) {
      throw new HttpError(403, "csrf", "Origin not allowed");
    }
  }
  if (!user || !sessionId) throw new HttpError(401, "unauthorized", "Log in first");
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
  const conn = new Conn(socket, user, sessionId, c.var.locale, { ...rt.connDeps(), release });
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
