/** /join: where an invite link (/join#token=…) lands; the island reads the token and joins. */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { t } from "../lib/i18n/i18n.ts";
import { page } from "./_render.tsx";
import { Island } from "../components/Island.tsx";
import GroupJoin from "../islands/GroupJoin.tsx";

export const joinPage = new Hono<Env>();

joinPage.get("/", (c) => {
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
