/** One text setting with its own Save button: group name, notice, my name in the group. */
import { useEffect, useState } from "preact/hooks";
import { type Locale, type MessageKey, t } from "../../lib/i18n/i18n.ts";
import type { ApiError } from "../../lib/wire/api.ts";
import { errorText } from "../api.ts";

export interface TextSettingProps {
  locale: Locale;
  id: string;
  label: MessageKey;
  hint?: MessageKey;
  value: string;
  multiline?: boolean;
  maxLength: number;
  required?: boolean;
  onSave: (value: string) => Promise<ApiError | null>;
}

export function TextSetting(p: TextSettingProps) {
  const [value, setValue] = useState(p.value);
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  // A change made elsewhere (another admin, another tab) shows unless this one is being edited.
  useEffect(() => {
    if (!dirty) setValue(p.value);
  }, [p.value]);

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    setSaved(false);
    const err = await p.onSave(value);
    setBusy(false);
    if (err) setError(err);
    else {
      setDirty(false);
      setSaved(true);
    }
  }

  const input = {
    id: p.id,
    name: p.id,
    value,
    maxLength: p.maxLength,
    required: p.required,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": error ? `${p.id}-err` : p.hint ? `${p.id}-hint` : undefined,
    onInput: (e: Event) => {
      setValue((e.currentTarget as HTMLInputElement).value);
      setDirty(true);
      setSaved(false);
    },
    "data-testid": p.id,
  };
  return (
    <form class="form text-setting" onSubmit={submit} aria-busy={busy || undefined} noValidate>
      <div class="field">
        <label for={p.id}>{t(p.locale, p.label)}</label>
        {p.multiline ? <textarea {...input} rows={3} /> : <input type="text" {...input} />}
        {error
          ? (
            <p class="field-error" id={`${p.id}-err`} role="alert" data-error={error.code}>
              {errorText(p.locale, error)}
            </p>
          )
          : p.hint && <p class="hint" id={`${p.id}-hint`}>{t(p.locale, p.hint)}</p>}
      </div>
      <div class="row">
        <button
          type="submit"
          class="primary small"
          disabled={busy || !dirty}
          data-testid={`${p.id}-save`}
        >
          {t(p.locale, "settings.save")}
        </button>
        <span class="saved" role="status">{saved ? t(p.locale, "settings.saved") : ""}</span>
      </div>
    </form>
  );
}
