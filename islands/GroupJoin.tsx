/**
 * The invite link's landing page (/join#token=…): shows the group, and joins it on a press.
 * Without a token (or with one that failed) it offers a field to paste a link into.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import { Avatar } from "../components/Avatar.tsx";
import type { ApiError, GroupCard, GroupView } from "../lib/wire/api.ts";
import { api, errorText } from "./api.ts";

export interface GroupJoinProps {
  locale: Locale;
  loggedIn: boolean;
}

type Preview = Omit<GroupCard, "public">;

/** The token in a `#token=…` fragment, "" when there is none. */
function hashToken(hash: string): string {
  return new URLSearchParams(hash.replace(/^#/, "")).get("token")?.trim() ?? "";
}

/**
 * The invite token in what a user pasted: a whole link (`https://host/join#token=…`), a path
 * (`/join#token=…`) or the bare token. Null when it holds none.
 */
export function tokenFromInput(value: string, origin: string): string | null {
  const v = value.trim();
  if (!v.includes("#token=")) return v && !v.includes("/") ? v : null;
  try {
    return hashToken(new URL(v, origin).hash) || null;
  } catch {
    // Not a URL at all ("http://[" say): no token in it.
    return null;
  }
}

export default function GroupJoin(p: GroupJoinProps) {
  const [token, setToken] = useState<string | null>(null);
  const [group, setGroup] = useState<Preview | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [member, setMember] = useState(false);
  const [busy, setBusy] = useState(true);
  // Only the newest preview's answer counts: an older one may arrive after it.
  const loads = useRef(0);

  function load(tok: string) {
    const n = ++loads.current;
    setToken(tok);
    setGroup(null);
    setError(null);
    setMember(false);
    if (!tok || !p.loggedIn) return setBusy(false);
    setBusy(true);
    api<{ group: Preview }>("POST", "/api/invites/preview", { token: tok }).then((r) => {
      if (n !== loads.current) return;
      setBusy(false);
      if (r.ok) setGroup(r.data.group);
      else setError(r.error);
    });
  }

  useEffect(() => {
    // The token travels in the #fragment, so it never reaches server logs or Referer headers.
    // A pasted link sets the fragment, and Back restores the one before: each loads its preview.
    const onHash = () => load(hashToken(location.hash));
    onHash();
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);

  /** A pasted link's token goes into the fragment, as if the link had been opened. */
  function open(tok: string) {
    const hash = `#token=${encodeURIComponent(tok)}`;
    // The same fragment again fires no hashchange (a retry after an error): load it here.
    if (location.hash === hash) load(tok);
    else location.hash = hash;
  }

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
  if (!p.loggedIn) return <LoginFirst locale={p.locale} />;
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
      {/* Hidden, not removed, while a pasted link loads: after an error it still holds the text. */}
      {!group && <LinkForm locale={p.locale} hidden={busy} onToken={open} />}
    </div>
  );
}

function LoginFirst({ locale }: { locale: Locale }) {
  return (
    <div class="stack">
      <p class="alert info">{t(locale, "group.loginToJoin")}</p>
      <p class="actions">
        {/* Back to this invite after logging in (islands/ApiForm.tsx nextInHash). */}
        <a
          class="button primary"
          href={`/login#next=${encodeURIComponent(location.pathname + location.hash)}`}
          data-testid="join-login"
        >
          {t(locale, "nav.login")}
        </a>
        <a class="button" href="/register">{t(locale, "nav.register")}</a>
      </p>
    </div>
  );
}

/** "Invite link": paste a link (or its token) to see the group it invites to. */
function LinkForm(
  { locale, hidden, onToken }: {
    locale: Locale;
    hidden: boolean;
    onToken: (token: string) => void;
  },
) {
  const [value, setValue] = useState("");
  const [bad, setBad] = useState(false);
  return (
    <form
      class="card form join-link"
      data-testid="join-link-form"
      hidden={hidden}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const tok = tokenFromInput(value, location.origin);
        setBad(!tok);
        if (tok) onToken(tok);
      }}
    >
      <div class="field">
        <label for="invite-link">{t(locale, "group.inviteLink")}</label>
        <div class="row">
          <input
            id="invite-link"
            type="text"
            name="link"
            value={value}
            autoComplete="off"
            spellcheck={false}
            aria-invalid={bad || undefined}
            aria-describedby={bad ? "invite-link-err" : "invite-link-hint"}
            onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)}
            data-testid="invite-link"
          />
          <button type="submit" class="primary" data-testid="invite-link-open">
            {t(locale, "group.inviteLinkOpen")}
          </button>
        </div>
        {bad
          ? (
            <p class="field-error" id="invite-link-err" role="alert" data-testid="invite-link-err">
              {t(locale, "group.noToken")}
            </p>
          )
          : <p class="hint" id="invite-link-hint">{t(locale, "group.inviteLinkHint")}</p>}
      </div>
    </form>
  );
}
