/**
 * "My bots" on the settings page (docs/bots.md): make a bot, see its token once, rotate or revoke
 * it, describe it and point its webhook somewhere, with the signing secret to check deliveries.
 */
import { useEffect, useState } from "preact/hooks";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import type { ApiError, BotView } from "../lib/wire/api.ts";
import { api, errorText } from "./api.ts";
import AvatarUpload from "./AvatarUpload.tsx";

export default function BotSettings({ locale }: { locale: Locale }) {
  const [bots, setBots] = useState<BotView[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  /** The token just made, with its bot: shown once, until dismissed. */
  const [fresh, setFresh] = useState<{ bot: string; token: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function load() {
    const r = await api<{ bots: BotView[] }>("GET", "/api/bots");
    if (r.ok) setBots(r.data.bots);
    else setError(r.error);
  }
  useEffect(() => {
    load();
  }, []);

  async function create(e: Event) {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    setBusy(true);
    setError(null);
    const r = await api<{ bot: BotView; token: string }>("POST", "/api/bots", {
      username: String(data.get("username") ?? ""),
      name: String(data.get("name") ?? ""),
      description: String(data.get("description") ?? ""),
    });
    setBusy(false);
    if (!r.ok) return setError(r.error);
    form.reset();
    setFresh({ bot: r.data.bot.id, token: r.data.token });
    await load();
  }

  async function act(call: Promise<{ ok: boolean; error?: ApiError }>, after?: () => void) {
    setError(null);
    const r = await call;
    if (!r.ok) return setError(r.error ?? null);
    after?.();
    await load();
  }

  return (
    <div class="card bots" data-testid="bots">
      {(bots ?? []).length === 0 && bots && <p class="muted">{t(locale, "bots.none")}</p>}
      <ul class="bot-list">
        {(bots ?? []).map((b) => (
          <li key={b.id} data-testid="bot" data-bot={b.id}>
            <div>
              <strong>{b.name}</strong> <span class="muted">@{b.username}</span>
              {!b.hasToken && <span class="badge">{t(locale, "bots.revoked")}</span>}
            </div>
            {b.description && <p class="muted">{b.description}</p>}
            <AvatarUpload
              locale={locale}
              avatarUrl={b.avatarUrl}
              name={b.name}
              action={`/api/bots/${b.id}/avatar`}
            />
            {fresh?.bot === b.id && (
              <div class="alert success" role="status" data-testid="bot-token">
                <p>{t(locale, "bots.tokenOnce")}</p>
                <code class="token">{fresh.token}</code>
                <button
                  type="button"
                  class="link"
                  onClick={() =>
                    setFresh(null)}
                >
                  {t(locale, "bots.tokenSaved")}
                </button>
              </div>
            )}
            <form
              class="form inline"
              onSubmit={(e) => {
                e.preventDefault();
                const v = new FormData(e.currentTarget as HTMLFormElement).get("webhookUrl");
                act(api("PATCH", `/api/bots/${b.id}`, { webhookUrl: String(v ?? "") }));
              }}
            >
              <label>
                {t(locale, "bots.webhook")}
                <input
                  name="webhookUrl"
                  type="url"
                  placeholder="https://example.com/happychat"
                  value={b.webhookUrl ?? ""}
                  data-testid="bot-webhook"
                />
              </label>
              <button type="submit" class="small">{t(locale, "settings.save")}</button>
            </form>
            {b.webhookUrl && (
              <p class="muted">
                {t(locale, "bots.secret")} <code data-testid="bot-secret">{b.webhookSecret}</code>
              </p>
            )}
            <div class="row">
              <button
                type="button"
                class="small"
                data-testid="bot-rotate"
                onClick={() =>
                  act(
                    api<{ token: string }>("POST", `/api/bots/${b.id}/token`).then((r) => {
                      if (r.ok) setFresh({ bot: b.id, token: r.data.token });
                      return r;
                    }),
                  )}
              >
                {b.hasToken ? t(locale, "bots.rotate") : t(locale, "bots.newToken")}
              </button>
              {b.hasToken && (
                <button
                  type="button"
                  class="small danger"
                  data-testid="bot-revoke"
                  onClick={() =>
                    confirm(t(locale, "bots.revokeConfirm")) &&
                    act(api("DELETE", `/api/bots/${b.id}/token`), () => setFresh(null))}
                >
                  {t(locale, "bots.revoke")}
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
      <form class="form" onSubmit={create} data-testid="bot-create">
        <h3>{t(locale, "bots.create")}</h3>
        <label>
          {t(locale, "bots.username")}
          <input name="username" required maxLength={20} pattern="[A-Za-z][A-Za-z0-9_]{2,19}" />
          <small class="muted">{t(locale, "bots.usernameHint")}</small>
        </label>
        <label>
          {t(locale, "bots.name")}
          <input name="name" required maxLength={32} />
        </label>
        <label>
          {t(locale, "bots.description")}
          <textarea name="description" maxLength={200} rows={2} />
        </label>
        {error && (
          <p class="alert error" role="alert" data-error={error.code} data-testid="bots-error">
            {errorText(locale, error)}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {t(locale, "bots.createButton")}
        </button>
      </form>
      <p class="muted">{t(locale, "bots.docs")}</p>
    </div>
  );
}
