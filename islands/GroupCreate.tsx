/** The "New group" page: a name, an optional avatar, and first members picked from friends. */
import { IMAGE_ACCEPT } from "../components/ImagePick.tsx";
import { useEffect, useState } from "preact/hooks";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import type { FriendView } from "../lib/wire/protocol.ts";
import type { ApiError, GroupView } from "../lib/wire/api.ts";
import { api, errorText } from "./api.ts";
import { FriendPicker } from "./group/FriendPicker.tsx";

export interface GroupCreateProps {
  locale: Locale;
  friends: FriendView[];
  titleMax: number;
}

export default function GroupCreate(p: GroupCreateProps) {
  const [ready, setReady] = useState(false);
  const [title, setTitle] = useState("");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => setReady(true), []);
  useEffect(() => () => {
    if (preview) URL.revokeObjectURL(preview);
  }, [preview]);

  function toggle(id: string) {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  }

  function onFile(e: Event) {
    const f = (e.currentTarget as HTMLInputElement).files?.[0] ?? null;
    setFile(f);
    setPreview(f ? URL.createObjectURL(f) : null);
  }

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    const r = await api<{ group: GroupView }>("POST", "/api/groups", {
      title,
      members: [...selected],
    });
    if (!r.ok) {
      setBusy(false);
      setError(r.error);
      if (r.error.field === "title") document.getElementById("group-title")?.focus();
      return;
    }
    const id = r.data.group.id;
    // The group exists now: a picture the server refuses does not undo it (it can be set later).
    if (file) await api("PUT", `/api/groups/${id}/avatar`, file);
    location.assign(`/?c=${encodeURIComponent(id)}`);
  }

  const msg = (e: ApiError) => errorText(p.locale, e);
  const titleErr = error?.field === "title" ? error : null;
  const membersErr = error?.field === "members" ? error : null;
  const formErr = error && !titleErr && !membersErr ? error : null;
  return (
    <form
      class="card form group-create"
      onSubmit={submit}
      noValidate
      aria-busy={busy || undefined}
      data-form="group-create"
    >
      <div class="row group-create-head">
        <label class="avatar-pick" title={t(p.locale, "group.avatar")}>
          {preview
            ? <img class="avatar s72" src={preview} alt="" width={72} height={72} />
            : (
              <span class="avatar s72 letter h4" aria-hidden="true">
                {[...title.trim()][0]?.toUpperCase() ?? "#"}
              </span>
            )}
          <span class="avatar-pick-label">{t(p.locale, "group.avatar")}</span>
          <input
            type="file"
            accept={IMAGE_ACCEPT}
            class="visually-hidden"
            onChange={onFile}
            data-testid="group-avatar-input"
          />
        </label>
        <div class="field grow">
          <label for="group-title">{t(p.locale, "group.name")}</label>
          <input
            id="group-title"
            name="title"
            type="text"
            required
            maxLength={p.titleMax}
            value={title}
            onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)}
            aria-invalid={titleErr ? true : undefined}
            aria-describedby={titleErr ? "group-title-err" : undefined}
            data-testid="group-title"
          />
          {titleErr && <p class="field-error" id="group-title-err" role="alert">{msg(titleErr)}</p>}
        </div>
      </div>
      <FriendPicker
        locale={p.locale}
        id="group-members"
        legend={t(p.locale, "group.pickMembers")}
        friends={p.friends}
        selected={selected}
        onToggle={toggle}
        error={membersErr && msg(membersErr)}
      />
      {formErr && <p class="alert error" role="alert" data-error={formErr.code}>{msg(formErr)}</p>}
      <button type="submit" class="primary" disabled={!ready || busy} data-testid="group-create">
        {t(p.locale, "group.create")}
      </button>
    </form>
  );
}
