/** The devices logged in to this account, with "log out this device" and "log out everywhere". */
import { useEffect, useState } from "preact/hooks";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import type { ApiError, SessionView } from "../lib/wire/api.ts";
import { api, type ApiResult, errorText } from "./api.ts";

/** A short device name from a User-Agent string. */
export function deviceName(ua: string): string {
  const browser = /Edg\//.test(ua)
    ? "Edge"
    : /Firefox\//.test(ua)
    ? "Firefox"
    : /Chrome\//.test(ua)
    ? "Chrome"
    : /Safari\//.test(ua)
    ? "Safari"
    : "Browser";
  const os = /iPhone|iPad/.test(ua)
    ? "iOS"
    : /Android/.test(ua)
    ? "Android"
    : /Windows/.test(ua)
    ? "Windows"
    : /Mac OS X/.test(ua)
    ? "macOS"
    : /Linux/.test(ua)
    ? "Linux"
    : "";
  return os ? `${browser} · ${os}` : browser;
}

export default function SessionList({ locale }: { locale: Locale }) {
  const [list, setList] = useState<SessionView[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  async function load() {
    const r = await api<{ sessions: SessionView[] }>("GET", "/api/auth/sessions");
    if (r.ok) setList(r.data.sessions);
    else setError(r.error);
  }
  useEffect(() => {
    load();
  }, []);

  /** After a log-out call: to the login page once this device is logged out, else the error. */
  async function ended(call: Promise<ApiResult<unknown>>, left: boolean) {
    setError(null);
    const r = await call;
    // 401: this device's session had already ended elsewhere.
    if ((r.ok && left) || r.status === 401) location.assign("/login");
    else if (r.ok) await load();
    else setError(r.error);
  }

  const end = (s: SessionView) =>
    ended(api("DELETE", `/api/auth/sessions/${encodeURIComponent(s.id)}`), s.current);
  const everywhere = () => ended(api("POST", "/api/auth/logout-everywhere"), true);

  return (
    <div class="card">
      <ul class="sessions" data-testid="sessions">
        {(list ?? []).map((s) => (
          <li key={s.id} data-current={s.current ? "1" : undefined}>
            <div>
              <strong>{deviceName(s.userAgent)}</strong>
              {s.current && <span class="badge">{t(locale, "settings.thisDevice")}</span>}
              <div class="muted">
                {t(locale, "settings.lastActive", {
                  time: new Date(s.lastSeenAt).toLocaleString(locale),
                })} · {s.ip}
              </div>
            </div>
            <button type="button" class="link" onClick={() => end(s)}>
              {t(locale, "settings.logoutDevice")}
            </button>
          </li>
        ))}
      </ul>
      {error && (
        <p class="alert error" role="alert" data-error={error.code} data-testid="sessions-error">
          {errorText(locale, error)}
        </p>
      )}
      <button type="button" class="danger" onClick={everywhere}>
        {t(locale, "settings.logoutEverywhere")}
      </button>
    </div>
  );
}
