/** Pick, paste or drop a picture; it is uploaded at once and the new avatar shown. */
import { ImagePick } from "../components/ImagePick.tsx";
import { useState } from "preact/hooks";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import type { PublicUser } from "../lib/wire/api.ts";
import { api, errorText } from "./api.ts";

export interface AvatarUploadProps {
  locale: Locale;
  avatarUrl: string | null;
  name: string;
  /** Where the picture goes: the user's own by default, or a bot's (`/api/bots/:id/avatar`). */
  action?: string;
}

export default function AvatarUpload(p: AvatarUploadProps) {
  const [url, setUrl] = useState(p.avatarUrl);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function send(method: "PUT" | "DELETE", body?: Blob) {
    setBusy(true);
    setError(null);
    const r = await api<{ user: PublicUser }>(method, p.action ?? "/api/me/avatar", body);
    setBusy(false);
    if (r.ok) setUrl(r.data.user.avatarUrl);
    else setError(errorText(p.locale, r.error));
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    const file = e.dataTransfer?.files[0];
    if (file) send("PUT", file);
  }

  const initial = [...p.name.trim()][0]?.toUpperCase() ?? "?";
  return (
    <div
      class="card avatar-upload"
      onDragOver={(e) => e.preventDefault()}
      onDrop={onDrop}
      aria-busy={busy || undefined}
      data-testid="avatar-upload"
    >
      {url
        ? (
          <img
            class="avatar s96"
            src={url}
            alt={t(p.locale, "field.avatar")}
            width={96}
            height={96}
            data-testid="avatar-img"
          />
        )
        : <span class="avatar s96 letter h3" aria-hidden="true">{initial}</span>}
      <div class="avatar-actions">
        <div class="buttons">
          <ImagePick
            label={t(p.locale, "settings.avatarPick")}
            busy={busy}
            onFile={(f) => send("PUT", f)}
            testId="avatar-input"
          />
          {url && (
            <button
              type="button"
              class="link danger"
              onClick={() => send("DELETE")}
              disabled={busy}
            >
              {t(p.locale, "settings.avatarRemove")}
            </button>
          )}
        </div>
        <p class="hint">{t(p.locale, "settings.avatarHint")}</p>
        {error && <p class="field-error" role="alert" data-testid="avatar-error">{error}</p>}
      </div>
    </div>
  );
}
