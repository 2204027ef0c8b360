/** Group pages: new group, group info and admin (/g/:id), find public groups, invite landing (/join). */
import { Hono } from "hono";
import type { Ctx, Env } from "../lib/http/state.ts";
import { t } from "../lib/i18n/i18n.ts";
import { page } from "../lib/http/render.tsx";
import { Island } from "../components/Island.tsx";
import { HttpError } from "../lib/errors.ts";
import { listFriends } from "../lib/social/friends.ts";
import { TITLE_MAX } from "../lib/groups/groups.ts";
import { viewGroup } from "../lib/groups/view.ts";
import { userCard } from "../lib/chat/conv_list.ts";
import type { User } from "../lib/accounts/users.ts";
import GroupCreate from "../islands/GroupCreate.tsx";
import GroupFind from "../islands/GroupFind.tsx";
import GroupInfo from "../islands/GroupInfo.tsx";
import GroupJoin from "../islands/GroupJoin.tsx";

export const groupPages = new Hono<Env>();

function loggedIn(c: Ctx): User | Response {
  return c.var.user ?? c.redirect("/login", 303);
}

/** A back link to the chats, for pages that leave the chat screen. */
function Back({ href, label }: { href: string; label: string }) {
  return <a class="group-back" href={href}>‹ {label}</a>;
}

groupPages.get("/g/new", async (c) => {
  const user = loggedIn(c);
  if (user instanceof Response) return user;
  const l = c.var.locale;
  const friends = await listFriends(c.var.deps.kv, user.id);
  return page(
    c,
    t(l, "group.createTitle"),
    <div class="narrow stack">
      <Back href="/" label={t(l, "nav.chats")} />
      <h1>{t(l, "group.createTitle")}</h1>
      <Island of={GroupCreate} props={{ locale: l, friends, titleMax: TITLE_MAX }} />
    </div>,
  );
});

groupPages.get("/g/:id", async (c) => {
  const user = loggedIn(c);
  if (user instanceof Response) return user;
  const l = c.var.locale;
  const id = c.req.param("id");
  if (!/^[0-9a-z]{1,40}$/.test(id)) throw new HttpError(404, "not_found", t(l, "err.not_found"));
  // Members get the whole group, others a public group's card; a private group shows as unknown
  // (the page then offers to ask to join, as the API does not tell private from missing).
  const initial = await viewGroup(c.var.deps.rt, id, user.id).catch((err) => {
    if (err instanceof HttpError && err.status === 404) return null;
    throw err;
  });
  // The viewer's remarks for friends, so that names are right from the first paint.
  const remarks: Record<string, string> = {};
  if (initial) {
    for (const f of await listFriends(c.var.deps.kv, user.id)) {
      if (f.remark) remarks[f.user.id] = f.remark;
    }
  }
  return page(
    c,
    initial?.title ?? t(l, "group.info"),
    <div class="narrow stack">
      <Back href={`/?c=${id}`} label={t(l, "nav.chats")} />
      <Island of={GroupInfo} props={{ locale: l, id, me: userCard(user), initial, remarks }} />
    </div>,
  );
});

groupPages.get("/groups/find", (c) => {
  const user = loggedIn(c);
  if (user instanceof Response) return user;
  const l = c.var.locale;
  return page(
    c,
    t(l, "group.findTitle"),
    <div class="narrow stack">
      <Back href="/" label={t(l, "nav.chats")} />
      <h1>{t(l, "group.findTitle")}</h1>
      <Island of={GroupFind} props={{ locale: l, q: (c.req.query("q") ?? "").slice(0, 64) }} />
    </div>,
  );
});

groupPages.get("/join", (c) => {
  const l = c.var.locale;
  return page(
    c,
    t(l, "group.joinTitle"),
    <div class="narrow stack">
      <h1>{t(l, "group.joinTitle")}</h1>
      <Island of={GroupJoin} props={{ locale: l, loggedIn: !!c.var.user }} />
    </div>,
  );
});
