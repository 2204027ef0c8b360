/** The invite link's landing page (/join#token=…): shows the group, and joins it on a press. */
import { useEffect, useState } from "preact/hooks";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import { Avatar } from "../components/Avatar.tsx";
import type { ApiError, GroupCard, GroupView } from "../lib/wire/api.ts";
import { api, errorText } from "./api.ts";

export interface GroupJoinProps {
  locale: Locale;
  loggedIn: boolean;
}

type Preview = Omit<GroupCard, "public">;

export default function GroupJoin(p: GroupJoinProps) {
  const [token, setToken] = useState<string | null>(null);
  const [group, setGroup] = useState<Preview | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [member, setMember] = useState(false);
  const [busy, setBusy] = useState(true);

  useEffect(() => {
    // The token travels in the #fragment, so it never reaches server logs or Referer headers.
    const tok = new URLSearchParams(location.hash.slice(1)).get("token") ?? "";
    setToken(tok);
    if (!tok || !p.loggedIn) return setBusy(false);
    api<{ group: Preview }>("POST", "/api/invites/preview", { token: tok }).then((r) => {
      setBusy(false);
      if (r.ok) setGroup(r.data.group);
      else setError(r.error);
    });
  }, []);

  async function join() {
    setBusy(true);
    setError(null);
    const r = await api<{ group: GroupView }>("POST", "/api/invites/join", { token });
    if (r.ok) return location.assign(`/?c=${encodeURIComponent(r.data.group.id)}`);
    setBusy(false);
    if (r.error.code === "already_member") setMember(true);
    else setError(r.error);
  }

  if (token === null) return <p class="muted">{t(p.locale, "chat.loadingOlder")}</p>;
  if (!token) return <p class="alert error" role="alert">{t(p.locale, "group.noToken")}</p>;
  if (!p.loggedIn) {
    return (
      <div class="stack">
        <p class="alert info">{t(p.locale, "group.loginToJoin")}</p>
        <p class="actions">
          {/* Back to this invite after logging in (islands/ApiForm.tsx nextInHash). */}
          <a
            class="button primary"
            href={`/login#next=${encodeURIComponent(location.pathname + location.hash)}`}
            data-testid="join-login"
          >
            {t(p.locale, "nav.login")}
          </a>
          <a class="button" href="/register">{t(p.locale, "nav.register")}</a>
        </p>
      </div>
    );
  }
  return (
    <div class="stack" aria-busy={busy || undefined}>
      {group && (
        <section class="card group-card" data-testid="invite-group" data-group={group.id}>
          <Avatar
            user={{ id: group.id, nickname: group.title, avatarUrl: group.avatarUrl }}
            size={72}
          />
          <h2>{group.title}</h2>
          <p class="muted">{t(p.locale, "chat.members", { n: group.memberCount })}</p>
          {member
            ? (
              <>
                <p class="alert info" role="status">{t(p.locale, "group.alreadyMember")}</p>
                <a class="button primary" href={`/?c=${group.id}`}>
                  {t(p.locale, "group.openChat")}
                </a>
              </>
            )
            : (
              <button
                type="button"
                class="primary"
                onClick={join}
                disabled={busy}
                data-testid="join-group"
              >
                {t(p.locale, "group.join")}
              </button>
            )}
        </section>
      )}
      {error && (
        <p class="alert error" role="alert" data-error={error.code}>
          {errorText(p.locale, error)}
        </p>
      )}
    </div>
  );
}
