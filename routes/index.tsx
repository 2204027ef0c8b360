/** /: the landing page for visitors, the chat screen for logged-in users (?c= opens one chat). */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { t } from "../lib/i18n/i18n.ts";
import { page } from "./_render.tsx";
import { Island } from "../components/Island.tsx";
import ChatApp from "../islands/ChatApp.tsx";
import { listUserConvs } from "../lib/chat/conversations.ts";
import { summarize, userCard } from "../lib/chat/conv_list.ts";
import { friendsSnapshot } from "../lib/social/contacts.ts";
import { mutedConvs } from "../lib/push/devices.ts";
import { unreadTotal } from "../lib/wire/protocol.ts";

export const homePage = new Hono<Env>();

homePage.get("/", async (c) => {
  const l = c.var.locale;
  const user = c.var.user;
  if (!user) {
    return page(
      c,
      "",
      <section class="hero">
        <img class="hero-logo" src="/static/icon.svg" alt="" width={88} height={88} />
        <h1>{t(l, "app.name")}</h1>
        <p>{t(l, "app.tagline")}</p>
        <p class="actions">
          <a class="button primary" href="/register">{t(l, "nav.register")}</a>
          <a class="button" href="/login">{t(l, "nav.login")}</a>
        </p>
      </section>,
    );
  }
  const { kv, rt } = c.var.deps;
  const [entries, friends, muted] = await Promise.all([
    listUserConvs(kv, user.id),
    friendsSnapshot(kv, user.id),
    mutedConvs(kv, user.id),
  ]);
  const convs = await summarize(kv, user.id, entries, l);
  const peers = convs.flatMap((s) => (s.peer ? [s.peer] : []));
  const states = await rt.presence.online(peers.map((p) => p.id));
  for (const p of peers) Object.assign(p, states.get(p.id));
  const open = c.req.query("c");
  return page(
    c,
    t(l, "nav.chats"),
    <Island
      of={ChatApp}
      props={{
        locale: l,
        me: userCard(user),
        convs,
        open: open && convs.some((s) => s.id === open) ? open : null,
        friends,
      }}
    />,
    { mainClass: "full", unread: unreadTotal(convs, new Set(muted)) },
  );
});
