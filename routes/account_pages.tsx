/** Pages for logged-in users: home, settings, profile cards, feedback; and the dev outbox. */
import { Hono } from "hono";
import type { Ctx, Env } from "../lib/http/state.ts";
import { t } from "../lib/i18n/i18n.ts";
import { page } from "../lib/http/render.tsx";
import { Island } from "../components/Island.tsx";
import ApiForm from "../islands/ApiForm.tsx";
import AvatarUpload from "../islands/AvatarUpload.tsx";
import SessionList from "../islands/SessionList.tsx";
import FriendActions from "../islands/FriendActions.tsx";
import { relationTo } from "../lib/social/contacts.ts";
import { userCard } from "../lib/chat/conv_list.ts";
import { findUserByUsername, toPublic, type User } from "../lib/accounts/users.ts";
import { HttpError } from "../lib/errors.ts";
import { isLocalRequest } from "../lib/http/security.ts";
import { listOutbox } from "../lib/mail/mail.ts";
import { GENDERS, LIMITS } from "../lib/wire/validate.ts";

export const accountPages = new Hono<Env>();

function loggedIn(c: Ctx): User | Response {
  return c.var.user ?? c.redirect(`/login`, 303);
}

accountPages.get("/settings", (c) => {
  const user = loggedIn(c);
  if (user instanceof Response) return user;
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
        <Island
          of={ApiForm}
          props={{
            locale: l,
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
          }}
        />
      </section>
      <section>
        <h2>{t(l, "settings.password")}</h2>
        <Island
          of={ApiForm}
          props={{
            locale: l,
            name: "password",
            action: "/api/auth/password",
            submit: "settings.save",
            done: "settings.passwordDone",
            fields: [
              {
                name: "current",
                label: "field.currentPassword",
                type: "password",
                autocomplete: "current-password",
                required: true,
              },
              {
                name: "password",
                label: "field.newPassword",
                type: "password",
                autocomplete: "new-password",
                required: true,
                hint: "hint.password",
              },
            ],
          }}
        />
      </section>
      <section>
        <h2>{t(l, "settings.sessions")}</h2>
        <Island of={SessionList} props={{ locale: l }} />
      </section>
      <nav class="card menu" aria-label={t(l, "settings.more")}>
        <a href={`/u/${user.username}`}>{t(l, "profile.view")}</a>
        <a href="/feedback">{t(l, "nav.feedback")}</a>
      </nav>
    </div>,
  );
});

accountPages.get("/u/:username", async (c) => {
  const me = loggedIn(c);
  if (me instanceof Response) return me;
  const l = c.var.locale;
  const u = await findUserByUsername(c.var.deps.kv, c.req.param("username"));
  if (!u || !u.activatedAt) throw new HttpError(404, "not_found", t(l, "profile.notFound"));
  const p = toPublic(u);
  const initial = await relationTo(c.var.deps.kv, me.id, u);
  return page(
    c,
    initial.friend?.remark || p.nickname,
    <section class="card narrow profile" data-testid="profile-card">
      <Island
        of={FriendActions}
        props={{ locale: l, me: userCard(me), user: userCard(u), initial }}
      />
      <dl>
        {p.gender !== "unspecified" && (
          <>
            <dt>{t(l, "field.gender")}</dt>
            <dd>{t(l, `gender.${p.gender}`)}</dd>
          </>
        )}
        {p.region && (
          <>
            <dt>{t(l, "field.region")}</dt>
            <dd>{p.region}</dd>
          </>
        )}
        {p.bio && (
          <>
            <dt>{t(l, "field.bio")}</dt>
            <dd class="pre">{p.bio}</dd>
          </>
        )}
        {p.website && (
          <>
            <dt>{t(l, "field.website")}</dt>
            <dd>
              <a href={p.website} rel="nofollow noopener noreferrer" target="_blank">{p.website}</a>
            </dd>
          </>
        )}
      </dl>
    </section>,
  );
});

accountPages.get("/feedback", (c) => {
  const user = loggedIn(c);
  if (user instanceof Response) return user;
  const l = c.var.locale;
  return page(
    c,
    t(l, "feedback.title"),
    <section class="narrow">
      <h1>{t(l, "feedback.title")}</h1>
      <p>{t(l, "feedback.intro")}</p>
      <Island
        of={ApiForm}
        props={{
          locale: l,
          name: "feedback",
          action: "/api/me/feedback",
          submit: "feedback.submit",
          done: "feedback.done",
          fields: [{
            name: "message",
            label: "field.message",
            type: "textarea",
            required: true,
            maxLength: LIMITS.feedback,
          }],
        }}
      />
    </section>,
  );
});

const LINK_RE = /(https?:\/\/[^\s<>"]+)/g;

/** Mail text with its links clickable; everything else stays text. */
function Linkified({ text }: { text: string }) {
  return (
    <>
      {text.split(LINK_RE).map((part, i) =>
        i % 2 ? <a key={i} href={part} data-testid="outbox-link">{part}</a> : part
      )}
    </>
  );
}

accountPages.get("/dev/outbox", async (c) => {
  const { devOutbox, devOutboxAnyClient } = c.var.deps.config;
  // The outbox holds live activation links: by default only this machine may read it.
  if (!devOutbox || (!devOutboxAnyClient && !isLocalRequest(c))) {
    throw new HttpError(404, "not_found", "Not found");
  }
  const l = c.var.locale;
  const mails = await listOutbox(c.var.deps.kv);
  return page(
    c,
    t(l, "outbox.title"),
    <section class="stack">
      <h1>{t(l, "outbox.title")}</h1>
      <p class="muted">{t(l, "outbox.intro")}</p>
      {mails.length === 0 && <p>{t(l, "outbox.empty")}</p>}
      {mails.map((m) => (
        <article class="card mail" data-testid="outbox-mail" data-to={m.to}>
          <header>
            <strong>{m.subject}</strong>
            <div class="muted">→ {m.to} · {new Date(m.sentAt).toISOString()}</div>
          </header>
          <p class="pre">
            <Linkified text={m.text} />
          </p>
        </article>
      ))}
    </section>,
  );
});
