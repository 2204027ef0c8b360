/** Find people by exact username or nickname prefix; each result can be added with a note. */
import { useEffect, useRef, useState } from "preact/hooks";
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import type { UserCard } from "../../lib/wire/protocol.ts";
import { Avatar } from "../../components/Avatar.tsx";
import { state } from "../chat/client.ts";
import { AddForm } from "./AddForm.tsx";
import type { ApiError, PersonResult } from "../../lib/wire/api.ts";
import { errorText } from "../api.ts";
import { friendsApi } from "./friends_api.ts";

type Found = PersonResult;

export function FindPeople(p: { locale: Locale; me: UserCard }) {
  const l = p.locale;
  const [q, setQ] = useState("");
  const [results, setResults] = useState<Found[] | null>(null);
  const [adding, setAdding] = useState<string | null>(null);
  const [sent, setSent] = useState<Record<string, "sent" | "friends">>({});
  const [error, setError] = useState<ApiError | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout>>();
  const latest = useRef("");

  async function search(query: string) {
    latest.current = query;
    if (!query.trim()) return setResults(null);
    const r = await friendsApi.search(query);
    if (latest.current !== query) return; // an older answer arriving late
    if (!r.ok) return setError(r.error);
    setError(null);
    setResults(r.data.results);
  }
  useEffect(() => () => clearTimeout(timer.current), []);

  // Live relations: someone found here who accepts meanwhile shows as a friend.
  const friends = state.value.friendsLoaded ? state.value.friends : null;
  const relation = (f: Found) =>
    friends?.[f.user.id]
      ? "friend"
      : sent[f.user.id] === "friends"
      ? "friend"
      : sent[f.user.id]
      ? "pending"
      : f.relation;

  return (
    <section class="card find" aria-labelledby="find-title" data-testid="find-people">
      <h2 id="find-title">{t(l, "find.title")}</h2>
      <form
        role="search"
        class="inline-field"
        onSubmit={(e) => {
          e.preventDefault();
          clearTimeout(timer.current);
          search(q);
        }}
      >
        <label for="find-q" class="visually-hidden">{t(l, "find.label")}</label>
        <input
          id="find-q"
          type="search"
          value={q}
          maxLength={64}
          placeholder={t(l, "find.label")}
          aria-describedby="find-hint"
          autocomplete="off"
          onInput={(e) => {
            const v = (e.currentTarget as HTMLInputElement).value;
            setQ(v);
            clearTimeout(timer.current);
            timer.current = setTimeout(() => search(v), 350);
          }}
          data-testid="find-q"
        />
        <button type="submit" data-testid="find-go">{t(l, "find.button")}</button>
      </form>
      <p class="hint" id="find-hint">{t(l, "find.hint")}</p>
      {error && (
        <p class="alert error" role="alert" data-error={error.code}>{errorText(l, error)}</p>
      )}
      {results && !results.length && (
        <p class="muted" data-testid="find-none">{t(l, "find.none")}</p>
      )}
      {results && results.length > 0 && (
        <ul class="contact-list" data-testid="find-results">
          {results.map((f) => {
            const rel = relation(f);
            const name = friends?.[f.user.id]?.remark || f.remark || f.user.nickname;
            return (
              <li
                key={f.user.id}
                class="request"
                data-testid="result"
                data-user={f.user.id}
                data-relation={rel}
              >
                <a href={`/u/${encodeURIComponent(f.user.username)}`} class="request-who">
                  <Avatar user={f.user} size={40} />
                  <span class="request-text">
                    <span class="contact-name">{name}</span>
                    <span class="muted">@{f.user.username}</span>
                  </span>
                </a>
                <span class="request-actions">
                  {rel === "friend" && <span class="muted">{t(l, "friends.isFriend")}</span>}
                  {rel === "pending" && <span class="muted">{t(l, "newFriends.pending")}</span>}
                  {rel === "none" && adding !== f.user.id && (
                    <button
                      type="button"
                      class="primary small"
                      onClick={() => setAdding(f.user.id)}
                      data-testid="add"
                    >
                      {t(l, "friends.add")}
                    </button>
                  )}
                </span>
                {rel === "none" && adding === f.user.id && (
                  <AddForm
                    locale={l}
                    me={p.me}
                    to={f.user}
                    onCancel={() => setAdding(null)}
                    onDone={(st) => {
                      setAdding(null);
                      setSent((x) => ({ ...x, [f.user.id]: st }));
                    }}
                  />
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
