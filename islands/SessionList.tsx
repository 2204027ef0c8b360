/** The devices logged in to this account, with "log out this device" and "log out everywhere". */
import { useEffect, useState } from "preact/hooks";
import { type Locale, t } from "../lib/i18n/i18n.ts";

interface SessionView {
  id: string;
  lastSeenAt: number;
  userAgent: string;
  ip: string;
  current: boolean;
}

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

  async function load() {
    const res = await fetch("/api/auth/sessions");
    if (res.ok) setList((await res.json()).sessions);
  }
  useEffect(() => {
    load();
  }, []);

  async function end(s: SessionView) {
    const res = await fetch(`/api/auth/sessions/${s.id}`, { method: "DELETE" });
    if (s.current) location.assign("/login");
    else if (res.ok) load();
  }

  async function everywhere() {
    await fetch("/api/auth/logout-everywhere", { method: "POST" });
    location.assign("/login");
  }

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
      <button type="button" class="danger" onClick={everywhere}>
        {t(locale, "settings.logoutEverywhere")}
      </button>
    </div>
  );
}
