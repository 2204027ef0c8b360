/** Join requests waiting for an admin (live: new ones arrive over the socket). */
import { useState } from "preact/hooks";
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import type { RequestView } from "../../lib/wire/protocol.ts";
import { Avatar } from "../../components/Avatar.tsx";
import type { ApiError } from "../../lib/wire/api.ts";
import { api, errorText } from "../api.ts";

export interface RequestsProps {
  locale: Locale;
  group: string;
  requests: RequestView[];
  remarks: Record<string, string>;
  onAnswered: (userId: string) => void;
}

export function Requests(p: RequestsProps) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  async function answer(userId: string, verb: "approve" | "decline") {
    setBusy(userId);
    setError(null);
    const r = await api("POST", `/api/groups/${p.group}/requests/${userId}/${verb}`, {});
    setBusy(null);
    // Answered here or by another admin meanwhile: either way it is no longer waiting.
    if (r.ok || r.error.code === "request_not_found") p.onAnswered(userId);
    else setError(r.error);
  }

  return (
    <section class="card" aria-labelledby="requests-h" data-testid="requests">
      <h2 id="requests-h">
        {t(p.locale, "group.requestsTitle")}
        {p.requests.length > 0 && <span class="badge">{p.requests.length}</span>}
      </h2>
      {!p.requests.length && <p class="muted">{t(p.locale, "group.noRequests")}</p>}
      <ul class="plain-list" aria-live="polite">
        {p.requests.map((r) => {
          const name = p.remarks[r.user.id] || r.user.nickname;
          return (
            <li key={r.user.id} data-testid="request" data-user={r.user.id}>
              <Avatar user={r.user} size={40} />
              <span class="grow member-text">
                <span class="member-name">{name}</span>
                {r.note && <span class="muted pre">{r.note}</span>}
              </span>
              <span class="row">
                <button
                  type="button"
                  class="primary small"
                  onClick={() => answer(r.user.id, "approve")}
                  disabled={busy !== null}
                  aria-label={`${t(p.locale, "group.approve")}: ${name}`}
                  data-testid="approve"
                >
                  {t(p.locale, "group.approve")}
                </button>
                <button
                  type="button"
                  class="small"
                  onClick={() => answer(r.user.id, "decline")}
                  disabled={busy !== null}
                  aria-label={`${t(p.locale, "group.decline")}: ${name}`}
                  data-testid="decline"
                >
                  {t(p.locale, "group.decline")}
                </button>
              </span>
            </li>
          );
        })}
      </ul>
      {error && (
        <p class="alert error" role="alert" data-error={error.code}>
          {errorText(p.locale, error)}
        </p>
      )}
    </section>
  );
}
