/**
 * Renders a page with the layout, for routes: `return page(c, t(…), <Body/>)`. Here, not in
 * lib/http/, because it puts components/ around the body: lib/ never imports the browser's code.
 */
import type { ComponentChildren } from "preact";
import { renderToString } from "preact-render-to-string";
import { Layout } from "../components/Layout.tsx";
import type { Ctx } from "../lib/http/state.ts";
import { userCard } from "../lib/chat/conv_list.ts";
import { getCookie } from "hono/cookie";

export interface PageOptions {
  status?: number;
  /** Extra class on <main>, e.g. "full" for the chat screen that fills the window. */
  mainClass?: string;
  /** The unread count, for a page that has it at hand (else the middleware's, lib/http/app.ts). */
  unread?: number;
}

export function page(
  c: Ctx,
  title: string,
  body: ComponentChildren,
  opts: PageOptions = {},
): Response {
  const { assets } = c.var.deps;
  const html = renderToString(
    <Layout
      title={title}
      locale={c.var.locale}
      nonce={c.var.nonce}
      bootUrl={assets.bootUrl}
      version={assets.version}
      user={c.var.user && userCard(c.var.user)}
      requests={c.var.friendRequests ?? 0}
      unread={opts.unread ?? c.var.unread ?? 0}
      path={new URL(c.req.url).pathname + new URL(c.req.url).search}
      mainClass={opts.mainClass}
      theme={themeOf(getCookie(c, "theme"))}
    >
      {body}
    </Layout>,
  );
  return c.html("<!doctype html>" + html, (opts.status ?? 200) as 200);
}

/** The colours the user chose in Settings (the `theme` cookie), or undefined: the system's. */
function themeOf(v: string | undefined): "light" | "dark" | undefined {
  return v === "light" || v === "dark" ? v : undefined;
}
