/** /g/new: make a group; /g/:id: a group's info and admin page (or a card to join it). */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { pageLogin, pageUser } from "../lib/http/access.ts";
import { t } from "../lib/i18n/i18n.ts";
import { page } from "./_render.tsx";
import { Back } from "../components/Back.tsx";
import { Island } from "../components/Island.tsx";
import { HttpError } from "../lib/errors.ts";
import { listFriends } from "../lib/social/friends.ts";
import { TITLE_MAX } from "../lib/groups/groups.ts";
import { viewGroup } from "../lib/groups/view.ts";
import { userCard } from "../lib/chat/conv_list.ts";
import GroupCreate from "../islands/GroupCreate.tsx";
import GroupInfo from "../islands/GroupInfo.tsx";

export const groupPages = new Hono<Env>();

// Before "/:id": "new" is not a group id.
groupPages.get("/new", pageLogin, async (c) => {
  const user = pageUser(c);
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

groupPages.get("/:id", pageLogin, async (c) => {
  const user = pageUser(c);
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
