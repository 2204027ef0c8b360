/** Renders a page with the layout, for routes: `return page(c, t(…), <Body/>)`. */
import type { ComponentChildren } from "preact";
import { renderToString } from "preact-render-to-string";
import { Layout } from "../components/Layout.tsx";
import type { Ctx } from "./state.ts";

export function page(c: Ctx, title: string, body: ComponentChildren, status: 200 | 400 | 403 | 404 | 429 | 500 = 200): Response {
  const { assets } = c.var.deps;
  const html = renderToString(
    <Layout
      title={title}
      locale={c.var.locale}
      nonce={c.var.nonce}
      bootUrl={assets.bootUrl}
      version={assets.version}
      user={c.var.user}
      path={new URL(c.req.url).pathname}
    >
      {body}
    </Layout>,
  );
  return c.html("<!doctype html>" + html, status);
}
