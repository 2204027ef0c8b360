/** A form that sends its fields as JSON to an /api endpoint and shows the answer in place. */
import { useEffect, useRef, useState } from "preact/hooks";
import { type Locale, type MessageKey, t } from "../lib/i18n/i18n.ts";
import type { ApiError } from "../lib/wire/api.ts";
import { api, errorText } from "./api.ts";
import { showMyName } from "./me_bar.ts";

export interface FieldDef {
  name: string;
  label: MessageKey;
  type?: "text" | "email" | "password" | "textarea" | "select" | "url" | "hidden";
  autocomplete?: string;
  required?: boolean;
  hint?: MessageKey;
  value?: string;
  options?: { value: string; label: MessageKey }[];
  maxLength?: number;
}

export interface ApiFormProps {
  locale: Locale;
  action: string;
  method?: "POST" | "PATCH" | "PUT";
  fields: FieldDef[];
  submit: MessageKey;
  /** Shown after success when there is no redirect. */
  done?: MessageKey;
  /** Where to go after success. */
  redirect?: string;
  /** Adds `token` from the page's #token=… fragment (links in mail carry it there). */
  tokenFromHash?: boolean;
  /**
   * After success, goes to the page named in the fragment's `next=` (a path of this site), if
   * any: where the visitor was sent from to log in (kept in the fragment, so an invite link's
   * token never reaches the server in a URL).
   */
  nextFromHash?: boolean;
  /** Names the form for tests and labels. */
  name: string;
}

/** The `next=` of the page's fragment when it is a page of this site, else null. */
export function nextInHash(): string | null {
  const next = new URLSearchParams(location.hash.slice(1)).get("next");
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) {
    return null;
  }
  try {
    return new URL(next, location.origin).origin === location.origin ? next : null;
  } catch {
    return null;
  }
}

export default function ApiForm(p: ApiFormProps) {
  const [ready, setReady] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => setReady(true), []);
  // Take the user to the field that needs fixing.
  useEffect(() => {
    if (!error?.field) return;
    const el = formRef.current?.elements.namedItem(error.field);
    if (el instanceof HTMLElement) el.focus();
  }, [error]);

  async function onSubmit(e: Event) {
    e.preventDefault();
    if (busy) return;
    const form = formRef.current!;
    const body: Record<string, string> = {};
    for (const f of p.fields) {
      const el = form.elements.namedItem(f.name) as HTMLInputElement | null;
      if (el) body[f.name] = el.value;
    }
    if (p.tokenFromHash) {
      body.token = new URLSearchParams(location.hash.slice(1)).get("token") ?? "";
    }
    setBusy(true);
    setError(null);
    setDone(false);
    const r = await api<{ redirect?: string; user?: { nickname?: string } }>(
      p.method ?? "POST",
      p.action,
      body,
    );
    setBusy(false);
    if (!r.ok) return setError(r.error);
    const target = (p.nextFromHash && nextInHash()) || r.data.redirect || p.redirect;
    if (target) return location.assign(target);
    for (const f of p.fields) {
      if (f.type === "password") (form.elements.namedItem(f.name) as HTMLInputElement).value = "";
    }
    // A new nickname shows at once in the page's top bar too.
    if (r.data.user?.nickname) showMyName(r.data.user.nickname);
    setDone(true);
  }

  const fieldError = (name: string) => error?.field === name ? error : null;
  const formError = error && !p.fields.some((f) => f.name === error.field) ? error : null;

  return (
    <form
      ref={formRef}
      class="card form"
      method="post"
      onSubmit={onSubmit}
      data-form={p.name}
      noValidate
      aria-busy={busy || undefined}
    >
      {p.fields.map((f) => {
        const fe = fieldError(f.name);
        const id = `${p.name}-${f.name}`;
        if (f.type === "hidden") {
          return <input type="hidden" name={f.name} value={f.value} key={f.name} />;
        }
        const common = {
          id,
          name: f.name,
          required: f.required,
          "aria-invalid": fe ? true : undefined,
          "aria-describedby": fe ? `${id}-err` : f.hint ? `${id}-hint` : undefined,
        };
        return (
          <div class="field" key={f.name}>
            <label for={id}>{t(p.locale, f.label)}</label>
            {f.type === "textarea"
              ? (
                <textarea
                  {...common}
                  maxLength={f.maxLength}
                  rows={4}
                  defaultValue={f.value ?? ""}
                />
              )
              : f.type === "select"
              ? (
                <select {...common}>
                  {f.options!.map((o) => (
                    <option key={o.value} value={o.value} selected={o.value === f.value}>
                      {t(p.locale, o.label)}
                    </option>
                  ))}
                </select>
              )
              : (
                <input
                  {...common}
                  type={f.type ?? "text"}
                  autocomplete={f.autocomplete}
                  maxLength={f.maxLength}
                  defaultValue={f.value}
                />
              )}
            {fe
              ? (
                <p class="field-error" id={`${id}-err`} role="alert" data-error={fe.code}>
                  {errorText(p.locale, fe)}
                </p>
              )
              : f.hint && <p class="hint" id={`${id}-hint`}>{t(p.locale, f.hint)}</p>}
          </div>
        );
      })}
      {/* Next to the button, where the eye is after pressing it, also at the end of a long form. */}
      {formError && (
        <p class="alert error" role="alert" data-error={formError.code}>
          {errorText(p.locale, formError)}
        </p>
      )}
      <button type="submit" class="primary" disabled={!ready || busy}>
        {t(p.locale, p.submit)}
      </button>
      {/* Always there (empty until done), so that screen readers announce the change. */}
      <p class="alert ok" role="status" data-done={done && p.done ? "1" : undefined}>
        {done && p.done ? t(p.locale, p.done) : ""}
      </p>
    </form>
  );
}
