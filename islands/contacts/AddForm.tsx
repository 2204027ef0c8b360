/** "Add friend": a short note (prefilled with "Hi, I'm …") and send, inline where the button was. */
import { useEffect, useRef, useState } from "preact/hooks";
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import type { UserCard } from "../../lib/wire/protocol.ts";
import { NOTE_MAX } from "../../lib/wire/friend_rules.ts";
import { dispatch } from "../chat/client.ts";
import type { ApiError } from "../../lib/wire/api.ts";
import { errorText } from "../api.ts";
import { friendsApi } from "./friends_api.ts";

export interface AddFormProps {
  locale: Locale;
  me: UserCard;
  /** Whom to ask (by id, with their card for the pending list), or an e-mail address. */
  to: UserCard;
  onDone: (status: "sent" | "friends") => void;
  onCancel: () => void;
}

export function AddForm(p: AddFormProps) {
  const [note, setNote] = useState(
    t(p.locale, "friends.noteDefault", { name: p.me.nickname }).slice(0, NOTE_MAX),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.select(), []);

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    const r = await friendsApi.request({ to: p.to.id }, note);
    setBusy(false);
    if (!r.ok) return setError(r.error);
    if (r.data.status === "sent") {
      dispatch({
        type: "local_outgoing",
        request: { user: p.to, note: note.trim(), at: Date.now() },
      });
    }
    p.onDone(r.data.status);
  }

  const id = `note-${p.to.id}`;
  return (
    <form class="add-form" onSubmit={submit} data-testid="add-form" aria-busy={busy || undefined}>
      <label for={id}>{t(p.locale, "friends.note")}</label>
      <input
        id={id}
        ref={input}
        value={note}
        maxLength={NOTE_MAX}
        onInput={(e) =>
          setNote((e.currentTarget as HTMLInputElement).value)}
        aria-invalid={error ? true : undefined}
        data-testid="note"
      />
      {error && (
        <p class="field-error" role="alert" data-error={error.code}>{errorText(p.locale, error)}</p>
      )}
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy} data-testid="send-request">
          {t(p.locale, "friends.send")}
        </button>
        <button type="button" onClick={p.onCancel}>{t(p.locale, "friends.cancel")}</button>
      </div>
    </form>
  );
}
