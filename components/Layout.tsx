/** The page frame: head, header with navigation and language switch, main content. */
import type { ComponentChildren } from "preact";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import type { UserCard } from "../lib/wire/protocol.ts";
import { Avatar } from "./Avatar.tsx";
import { Icon, type IconName } from "./Icon.tsx";

export interface LayoutProps {
  title: string;
  locale: Locale;
  nonce: string;
  bootUrl: string | null;
  version: string;
  /** The logged-in user, or null. */
  user: UserCard | null;
  /** Friend requests waiting (the badge next to "Contacts"; connected islands keep it live). */
  requests?: number;
  /** Unread messages of conversations not muted (the badge on the "Chats" tab). */
  unread?: number;
  path: string;
  mainClass?: string;
  /** Light or dark as the user chose in Settings; absent: as the system says. */
  theme?: "light" | "dark";
  children: ComponentChildren;
}

export function Layout(p: LayoutProps) {
  const other: Locale = p.locale === "en" ? "zh-CN" : "en";
  return (
    <html lang={p.locale} data-theme={p.theme}>
      <head>
        <meta charset="utf-8" />
        <meta
          name="viewport"
          content="width=device-width, initial-scale=1, viewport-fit=cover, interactive-widget=resizes-content"
        />
        <meta name="description" content={t(p.locale, "meta.description")} />
        <meta name="color-scheme" content={p.theme ?? "light dark"} />
        <meta name="theme-color" content="#07c160" />
        <title>
          {p.title ? `${p.title} · ${t(p.locale, "app.name")}` : t(p.locale, "app.name")}
        </title>
        <link rel="stylesheet" href={`/static/app.css?v=${p.version}`} />
        {p.mainClass === "full" && (
          <link rel="stylesheet" href={`/static/chat.css?v=${p.version}`} />
        )}
        <link rel="icon" href="/static/icon.svg" type="image/svg+xml" />
        {/* Installable app (routes/manifest.ts; iOS reads the apple-* tags, not the manifest) */}
        <link rel="manifest" href={`/manifest.webmanifest?lang=${p.locale}`} />
        <link rel="apple-touch-icon" href="/static/apple-touch-icon.png" />
        <meta name="mobile-web-app-capable" content="yes" />
        <meta name="apple-mobile-web-app-capable" content="yes" />
        <meta name="apple-mobile-web-app-status-bar-style" content="default" />
        <meta name="apple-mobile-web-app-title" content={t(p.locale, "app.name")} />
        {p.bootUrl && <script type="module" nonce={p.nonce} src={p.bootUrl}></script>}
      </head>
      <body
        class={[p.mainClass && `page-${p.mainClass}`, p.user && "has-tabs"].filter(Boolean).join(
          " ",
        ) ||
          undefined}
      >
        <header class="topbar">
          <a class="brand" href="/">
            <img src="/static/icon.svg" alt="" width={28} height={28} />
            <span class="brand-name">{t(p.locale, "app.name")}</span>
          </a>
          <nav class="nav" aria-label={t(p.locale, "nav.label")}>
            {p.user
              ? (
                <>
                  <NavLink href="/" path={p.path}>{t(p.locale, "nav.chats")}</NavLink>
                  <NavLink href="/contacts" path={p.path}>
                    {t(p.locale, "nav.contacts")}
                    <Badge
                      kind="requests"
                      n={p.requests ?? 0}
                      label={t(p.locale, "contacts.newCount", { n: "{n}" })}
                      testid="nav-badge"
                    />
                  </NavLink>
                  <NavLink href="/settings" path={p.path}>{t(p.locale, "nav.settings")}</NavLink>
                  <form method="post" action="/logout" class="inline">
                    <button type="submit" class="link">{t(p.locale, "nav.logout")}</button>
                  </form>
                </>
              )
              : (
                <>
                  <NavLink href="/login" path={p.path}>{t(p.locale, "nav.login")}</NavLink>
                  <NavLink href="/register" path={p.path}>{t(p.locale, "nav.register")}</NavLink>
                </>
              )}
            <form method="post" action="/lang" class="inline">
              <input type="hidden" name="lang" value={other} />
              <input type="hidden" name="back" value={p.path} />
              <button
                type="submit"
                class="lang"
                lang={other}
                aria-label={`${t(p.locale, "lang.label")}: ${t(p.locale, "lang.switch")}`}
                data-testid="lang-switch"
              >
                {t(p.locale, "lang.switch")}
              </button>
            </form>
            {p.user && (
              <a class="me" href="/me" data-testid="me" title={p.user.nickname}>
                <Avatar user={p.user} size={32} />
                <span class="me-name">{p.user.nickname}</span>
              </a>
            )}
          </nav>
        </header>
        <main class={p.mainClass ? `main ${p.mainClass}` : "main"}>{p.children}</main>
        {p.user && <TabBar {...p} />}
      </body>
    </html>
  );
}

/** A header link that says when it is the current page. */
function NavLink(
  { href, path, children }: { href: string; path: string; children: ComponentChildren },
) {
  const here = path === href || (href === "/" && path.startsWith("/?")) ||
    (href !== "/" && path.startsWith(href + "/"));
  return <a href={href} aria-current={here ? "page" : undefined}>{children}</a>;
}

type Tab = "chats" | "contacts" | "me";

/** The tab a page belongs to: the screen its link in the tab bar leads back to. */
function tabOf(path: string): Tab | null {
  const p = path.split(/[?#]/)[0];
  if (p === "/" || /^\/(g|groups|join)(\/|$)/.test(p)) return "chats";
  if (/^\/(contacts|u)(\/|$)/.test(p)) return "contacts";
  if (/^\/(me|settings|feedback)(\/|$)/.test(p)) return "me";
  return null;
}

/**
 * The phone's bottom tab bar, 消息 / 通讯录 / 我, with the unread and request counts (hidden on
 * wide screens, where the top bar navigates, and inside a conversation, which takes the screen).
 */
function TabBar(p: LayoutProps) {
  const here = tabOf(p.path);
  const unread = p.unread ?? 0, requests = p.requests ?? 0;
  const tabs: { tab: Tab; href: string; icon: IconName; badge?: BadgeProps }[] = [
    {
      tab: "chats",
      href: "/",
      icon: "chat",
      badge: {
        kind: "unread",
        n: unread,
        label: t(p.locale, "tab.unread", { n: "{n}" }),
        testid: "tab-unread",
      },
    },
    {
      tab: "contacts",
      href: "/contacts",
      icon: "contacts",
      badge: {
        kind: "requests",
        n: requests,
        label: t(p.locale, "contacts.newCount", { n: "{n}" }),
        testid: "tab-requests",
      },
    },
    { tab: "me", href: "/me", icon: "me" },
  ];
  return (
    <nav class="tabbar" aria-label={t(p.locale, "tab.label")} data-testid="tabbar">
      {tabs.map(({ tab, href, icon, badge }) => (
        <a
          key={tab}
          href={href}
          class="tab"
          aria-current={tab === here ? "page" : undefined}
          data-testid={`tab-${tab}`}
        >
          <span class="tab-icon">
            <Icon name={icon} size={24} />
            {badge && <Badge {...badge} />}
          </span>
          <span class="tab-label">{t(p.locale, `tab.${tab}`)}</span>
        </a>
      ))}
    </nav>
  );
}

interface BadgeProps {
  kind: "requests" | "unread";
  n: number;
  /** What the count means, with "{n}" where the number goes. */
  label: string;
  testid: string;
}

/**
 * A red count, server-rendered and kept live by the chat client (islands/chat/client.ts finds it
 * by `data-badge`); hidden at zero. Screen readers hear the words ("3 unread messages") from a
 * hidden twin, not the bare number.
 */
function Badge({ kind, n, label, testid }: BadgeProps) {
  return (
    <>
      <span
        class="nav-badge"
        data-badge={kind}
        data-n={String(n)}
        data-testid={testid}
        hidden={!n}
        aria-hidden="true"
      >
        {n ? (n > 99 ? "99+" : String(n)) : ""}
      </span>
      <span class="visually-hidden" data-badge-words={kind} data-words={label}>
        {n ? label.replace("{n}", String(n)) : ""}
      </span>
    </>
  );
}
