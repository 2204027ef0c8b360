/**
 * The contacts page: "New friends" with its badge, group chats, and friends grouped by the initial
 * of the name this user sees (the server computes pinyin initials), with a search box. Live.
 */
import { useEffect, useState } from "preact/hooks";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import { type ChatState, emptyState, reduce, seenName, sortedConvs } from "../lib/client/state.ts";
import {
  type ConvSummary,
  type FriendView,
  PROTOCOL_VERSION,
  type UserCard,
} from "../lib/wire/protocol.ts";
import type { FriendsSnapshot } from "../lib/wire/api.ts";
import { Avatar } from "../components/Avatar.tsx";
import { connect, seed, seedFriends, state } from "./chat/client.ts";
import { convAvatar, convTitle } from "./chat/format.ts";

export interface ContactsProps {
  locale: Locale;
  me: UserCard;
  snap: FriendsSnapshot;
  /** The user's group conversations. */
  groups: ConvSummary[];
}

const IS_BROWSER = typeof document !== "undefined";
const LETTERS = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZ#"];

/** Friends matching the search, grouped by index letter in A–Z, "#" order, each group sorted by name. */
export function groupFriends(
  s: ChatState,
  query: string,
  locale: Locale,
): [string, FriendView[]][] {
  const q = query.trim().toLowerCase();
  const match = (f: FriendView) =>
    !q || [f.remark, f.user.nickname, f.user.username].some((x) => x.toLowerCase().includes(q)) ||
    (q.length === 1 && f.initial.toLowerCase() === q) ||
    // Pinyin: "zhangsan", "zhang san" or "zs" finds 张三.
    (/^[a-z\s]+$/.test(q) &&
      !!f.spell?.split(" ").some((w) => w.startsWith(q.replace(/\s+/g, ""))));
  const collator = new Intl.Collator(locale === "zh-CN" ? "zh-CN" : "en", {
    sensitivity: "base",
    numeric: true,
  });
  const groups = new Map<string, FriendView[]>();
  for (const f of Object.values(s.friends).filter(match)) {
    const letter = LETTERS.includes(f.initial) ? f.initial : "#";
    groups.set(letter, [...(groups.get(letter) ?? []), f]);
  }
  return LETTERS.filter((l) => groups.has(l)).map((
    l,
  ) => [
    l,
    groups.get(l)!.sort((a, b) => collator.compare(seenName(s, a.user), seenName(s, b.user))),
  ]);
}

export default function Contacts(p: ContactsProps) {
  const l = p.locale;
  if (IS_BROWSER) {
    seed(p.me, p.groups, false);
    seedFriends(p.snap);
  }
  const s = IS_BROWSER ? state.value : reduce(
    reduce(emptyState(), {
      type: "welcome",
      v: PROTOCOL_VERSION,
      me: p.me,
      convs: p.groups,
      isolate: "",
    }),
    { type: "local_friends", ...p.snap },
  );
  const [query, setQuery] = useState("");
  useEffect(() => connect(), []);

  const groups = sortedConvs(s).filter((c) => c.summary.kind === "group");
  const sections = groupFriends(s, query, l);
  const total = Object.keys(s.friends).length;
  const waiting = s.requests.length;

  return (
    <div class="contacts" data-testid="contacts">
      <div class="contacts-search">
        <label for="contacts-q" class="visually-hidden">{t(l, "contacts.search")}</label>
        <input
          id="contacts-q"
          type="search"
          placeholder={t(l, "contacts.search")}
          value={query}
          onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)}
          data-testid="contacts-search"
        />
      </div>
      {!query && (
        <ul class="contact-list card-list">
          <li>
            <a href="/contacts/new" class="contact special" data-testid="new-friends">
              <span class="icon-tile add" aria-hidden="true">+</span>
              <span class="contact-name">{t(l, "contacts.newFriends")}</span>
              {waiting > 0 && (
                <span
                  class="count-badge"
                  data-testid="requests-badge"
                  aria-label={t(l, "contacts.newCount", { n: waiting })}
                >
                  {waiting > 99 ? "99+" : waiting}
                </span>
              )}
            </a>
          </li>
        </ul>
      )}
      {!query && (
        <section aria-labelledby="contacts-groups">
          <h2 id="contacts-groups" class="section-head">{t(l, "contacts.groups")}</h2>
          {groups.length
            ? (
              <ul class="contact-list card-list" data-testid="group-list">
                {groups.map((c) => (
                  <li key={c.summary.id}>
                    <a href={`/?c=${c.summary.id}`} class="contact" data-conv={c.summary.id}>
                      <Avatar user={convAvatar(c)} size={40} />
                      <span class="contact-name">{convTitle(c, l, s)}</span>
                    </a>
                  </li>
                ))}
              </ul>
            )
            : <p class="muted pad-x">{t(l, "contacts.noGroups")}</p>}
        </section>
      )}
      {sections.length > 1 && !query && (
        <nav class="letter-index" aria-label={t(l, "contacts.index")}>
          {sections.map(([letter]) => (
            <a key={letter} href={`#ix-${letter === "#" ? "hash" : letter}`}>{letter}</a>
          ))}
        </nav>
      )}
      <section aria-label={t(l, "contacts.friends")} data-testid="friend-list">
        {sections.map(([letter, list]) => (
          <div key={letter} class="letter-group" data-letter={letter}>
            <h2 class="section-head letter" id={`ix-${letter === "#" ? "hash" : letter}`}>
              {letter}
            </h2>
            <ul class="contact-list card-list">
              {list.map((f) => (
                <li key={f.user.id}>
                  <a
                    href={`/u/${encodeURIComponent(f.user.username)}`}
                    class="contact"
                    data-testid="contact"
                    data-user={f.user.id}
                  >
                    <Avatar user={f.user} size={40} />
                    <span class="contact-name">{f.remark || f.user.nickname}</span>
                    {f.remark && <span class="muted contact-sub">{f.user.nickname}</span>}
                  </a>
                </li>
              ))}
            </ul>
          </div>
        ))}
        {!total && (
          <p class="muted pad-x" data-testid="no-friends">
            {t(l, "contacts.empty")} <a href="/contacts/new">{t(l, "contacts.add")}</a>
          </p>
        )}
        {total > 0 && !sections.length && (
          <p class="muted pad-x" data-testid="no-match">{t(l, "contacts.noMatch", { q: query })}</p>
        )}
        {total > 0 && !query && (
          <p class="muted center friend-count" data-testid="friend-count">
            {t(l, "contacts.count", { n: total })}
          </p>
        )}
      </section>
    </div>
  );
}
