/** The group page's settings: avatar, name, notice and switches for admins; my name for everyone. */
import { useEffect, useState } from "preact/hooks";
import { type Locale, type MessageKey, t } from "../../lib/i18n/i18n.ts";
import type { ApiError, GroupView } from "../../lib/wire/api.ts";
import { api, errorText } from "../api.ts";
import { TextSetting } from "./TextSetting.tsx";
import { ImagePick } from "../../components/ImagePick.tsx";

export const LIMITS = { title: 30, notice: 500, displayName: 32 };

interface Props {
  locale: Locale;
  info: GroupView;
  onChanged: (info?: GroupView) => void;
}

async function patch(p: Props, body: Record<string, unknown>): Promise<ApiError | null> {
  const r = await api<{ group: GroupView }>("PATCH", `/api/groups/${p.info.id}`, body);
  if (!r.ok) return r.error;
  p.onChanged(r.data.group);
  return null;
}

/** Picks a picture and uploads it as the group's avatar at once. */
export function GroupAvatarButton(p: Props) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  async function onFile(file: File) {
    setBusy(true);
    setError(null);
    const r = await api<{ group: GroupView }>("PUT", `/api/groups/${p.info.id}/avatar`, file);
    setBusy(false);
    if (!r.ok) setError(r.error);
    else p.onChanged(r.data.group);
  }
  return (
    <div class="group-avatar-edit">
      <ImagePick
        label={t(p.locale, "group.changeAvatar")}
        busy={busy}
        onFile={onFile}
        testId="group-avatar-input"
        small
      />
      {error && (
        <p class="field-error" role="alert" data-error={error.code}>
          {errorText(p.locale, error)}
        </p>
      )}
    </div>
  );
}

function Switch(p: Props & { name: "public" | "memberInvite"; label: MessageKey }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  // Shows the new state at once; the group's state (also changed by others) wins when it comes.
  const [on, setOn] = useState(p.info[p.name]);
  useEffect(() => setOn(p.info[p.name]), [p.info[p.name]]);
  async function onChange(e: Event) {
    const next = (e.currentTarget as HTMLInputElement).checked;
    setOn(next);
    setBusy(true);
    const err = await patch(p, { [p.name]: next });
    setBusy(false);
    setError(err);
    if (err) setOn(!next);
  }
  return (
    <div class="switch-row">
      <label class="switch">
        <input
          type="checkbox"
          role="switch"
          checked={on}
          onChange={onChange}
          disabled={busy}
          data-testid={`setting-${p.name}`}
        />
        <span>{t(p.locale, p.label)}</span>
      </label>
      {error && <p class="field-error" role="alert">{errorText(p.locale, error)}</p>}
    </div>
  );
}

export function AdminSettings(p: Props) {
  return (
    <section class="card" aria-labelledby="settings-h">
      <h2 id="settings-h">{t(p.locale, "group.settingsTitle")}</h2>
      <TextSetting
        locale={p.locale}
        id="edit-title"
        label="group.name"
        value={p.info.title}
        maxLength={LIMITS.title}
        required
        onSave={(title) => patch(p, { title })}
      />
      <TextSetting
        locale={p.locale}
        id="edit-notice"
        label="group.notice"
        hint="group.noticeHint"
        value={p.info.notice?.text ?? ""}
        multiline
        maxLength={LIMITS.notice}
        onSave={(notice) => patch(p, { notice })}
      />
      <Switch {...p} name="public" label="group.public" />
      <Switch {...p} name="memberInvite" label="group.memberInvite" />
    </section>
  );
}

export function MyName(p: Props & { me: string }) {
  const mine = p.info.members?.find((m) => m.id === p.me);
  return (
    <section class="card" aria-labelledby="myname-h">
      <h2 id="myname-h" class="visually-hidden">{t(p.locale, "group.myName")}</h2>
      <TextSetting
        locale={p.locale}
        id="edit-myname"
        label="group.myName"
        hint="group.myNameHint"
        value={mine?.displayName ?? ""}
        maxLength={LIMITS.displayName}
        onSave={async (displayName) => {
          const r = await api("PUT", `/api/groups/${p.info.id}/me`, { displayName });
          if (!r.ok) return r.error;
          p.onChanged();
          return null;
        }}
      />
    </section>
  );
}
