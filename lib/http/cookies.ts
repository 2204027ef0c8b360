/**
 * The session cookie: HttpOnly, SameSite=Lax, and Secure with the __Host- prefix over https.
 * The language cookie: SameSite=Lax, Secure over https (readable by pages, so not HttpOnly).
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Config } from "./config.ts";
import { SESSION_IDLE_MS } from "../accounts/sessions.ts";

const NAME = "hc_session";

function secureOf(config: Config) {
  const secure = config.appOrigin.startsWith("https:");
  return { secure, prefix: secure ? "host" as const : undefined };
}

/** The session token from the request's cookie, if any. */
export function readSessionCookie(c: Context, config: Config): string | undefined {
  const { prefix } = secureOf(config);
  return prefix ? getCookie(c, NAME, prefix) : getCookie(c, NAME);
}

export function setSessionCookie(c: Context, config: Config, token: string): void {
  const { secure, prefix } = secureOf(config);
  setCookie(c, NAME, token, {
    httpOnly: true,
    sameSite: "Lax",
    secure,
    path: "/",
    maxAge: Math.floor(SESSION_IDLE_MS / 1000),
    prefix,
  });
}

export function clearSessionCookie(c: Context, config: Config): void {
  const { secure, prefix } = secureOf(config);
  deleteCookie(c, NAME, { path: "/", secure, prefix });
}

/** Remembers the chosen language for a year. */
export function setLangCookie(c: Context, config: Config, locale: string): void {
  setCookie(c, "lang", locale, {
    path: "/",
    maxAge: 365 * 24 * 3600,
    sameSite: "Lax",
    secure: secureOf(config).secure,
  });
}
