/** "Add friends" on the group page: pick friends who are not in the group yet. */
import { useState } from "preact/hooks";
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import type { FriendView } from "../../lib/wire/protocol.ts";
import type { ApiError } from "../../lib/wire/api.ts";
import { api, errorText } from "../api.ts";
import { FriendPicker } from "./FriendPicker.tsx";

export function AddMembers(
  p: {
    locale: Locale;
    group: string;
    friends: FriendView[];
    memberIds: Set<string>;
    onAdded: () => void;
  },
) {
  const [open, setOpen] = useState(false);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  // The built-in bot is everyone's contact: it can be added like a friend, to answer @mentions.
  const bot: FriendView = {
    user: {
      id: "bot",
      username: "happybot",
      nickname: t(p.locale, "bot.name"),
      avatarUrl: "/static/bot.svg",
    },
    remark: "",
    since: 0,
    dm: "",
    initial: "#",
  };
  const candidates = [...p.friends, bot].filter((f) => !p.memberIds.has(f.user.id));

  async function add(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const r = await api("POST", `/api/groups/${p.group}/members`, { userIds: [...selected] });
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setSelected(new Set());
    setOpen(false);
    p.onAdded();
  }

  return (
    <div class="add-members">
      <button
        type="button"
        class="small"
        aria-expanded={open}
        aria-controls="add-members-form"
        onClick={() => setOpen(!open)}
        data-testid="add-members"
      >
        + {t(p.locale, "group.addMembers")}
      </button>
      {open && (
        <form id="add-members-form" class="form" onSubmit={add}>
          {candidates.length
            ? (
              <FriendPicker
                locale={p.locale}
                id="add-picker"
                legend={t(p.locale, "group.addMembers")}
                friends={candidates}
                selected={selected}
                onToggle={(id) => {
                  const next = new Set(selected);
                  if (next.has(id)) next.delete(id);
                  else next.add(id);
                  setSelected(next);
                }}
                error={error ? errorText(p.locale, error) : undefined}
              />
            )
            : <p class="muted">{t(p.locale, "group.noneToAdd")}</p>}
          {candidates.length > 0 && (
            <button type="submit" class="primary" disabled={busy || !selected.size}>
              {t(p.locale, "group.add")}
            </button>
          )}
        </form>
      )}
    </div>
  );
}
