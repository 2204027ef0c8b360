/** /settings: profile, avatar, password, and the devices logged in. */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { pageLogin, pageUser } from "../lib/http/access.ts";
import { t } from "../lib/i18n/i18n.ts";
import { page } from "./_render.tsx";
import { Island } from "../components/Island.tsx";
import { apiForm, FIELD_VARIANTS } from "./_form.tsx";
import AvatarUpload from "../islands/AvatarUpload.tsx";
import SessionList from "../islands/SessionList.tsx";
import BotSettings from "../islands/BotSettings.tsx";
import NotifySettings from "../islands/NotifySettings.tsx";
import ThemeSwitch from "../islands/ThemeSwitch.tsx";
import { getCookie } from "hono/cookie";
import { toPublic } from "../lib/accounts/users.ts";
import { GENDERS, LIMITS } from "../lib/wire/validate.ts";

export const settingsPage = new Hono<Env>();

settingsPage.get("/", pageLogin, (c) => {
  const user = pageUser(c);
  const l = c.var.locale;
  const pub = toPublic(user);
  return page(
    c,
    t(l, "settings.title"),
    <div class="stack narrow settings">
      <h1>{t(l, "settings.title")}</h1>
      <section>
        <h2>{t(l, "settings.profile")}</h2>
        <Island
          of={AvatarUpload}
          props={{ locale: l, avatarUrl: pub.avatarUrl, name: user.nickname }}
        />
        {apiForm(l, {
          name: "profile",
          action: "/api/me",
          method: "PATCH",
          submit: "settings.save",
          done: "settings.saved",
          fields: [
            {
              name: "nickname",
              label: "field.nickname",
              value: user.nickname,
              required: true,
              maxLength: LIMITS.nickname,
            },
            {
              name: "gender",
              label: "field.gender",
              type: "select",
              value: user.gender,
              options: GENDERS.map((g) => ({ value: g, label: `gender.${g}` as const })),
            },
            {
              name: "region",
              label: "field.region",
              value: user.region,
              maxLength: LIMITS.region,
            },
            {
              name: "bio",
              label: "field.bio",
              type: "textarea",
              value: user.bio,
              maxLength: LIMITS.bio,
            },
            {
              name: "website",
              label: "field.website",
              type: "url",
              value: user.website,
              maxLength: LIMITS.website,
            },
          ],
        })}
      </section>
      <section>
        <h2>{t(l, "settings.password")}</h2>
        {apiForm(l, {
          name: "password",
          action: "/api/auth/password",
          submit: "settings.save",
          done: "settings.passwordDone",
          fields: [FIELD_VARIANTS.currentPassword, FIELD_VARIANTS.newPassword],
        })}
      </section>
      <section id="sessions">
        <h2>{t(l, "settings.sessions")}</h2>
        <Island of={SessionList} props={{ locale: l }} />
      </section>
      <section>
        <h2>{t(l, "settings.theme")}</h2>
        <Island of={ThemeSwitch} props={{ locale: l, theme: themeChoice(getCookie(c, "theme")) }} />
      </section>
      <section>
        <h2>{t(l, "settings.notify")}</h2>
        <Island of={NotifySettings} props={{ locale: l }} />
      </section>
      <section>
        <h2>{t(l, "settings.bots")}</h2>
        <Island of={BotSettings} props={{ locale: l }} />
      </section>
      <nav class="card menu" aria-label={t(l, "settings.more")}>
        <a href={`/u/${user.username}`}>{t(l, "profile.view")}</a>
        <a href="/feedback">{t(l, "nav.feedback")}</a>
      </nav>
    </div>,
  );
});

function themeChoice(v: string | undefined): "system" | "light" | "dark" {
  return v === "light" || v === "dark" ? v : "system";
}
