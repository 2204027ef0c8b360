/**
 * Builds the Hono app: the middleware every request goes through, the one error mapping, and
 * the routes it is given. It imports no route: routes/mod.ts lists them and calls createApp(), so
 * the HTTP shell stays below the pages it serves (docs/architecture.md "Layers").
 */
import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { getConnInfo } from "hono/deno";
import { HttpError } from "../errors.ts";
import { fromAcceptLanguage, hasMessage, type Locale, t, toLocale } from "../i18n/i18n.ts";
import { csrfGuard, securityHeaders } from "./security.ts";
import { bodyLimits } from "./body.ts";
import { compress } from "./compress.ts";
import { getSession } from "../accounts/sessions.ts";
import { getUser } from "../accounts/users.ts";
import { observeRequest } from "./metrics.ts";
import { log } from "../log.ts";
import { readSessionCookie, setSessionCookie } from "./cookies.ts";
import type { Ctx, Deps, Env } from "./state.ts";
import { countIncoming } from "../social/friends.ts";
import { listUserConvs } from "../chat/conversations.ts";
import { unreadParts } from "../chat/conv_list.ts";
import { mutedConvs } from "../push/devices.ts";
import { unreadTotal } from "../wire/protocol.ts";

/** The unread messages of a user's conversations, muted ones aside (the "Chats" tab's badge). */
async function unreadOfUser(kv: Deno.Kv, userId: string): Promise<number> {
  const [entries, muted] = await Promise.all([listUserConvs(kv, userId), mutedConvs(kv, userId)]);
  return unreadTotal(await unreadParts(kv, userId, entries), new Set(muted));
}

/**
 * The client address: the socket's, or with TRUST_PROXY the last X-Forwarded-For hop, the one
 * our proxy appended. Earlier hops come from the client and can be forged (e.g. "127.0.0.1").
 */
function clientIp(c: Ctx): string {
  if (c.var.deps.config.trustProxy) {
    const fwd = c.req.header("X-Forwarded-For")?.split(",").at(-1)?.trim();
    if (fwd) return fwd;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}

function pickLocale(c: Ctx): Locale {
  return toLocale(getCookie(c, "lang")) ?? fromAcceptLanguage(c.req.header("Accept-Language")) ??
    "en";
}

function isApi(c: Ctx): boolean {
  return new URL(c.req.url).pathname.startsWith("/api/");
}

/** A GET that renders a page (not the API, files, bundles or the socket). */
function isPage(c: Ctx): boolean {
  const path = new URL(c.req.url).pathname;
  return !/^\/(api|static|_build|avatars|media|ws|healthz|metrics|sw\.js|manifest\.webmanifest)(\/|$)/
    .test(path);
}

/** Renders the HTML error page (routes/_error.tsx). */
export type ErrorPage = (c: Ctx, status: number, message: string) => Response;

/** What createApp() serves: each router at its own prefix (none shared), and the error page. */
export interface AppRoutes {
  mounts: readonly (readonly [prefix: string, routes: Hono<Env>])[];
  errorPage: ErrorPage;
}

/** Maps any error to a response: JSON for /api, an HTML page otherwise. */
function toErrorResponse(c: Ctx, err: unknown, errorPage: ErrorPage): Response {
  const e = err instanceof HttpError ? err : new HttpError(500, "internal", "Internal error");
  if (!(err instanceof HttpError)) {
    log.error("http.unhandled", { path: new URL(c.req.url).pathname, err });
  }
  const message = hasMessage(`err.${e.code}`)
    ? t(c.var.locale ?? "en", `err.${e.code}` as never, e.extra.params)
    : e.message;
  const headers: Record<string, string> = {};
  if (e.extra.retryAfter) headers["Retry-After"] = String(e.extra.retryAfter);
  if (isApi(c)) {
    return c.json(
      { error: { code: e.code, message, field: e.extra.field, retryAfter: e.extra.retryAfter } },
      e.status as 400,
      headers,
    );
  }
  const res = errorPage(c, e.status, message);
  for (const [k, v] of Object.entries(headers)) res.headers.set(k, v);
  return res;
}

export function createApp(deps: Deps, routes: AppRoutes): Hono<Env> {
  const app = new Hono<Env>();

  app.use(async (c, next) => {
    const start = performance.now();
    c.set("deps", deps);
    c.set("locale", pickLocale(c));
    c.set("ip", clientIp(c));
    c.set("user", null);
    c.set("session", null);
    await next();
    observeRequest(
      c.req.method,
      c.req.routePath || "unmatched",
      c.res.status,
      (performance.now() - start) / 1000,
    );
  });
  // Outside the rest, so it sees every answer with its final headers (errors too).
  app.use(compress());
  app.use(securityHeaders());
  // Before the session lookup and the CSRF check: an oversized body costs nothing else.
  app.use(bodyLimits());
  app.use(async (c, next) => {
    const token = readSessionCookie(c, deps.config);
    if (token) {
      const session = await getSession(deps.kv, token, deps.now?.());
      const user = session ? await getUser(deps.kv, session.userId) : null;
      if (session && user) {
        c.set("session", session);
        c.set("user", user);
        // The server extends an active session; the cookie's lifetime follows it.
        if (session.refreshed && c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
          setSessionCookie(c, deps.config, token);
        }
      }
    }
    await next();
  });
  app.use(csrfGuard());
  // Pages show the friend requests waiting (on "Contacts" in the header and the tab bar) and the
  // unread messages (on the "Chats" tab). The chat screen counts its own from the list it loads.
  app.use(async (c, next) => {
    const user = c.var.user;
    c.set("friendRequests", 0);
    c.set("unread", 0);
    if (user && c.req.method === "GET" && isPage(c)) {
      const home = new URL(c.req.url).pathname === "/";
      const [requests, unread] = await Promise.all([
        countIncoming(deps.kv, user.id),
        home ? 0 : unreadOfUser(deps.kv, user.id),
      ]);
      c.set("friendRequests", requests);
      c.set("unread", unread);
    }
    await next();
  });

  for (const [prefix, router] of routes.mounts) app.route(prefix, router);

  app.notFound((c) =>
    toErrorResponse(c, new HttpError(404, "not_found", "Not found"), routes.errorPage)
  );
  app.onError((err, c) => toErrorResponse(c, err, routes.errorPage));
  return app;
}
