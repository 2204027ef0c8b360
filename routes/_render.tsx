/**
 * Renders a page with the layout, for routes: `return page(c, t(…), <Body/>)`. Here, not in
 * lib/http/, because it puts components/ around the body: lib/ never imports the browser's code.
 */
import type { ComponentChildren } from "preact";
import { renderToString } from "preact-render-to-string";
import { Layout } from "../components/Layout.tsx";
import type { Ctx } from "../lib/http/state.ts";
import { userCard } from "../lib/chat/conv_list.ts";

export interface PageOptions {
  status?: number;
  /** Extra class on <main>, e.g. "full" for the chat screen that fills the window. */
  mainClass?: string;
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
      path={new URL(c.req.url).pathname + new URL(c.req.url).search}
      mainClass={opts.mainClass}
    >
      {body}
    </Layout>,
  );
  return c.html("<!doctype html>" + html, (opts.status ?? 200) as 200);
}
