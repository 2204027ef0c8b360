/** /u/:username: a person's profile card, with what one can do with them (add, remark, block). */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { pageLogin, pageUser } from "../lib/http/access.ts";
import { t } from "../lib/i18n/i18n.ts";
import { page } from "./_render.tsx";
import { Island } from "../components/Island.tsx";
import FriendActions from "../islands/FriendActions.tsx";
import { relationTo } from "../lib/social/contacts.ts";
import { userCard } from "../lib/chat/conv_list.ts";
import { findUserByUsername, toPublic } from "../lib/accounts/users.ts";
import { HttpError } from "../lib/errors.ts";

export const profilePage = new Hono<Env>();

profilePage.get("/:username", pageLogin, async (c) => {
  const me = pageUser(c);
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
