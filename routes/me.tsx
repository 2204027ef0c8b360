/**
 * /me: the "Me" tab (我): who is logged in, and the way to everything about the account —
 * profile, settings, devices, blocked people, feedback, language and logging out. On phones it is
 * the one place these live (the top bar's links are for wide screens).
 */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { pageLogin, pageUser } from "../lib/http/access.ts";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import { page } from "./_render.tsx";
import { Avatar } from "../components/Avatar.tsx";
import { userCard } from "../lib/chat/conv_list.ts";

export const mePage = new Hono<Env>();

mePage.get("/", pageLogin, (c) => {
  const user = pageUser(c);
  const l = c.var.locale;
  const other: Locale = l === "en" ? "zh-CN" : "en";
  return page(
    c,
    t(l, "me.title"),
    <section class="narrow stack me-page">
      <h1>{t(l, "me.title")}</h1>
      <a class="card me-card" href="/settings" data-testid="me-card">
        <Avatar user={userCard(user)} size={72} />
        <span class="me-card-text">
          <strong class="me-card-name">{user.nickname}</strong>
          <span class="muted">{t(l, "me.handle", { id: user.username })}</span>
        </span>
      </a>
      <nav class="card menu" aria-label={t(l, "me.menu")}>
        <a href={`/u/${user.username}`}>{t(l, "profile.view")}</a>
        <a href="/settings" data-testid="me-settings">{t(l, "nav.settings")}</a>
        <a href="/settings#sessions" data-testid="me-devices">{t(l, "settings.sessions")}</a>
        <a href="/contacts/blocked" data-testid="me-blocked">{t(l, "blocked.title")}</a>
        <a href="/feedback" data-testid="me-feedback">{t(l, "nav.feedback")}</a>
      </nav>
      <form method="post" action="/lang" class="card menu">
        <input type="hidden" name="lang" value={other} />
        <input type="hidden" name="back" value="/me" />
        <button type="submit" class="menu-row" data-testid="me-lang">
          <span>{t(l, "lang.label")}</span>
          <span class="muted" lang={other}>{t(l, "lang.switch")}</span>
        </button>
      </form>
      <form method="post" action="/logout">
        <button type="submit" class="button danger wide" data-testid="me-logout">
          {t(l, "nav.logout")}
        </button>
      </form>
    </section>,
  );
});
