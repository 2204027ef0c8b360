/** Security headers on every response and the cross-site request check for every state change. */
import type { MiddlewareHandler } from "hono";
import { base64url } from "../ids.ts";
import { HttpError } from "../errors.ts";
import { isLoopbackOrigin } from "./config.ts";
import type { Ctx, Env } from "./state.ts";

/**
 * True when an Origin header is exactly one of the allowed origins: the one check behind the
 * CSRF guard and the /ws upgrade. Exact string equality on purpose: browsers send the origin
 * serialized (lowercase host, no default port, no path), so anything that only looks like it
 * ("https://chat.example.com.evil.example", "https://evil.chat.example.com", other scheme or
 * port, "null") is another site.
 */
export function isAllowedOrigin(appOrigin: string, origin: string): boolean {
  return allowedOrigins(appOrigin).has(origin);
}

/** The origins a browser may send state changes (and WebSocket upgrades) from. */
function allowedOrigins(appOrigin: string): Set<string> {
  const set = new Set([appOrigin]);
  // In local development the same server is reached as localhost, 127.0.0.1 and [::1].
  if (isLoopbackOrigin(appOrigin)) {
    const u = new URL(appOrigin);
    for (const host of ["localhost", "127.0.0.1", "[::1]"]) {
      set.add(`${u.protocol}//${host}${u.port ? ":" + u.port : ""}`);
    }
  }
  return set;
}

export function contentSecurityPolicy(nonce: string, appOrigin: string): string {
  const ws = appOrigin.replace(/^http/, "ws");
  return [
    "default-src 'self'",
    `script-src 'nonce-${nonce}' 'strict-dynamic' 'self'`,
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self' ${ws}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "manifest-src 'self'",
    "worker-src 'self'",
  ].join("; ");
}

/**
 * Sets a fresh nonce for the request and the security headers on its response, including
 * `Cache-Control: no-store` unless the route chose its own.
 */
export function securityHeaders(): MiddlewareHandler<Env> {
  return async (c, next) => {
    const nonce = base64url(crypto.getRandomValues(new Uint8Array(16)));
    c.set("nonce", nonce);
    await next();
    if (c.res.status === 101) return; // WebSocket upgrade: headers are fixed
    const h = c.res.headers;
    // Answers are per user (API data, pages with names, chats and counts, each with its own CSP
    // nonce): no cache may keep one. Files that are the same for everyone set their own rule.
    if (!h.has("Cache-Control")) h.set("Cache-Control", "no-store");
    if (!h.has("Content-Security-Policy")) {
      h.set("Content-Security-Policy", contentSecurityPolicy(nonce, c.var.deps.config.appOrigin));
    }
    h.set("X-Content-Type-Options", "nosniff");
    h.set("Referrer-Policy", "strict-origin-when-cross-origin");
    h.set("X-Frame-Options", "DENY");
    h.set("Cross-Origin-Opener-Policy", "same-origin");
    h.set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
    if (c.var.deps.config.appOrigin.startsWith("https:")) {
      h.set("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    }
  };
}

const LOOPBACK_IP = /^(127\.|::1$|::ffff:127\.)/;

/**
 * True when the request comes from this machine. Without TRUST_PROXY a forwarded request never
 * counts (a proxy on the same host makes every request look local); with it, the address is the
 * one the proxy saw.
 */
export function isLocalRequest(c: Ctx): boolean {
  if (!LOOPBACK_IP.test(c.var.ip)) return false;
  return c.var.deps.config.trustProxy ||
    (!c.req.header("X-Forwarded-For") && !c.req.header("Forwarded"));
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Refuses a state-changing request that a browser sent from another site. Browsers send Origin
 * on every cross-site POST and Sec-Fetch-Site everywhere current; requests with neither come
 * from non-browser clients, which cannot ride on a user's cookies.
 */
export function csrfGuard(): MiddlewareHandler<Env> {
  return async (c, next) => {
    if (!SAFE_METHODS.has(c.req.method)) {
      const origin = c.req.header("Origin");
      const site = c.req.header("Sec-Fetch-Site");
      const bad = origin
        ? !isAllowedOrigin(c.var.deps.config.appOrigin, origin)
        : site
        ? !(site === "same-origin" || site === "none")
        : false;
      if (bad) throw new HttpError(403, "csrf", "Cross-site request refused");
    }
    await next();
  };
}
