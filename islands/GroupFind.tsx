/** "Find groups": search public groups by name and join one at once. */
import { useEffect, useState } from "preact/hooks";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import { Avatar } from "../components/Avatar.tsx";
import type { ApiError, GroupCard } from "../lib/wire/api.ts";
import { api, errorText } from "./api.ts";

export interface GroupFindProps {
  locale: Locale;
  q: string;
}

type Found = GroupCard;

export default function GroupFind(p: GroupFindProps) {
  const [q, setQ] = useState(p.q);
  const [results, setResults] = useState<Found[] | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  async function search(query: string) {
    if (!query.trim()) return;
    setBusy("search");
    setError(null);
    const r = await api<{ groups: Found[] }>(
      "GET",
      `/api/groups/search?q=${encodeURIComponent(query.trim())}`,
    );
    setBusy(null);
    if (!r.ok) return setError(r.error);
    setResults(r.data.groups);
    history.replaceState(null, "", `/groups/find?q=${encodeURIComponent(query.trim())}`);
  }
  useEffect(() => {
    if (p.q) search(p.q);
  }, []);

  async function join(id: string) {
    setBusy(id);
    setError(null);
    const r = await api("POST", `/api/groups/${encodeURIComponent(id)}/join`, {});
    if (r.ok || r.error.code === "already_member") {
      return location.assign(`/?c=${encodeURIComponent(id)}`);
    }
    setBusy(null);
    setError(r.error);
  }

  return (
    <div class="stack group-find">
      <form
        class="card search-form"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          search(q);
        }}
      >
        <label for="group-q">{t(p.locale, "group.searchLabel")}</label>
        <div class="row">
          <input
            id="group-q"
            type="search"
            name="q"
            value={q}
            maxLength={64}
            onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)}
            data-testid="group-q"
          />
          <button type="submit" class="primary" disabled={busy === "search"}>
            {t(p.locale, "group.search")}
          </button>
        </div>
        <p class="hint">{t(p.locale, "group.findHint")}</p>
      </form>
      {error && (
        <p class="alert error" role="alert" data-error={error.code}>
          {errorText(p.locale, error)}
        </p>
      )}
      <div aria-live="polite">
        {results && !results.length && (
          <p class="muted" data-testid="no-groups">{t(p.locale, "group.noResults")}</p>
        )}
        {results && results.length > 0 && (
          <ul class="card group-results" data-testid="group-results">
            {results.map((g) => (
              <li key={g.id} data-testid="group-result" data-group={g.id}>
                <Avatar user={{ id: g.id, nickname: g.title, avatarUrl: g.avatarUrl }} size={48} />
                <span class="grow group-result-text">
                  <a href={`/g/${g.id}`} class="group-result-title">{g.title}</a>
                  <span class="muted">{t(p.locale, "chat.members", { n: g.memberCount })}</span>
                </span>
                <button
                  type="button"
                  class="primary small"
                  onClick={() => join(g.id)}
                  disabled={busy !== null}
                  aria-label={`${t(p.locale, "group.join")}: ${g.title}`}
                >
                  {t(p.locale, "group.join")}
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}
