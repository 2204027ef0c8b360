/**
 * The app, assembled: every URL space and the file that serves it. main.ts and worker.ts pass
 * buildApp to startServer (lib/http/server.ts).
 *
 * Why here and not in lib/http/: the HTTP shell (middleware, errors, sessions, serving) sits below
 * the pages, and a lower layer never imports a higher one (tests/layers_test.ts). So
 * lib/http/app.ts takes the routes as a parameter, and this file, at the top with the routes,
 * hands them over.
 *
 * One file per URL space, named by its URL (the folders follow the path), each mounted at its own
 * prefix. No two mounts share a URL, so their order does not matter (tests/routes_test.ts checks
 * it). Files starting with "_" are not routes: helpers for the files next to them.
 */
import type { Hono } from "hono";
import { createApp } from "../lib/http/app.ts";
import type { Deps, Env } from "../lib/http/state.ts";
import { errorPage } from "./_error.tsx";
import { homePage } from "./index.tsx";
import { loginPage } from "./login.tsx";
import { registerPages } from "./register.tsx";
import { activatePage } from "./activate.tsx";
import { resendPage } from "./resend.tsx";
import { forgotPage } from "./forgot.tsx";
import { resetPage } from "./reset.tsx";
import { settingsPage } from "./settings.tsx";
import { profilePage } from "./u.tsx";
import { feedbackPage } from "./feedback.tsx";
import { mePage } from "./me.tsx";
import { contactsPages } from "./contacts.tsx";
import { groupPages } from "./g.tsx";
import { groupsPages } from "./groups.tsx";
import { joinPage } from "./join.tsx";
import { outboxPage } from "./dev/outbox.tsx";
import { wsRoutes } from "./ws.ts";
import { healthz } from "./healthz.ts";
import { metrics } from "./metrics.ts";
import { bundles } from "./build.ts";
import { staticFiles } from "./static.ts";
import { avatars } from "./avatars.ts";
import { lang } from "./lang.ts";
import { logout } from "./logout.ts";
import { authApi } from "./api/auth.ts";
import { meApi } from "./api/me.ts";
import { usersApi } from "./api/users.ts";
import { friendsApi } from "./api/friends.ts";
import { blocksApi } from "./api/blocks.ts";
import { groupsApi } from "./api/groups.ts";
import { membersApi } from "./api/groups/members.ts";
import { requestsApi } from "./api/groups/requests.ts";
import { invitesApi } from "./api/groups/invites.ts";
import { inviteLinksApi } from "./api/invites.ts";
import { convsApi } from "./api/convs.ts";
import { botsApi } from "./api/bots.ts";
import { botApi } from "./api/bot.ts";
import { pushApi } from "./api/push.ts";
import { media } from "./media.ts";
import { offlinePage } from "./offline.tsx";
import { manifest } from "./manifest.ts";
import { serviceWorker } from "./sw.ts";

/** URL prefix → its routes: the pages a visitor meets, the forms, files and system, the API. */
export const MOUNTS: readonly (readonly [string, Hono<Env>])[] = [
  ["/", homePage], // exactly "/": the landing page, or the chat screen
  ["/login", loginPage],
  ["/register", registerPages],
  ["/activate", activatePage],
  ["/resend", resendPage],
  ["/forgot", forgotPage],
  ["/reset", resetPage],
  ["/settings", settingsPage],
  ["/u", profilePage],
  ["/feedback", feedbackPage],
  ["/me", mePage],
  ["/contacts", contactsPages],
  ["/g", groupPages],
  ["/groups", groupsPages],
  ["/join", joinPage],
  ["/dev/outbox", outboxPage],
  ["/lang", lang],
  ["/logout", logout],
  ["/ws", wsRoutes],
  ["/healthz", healthz],
  ["/metrics", metrics],
  ["/_build", bundles],
  ["/static", staticFiles],
  ["/offline", offlinePage],
  ["/manifest.webmanifest", manifest],
  ["/sw.js", serviceWorker],
  ["/avatars", avatars],
  ["/media", media],
  ["/api/auth", authApi],
  ["/api/me", meApi],
  ["/api/users", usersApi],
  ["/api/friends", friendsApi],
  ["/api/blocks", blocksApi],
  ["/api/groups", groupsApi],
  ["/api/groups/:id/members", membersApi],
  ["/api/groups/:id/requests", requestsApi],
  ["/api/groups/:id/invites", invitesApi],
  ["/api/invites", inviteLinksApi],
  ["/api/convs", convsApi],
  ["/api/bots", botsApi],
  ["/api/bot", botApi],
  ["/api/push", pushApi],
];

export function buildApp(deps: Deps): Hono<Env> {
  return createApp(deps, { mounts: MOUNTS, errorPage });
}
