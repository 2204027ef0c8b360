/** The page frame: head, header with navigation and language switch, main content. */
import type { ComponentChildren } from "preact";
import { type Locale, t } from "../lib/i18n.ts";
import type { User } from "../lib/users.ts";

export interface LayoutProps {
  title: string;
  locale: Locale;
  nonce: string;
  bootUrl: string | null;
  version: string;
  user: User | null;
  path: string;
  children: ComponentChildren;
}

export function Layout(p: LayoutProps) {
  const other: Locale = p.locale === "en" ? "zh-CN" : "en";
  return (
    <html lang={p.locale}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />
        <meta name="color-scheme" content="light dark" />
        <title>{p.title ? `${p.title} · ${t(p.locale, "app.name")}` : t(p.locale, "app.name")}</title>
        <link rel="stylesheet" href={`/static/app.css?v=${p.version}`} />
        <link rel="icon" href="/static/icon.svg" type="image/svg+xml" />
        <link rel="manifest" href="/static/manifest.webmanifest" />
        {p.bootUrl && <script type="module" nonce={p.nonce} src={p.bootUrl}></script>}
      </head>
      <body>
        <header class="topbar">
          <a class="brand" href="/">{t(p.locale, "app.name")}</a>
          <nav class="nav">
            {p.user
              ? (
                <>
                  <a href="/">{t(p.locale, "nav.chats")}</a>
                  <a href="/settings">{t(p.locale, "nav.settings")}</a>
                  <form method="post" action="/logout" class="inline">
                    <button type="submit" class="link">{t(p.locale, "nav.logout")}</button>
                  </form>
                </>
              )
              : (
                <>
                  <a href="/login">{t(p.locale, "nav.login")}</a>
                  <a href="/register">{t(p.locale, "nav.register")}</a>
                </>
              )}
            <form method="post" action="/lang" class="inline">
              <input type="hidden" name="lang" value={other} />
              <input type="hidden" name="back" value={p.path} />
              <button type="submit" class="link" lang={other} aria-label={t(p.locale, "lang.label")} data-testid="lang-switch">
                {t(p.locale, "lang.switch")}
              </button>
            </form>
          </nav>
        </header>
        <main class="main">{p.children}</main>
      </body>
    </html>
  );
}
