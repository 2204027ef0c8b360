/** /groups/find: public groups by name. */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { pageLogin } from "../lib/http/access.ts";
import { t } from "../lib/i18n/i18n.ts";
import { page } from "./_render.tsx";
import { Back } from "../components/Back.tsx";
import { Island } from "../components/Island.tsx";
import GroupFind from "../islands/GroupFind.tsx";

export const groupsPages = new Hono<Env>();

groupsPages.get("/find", pageLogin, (c) => {
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
