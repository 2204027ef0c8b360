/**
 * /contacts: friends by initial, groups, the new-friends entry; /contacts/new: friend requests
 * and finding people; /contacts/blocked: the people this user blocked.
 */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { pageLogin, pageUser } from "../lib/http/access.ts";
import { t } from "../lib/i18n/i18n.ts";
import { page } from "./_render.tsx";
import { Island } from "../components/Island.tsx";
import Contacts from "../islands/Contacts.tsx";
import NewFriends from "../islands/NewFriends.tsx";
import BlockedList from "../islands/BlockedList.tsx";
import { listBlocked } from "../lib/social/blocks.ts";
import { cardsFor } from "../lib/chat/conv_list.ts";
import { friendsSnapshot } from "../lib/social/contacts.ts";
import { listUserConvs } from "../lib/chat/conversations.ts";
import { summarize, userCard } from "../lib/chat/conv_list.ts";

export const contactsPages = new Hono<Env>();

contactsPages.get("/", pageLogin, async (c) => {
  const user = pageUser(c);
  const l = c.var.locale;
  const kv = c.var.deps.kv;
  const [snap, entries] = await Promise.all([
    friendsSnapshot(kv, user.id),
    listUserConvs(kv, user.id),
  ]);
  const groups = await summarize(kv, user.id, entries.filter((e) => e.kind === "group"), l);
  return page(
    c,
    t(l, "contacts.title"),
    <section class="narrow contacts-page">
      <div class="page-head">
        <h1>{t(l, "contacts.title")}</h1>
        <a class="button small" href="/contacts/new" data-testid="add-friends">
          {t(l, "contacts.add")}
        </a>
      </div>
      <Island of={Contacts} props={{ locale: l, me: userCard(user), snap, groups }} />
      <p class="muted">
        <a href="/contacts/blocked" data-testid="blocked-link">{t(l, "blocked.title")}</a>
      </p>
    </section>,
  );
});

contactsPages.get("/new", pageLogin, async (c) => {
  const user = pageUser(c);
  const l = c.var.locale;
  const snap = await friendsSnapshot(c.var.deps.kv, user.id);
  return page(
    c,
    t(l, "newFriends.title"),
    <section class="narrow contacts-page">
      <div class="page-head">
        <a class="back-link" href="/contacts" aria-label={t(l, "contacts.title")}>‹</a>
        <h1>{t(l, "newFriends.title")}</h1>
      </div>
      <Island
        of={NewFriends}
        props={{ locale: l, me: userCard(user), snap: { ...snap, friends: [] } }}
      />
    </section>,
  );
});

contactsPages.get("/blocked", pageLogin, async (c) => {
  const user = pageUser(c);
  const l = c.var.locale;
  const kv = c.var.deps.kv;
  const ids = await listBlocked(kv, user.id);
  const cards = await cardsFor(kv, ids, l);
  const blocked = ids.flatMap((id) => cards.get(id) ?? []);
  return page(
    c,
    t(l, "blocked.title"),
    <section class="narrow contacts-page">
      <div class="page-head">
        <a class="back-link" href="/contacts" aria-label={t(l, "contacts.title")}>‹</a>
        <h1>{t(l, "blocked.title")}</h1>
      </div>
      <p class="muted">{t(l, "blocked.hint")}</p>
      <Island of={BlockedList} props={{ locale: l, blocked }} />
    </section>,
  );
});
