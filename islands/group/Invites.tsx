/** Invite links (admins): create one with an expiry, copy it (shown once), revoke old ones. */
import { useEffect, useRef, useState } from "preact/hooks";
import { type Locale, type MessageKey, t } from "../../lib/i18n/i18n.ts";
import type { ApiError, InviteView } from "../../lib/wire/api.ts";
import { api, errorText, type Method } from "../api.ts";
import { shortTime } from "./system_text.ts";

const EXPIRY: [string, MessageKey][] = [
  ["1", "group.hour1"],
  ["24", "group.day1"],
  ["168", "group.day7"],
  ["720", "group.day30"],
  ["", "group.never"],
];

export function Invites({ locale, group }: { locale: Locale; group: string }) {
  const [list, setList] = useState<InviteView[]>([]);
  const [hours, setHours] = useState("168");
  const [url, setUrl] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const urlRef = useRef<HTMLInputElement>(null);

  async function load() {
    const r = await api<{ invites: InviteView[] }>("GET", `/api/groups/${group}/invites`);
    if (r.ok) setList(r.data.invites.sort((a, b) => b.createdAt - a.createdAt));
  }
  useEffect(() => {
    load();
  }, [group]);

  async function act(method: Method, path: string, body?: unknown) {
    setBusy(true);
    setError(null);
    const r = await api<{ url?: string }>(method, path, body);
    setBusy(false);
    if (!r.ok) return setError(r.error);
    if (r.data.url) {
      setUrl(r.data.url);
      setCopied(false);
    }
    load();
  }

  async function copy() {
    if (!url) return;
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      // No clipboard permission: select the text so that the user can copy it by hand.
      urlRef.current?.select();
    }
    setCopied(true);
  }

  return (
    <section class="card" aria-labelledby="invites-h" data-testid="invites">
      <h2 id="invites-h">{t(locale, "group.invitesTitle")}</h2>
      <form
        class="row wrap"
        onSubmit={(e) => {
          e.preventDefault();
          act("POST", `/api/groups/${group}/invites`, { hours: hours ? Number(hours) : null });
        }}
      >
        <label for="invite-hours">{t(locale, "group.inviteExpiry")}</label>
        <select
          id="invite-hours"
          class="auto"
          value={hours}
          onChange={(e) => setHours((e.currentTarget as HTMLSelectElement).value)}
          data-testid="invite-hours"
        >
          {EXPIRY.map(([v, key]) => <option key={v} value={v}>{t(locale, key)}</option>)}
        </select>
        <button type="submit" class="primary small" disabled={busy} data-testid="invite-create">
          {t(locale, "group.inviteCreate")}
        </button>
      </form>
      {url && (
        <div class="invite-new">
          <label for="invite-url">{t(locale, "group.inviteNew")}</label>
          <div class="row">
            <input
              id="invite-url"
              ref={urlRef}
              type="text"
              readOnly
              value={url}
              onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
              data-testid="invite-url"
            />
            <button type="button" onClick={copy} data-testid="invite-copy">
              {t(locale, "group.copy")}
            </button>
          </div>
          <p class="hint" role="status">{copied ? t(locale, "group.copied") : ""}</p>
        </div>
      )}
      {error && (
        <p class="alert error" role="alert" data-error={error.code}>
          {errorText(locale, error)}
        </p>
      )}
      {!list.length && <p class="muted">{t(locale, "group.noInvites")}</p>}
      <ul class="plain-list">
        {list.map((inv) => (
          <li key={inv.id} data-testid="invite">
            <span class="muted">
              {inv.expiresAt
                ? t(locale, "group.inviteExpires", {
                  created: shortTime(inv.createdAt, locale),
                  expires: shortTime(inv.expiresAt, locale),
                })
                : t(locale, "group.inviteForever", { created: shortTime(inv.createdAt, locale) })}
            </span>
            <button
              type="button"
              class="link danger"
              onClick={() => act("DELETE", `/api/groups/${group}/invites/${inv.id}`)}
              disabled={busy}
              data-testid="invite-revoke"
            >
              {t(locale, "group.revoke")}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
