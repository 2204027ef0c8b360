/** The people this user blocked, each with "Unblock" (the /contacts/blocked page). */
import { useState } from "preact/hooks";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import type { ApiError } from "../lib/wire/api.ts";
import type { UserCard } from "../lib/wire/protocol.ts";
import { Avatar } from "../components/Avatar.tsx";
import { api, errorText } from "./api.ts";

export default function BlockedList(p: { locale: Locale; blocked: UserCard[] }) {
  const [list, setList] = useState(p.blocked);
  const [error, setError] = useState<ApiError | null>(null);

  async function unblock(u: UserCard) {
    setError(null);
    const r = await api("DELETE", `/api/blocks/${u.id}`);
    if (!r.ok) return setError(r.error);
    setList((l) => l.filter((x) => x.id !== u.id));
  }

  if (!list.length) {
    return <p class="muted" data-testid="blocked-none">{t(p.locale, "blocked.none")}</p>;
  }
  return (
    <div class="card">
      <ul class="contact-list" data-testid="blocked">
        {list.map((u) => (
          <li key={u.id} class="request" data-user={u.id}>
            <a href={`/u/${encodeURIComponent(u.username)}`} class="request-who">
              <Avatar user={u} size={40} />
              <span class="request-text">
                <span class="contact-name">{u.nickname}</span>
                <span class="muted">@{u.username}</span>
              </span>
            </a>
            <span class="request-actions">
              <button type="button" class="small" onClick={() => unblock(u)} data-testid="unblock">
                {t(p.locale, "friends.unblock")}
              </button>
            </span>
          </li>
        ))}
      </ul>
      {error && (
        <p class="alert error" role="alert" data-error={error.code}>{errorText(p.locale, error)}</p>
      )}
    </div>
  );
}
