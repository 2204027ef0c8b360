/** The group page for someone not in the group: join a public group, or ask to join a private one. */
import { useState } from "preact/hooks";
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import { Avatar } from "../../components/Avatar.tsx";
import type { ApiError, GroupCard } from "../../lib/wire/api.ts";
import { api, errorText } from "../api.ts";

export function Outside(
  { locale, id, preview }: { locale: Locale; id: string; preview: GroupCard | null },
) {
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  async function join(e?: Event) {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    const r = await api<{ status?: string }>(
      "POST",
      `/api/groups/${id}/join`,
      preview ? {} : { note },
    );
    if ((r.ok && r.status !== 202) || (!r.ok && r.error.code === "already_member")) {
      return location.assign(`/?c=${id}`);
    }
    setBusy(false);
    if (r.ok) setSent(true);
    else setError(r.error);
  }

  const err = error && (
    <p class="alert error" role="alert" data-error={error.code}>
      {errorText(locale, error)}
    </p>
  );
  if (preview) {
    return (
      <section class="card group-card" data-testid="group-preview">
        <Avatar
          user={{ id: preview.id, nickname: preview.title, avatarUrl: preview.avatarUrl }}
          size={72}
        />
        <h1>{preview.title}</h1>
        <p class="muted">{t(locale, "chat.members", { n: preview.memberCount })}</p>
        <button
          type="button"
          class="primary"
          onClick={() => join()}
          disabled={busy}
          data-testid="join-group"
        >
          {t(locale, "group.join")}
        </button>
        {err}
      </section>
    );
  }
  return (
    <section class="card" data-testid="group-private">
      <h1>{t(locale, "group.requestJoin")}</h1>
      <p>{t(locale, "group.privateOrMissing")}</p>
      {sent
        ? (
          <p class="alert ok" role="status" data-testid="request-sent">
            {t(locale, "group.requestSent")}
          </p>
        )
        : (
          <form class="form" onSubmit={join} noValidate>
            <div class="field">
              <label for="join-note">{t(locale, "group.requestNote")}</label>
              <input
                id="join-note"
                type="text"
                maxLength={60}
                value={note}
                onInput={(e) => setNote((e.currentTarget as HTMLInputElement).value)}
              />
            </div>
            <button type="submit" class="primary" disabled={busy} data-testid="request-join">
              {t(locale, "group.requestJoin")}
            </button>
          </form>
        )}
      {err}
    </section>
  );
}
