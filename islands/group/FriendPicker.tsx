/** Choose friends (to create a group with, or to add to one): a filter box and a list of checkboxes. */
import { useState } from "preact/hooks";
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import type { FriendView } from "../../lib/wire/protocol.ts";
import { Avatar } from "../../components/Avatar.tsx";

export interface FriendPickerProps {
  locale: Locale;
  id: string;
  friends: FriendView[];
  selected: Set<string>;
  onToggle: (userId: string) => void;
  legend: string;
  error?: string | null;
}

export function friendName(f: FriendView): string {
  return f.remark || f.user.nickname;
}

export function FriendPicker(p: FriendPickerProps) {
  const [q, setQ] = useState("");
  const needle = q.trim().toLowerCase();
  const list = [...p.friends]
    .sort((a, b) => friendName(a).localeCompare(friendName(b), p.locale))
    .filter((f) =>
      !needle ||
      [f.remark, f.user.nickname, f.user.username].some((s) => s.toLowerCase().includes(needle))
    );
  return (
    <fieldset class="picker" aria-describedby={p.error ? `${p.id}-err` : undefined}>
      <legend>
        {p.legend}
        <span class="muted picker-count" aria-live="polite">
          {t(p.locale, "group.selected", { n: p.selected.size })}
        </span>
      </legend>
      {p.friends.length > 6 && (
        <input
          type="search"
          class="picker-filter"
          value={q}
          onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)}
          aria-label={t(p.locale, "group.filterFriends")}
          placeholder={t(p.locale, "group.filterFriends")}
        />
      )}
      {!list.length && (
        <p class="muted">{t(p.locale, needle ? "group.noMatch" : "group.noFriends")}</p>
      )}
      <ul class="picker-list">
        {list.map((f) => (
          <li key={f.user.id}>
            <label class="picker-item" data-testid="pick-friend" data-user={f.user.id}>
              <input
                type="checkbox"
                checked={p.selected.has(f.user.id)}
                onChange={() => p.onToggle(f.user.id)}
              />
              <Avatar user={f.user} size={40} />
              <span class="picker-name">
                <span>{friendName(f)}</span>
                <span class="muted">@{f.user.username}</span>
              </span>
            </label>
          </li>
        ))}
      </ul>
      {p.error && <p class="field-error" id={`${p.id}-err`} role="alert">{p.error}</p>}
    </fieldset>
  );
}
