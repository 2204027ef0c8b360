/**
 * Who may use a route, in one place: requireUser() for the API (401), pageLogin for pages that
 * need an account (a visitor is sent to the login page), guestPage for the login and sign-up
 * forms (someone logged in is sent home).
 */
import { createMiddleware } from "hono/factory";
import { HttpError } from "../errors.ts";
import type { User } from "../accounts/users.ts";
import type { Ctx, Env } from "./state.ts";

/** The user of a logged-in API request, or 401. */
export function requireUser(c: Ctx) {
  const user = c.var.user;
  const session = c.var.session;
  if (!user || !session) throw new HttpError(401, "unauthorized", "Log in first");
  return { user, session };
}

/**
 * Per route: `r.get("/", pageLogin, (c) => … pageUser(c) …)`; a visitor gets 303 to /login, which
 * brings them back here afterwards.
 */
export const pageLogin = createMiddleware<Env>(async (c, next) => {
  if (!c.var.user) {
    // Back to this page after logging in (in the fragment: the server never reads it back).
    const url = new URL(c.req.url);
    return c.redirect(`/login#next=${encodeURIComponent(url.pathname + url.search)}`, 303);
  }
  await next();
});

/** The user of a page behind pageLogin. */
export function pageUser(c: Ctx): User {
  // Only a route that forgot pageLogin gets here without a user: a programming error (500).
  if (!c.var.user) throw new Error(`Page "${c.req.path}" reads the user without pageLogin`);
  return c.var.user;
}

/** Per route: pages for people who are not logged in send logged-in people home. */
export const guestPage = createMiddleware<Env>(async (c, next) => {
  if (c.var.user) return c.redirect("/", 303);
  await next();
});
