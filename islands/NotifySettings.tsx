/**
 * "Notifications" on the settings page: Web Push for this device (docs/api.md#push), with or
 * without the message's text. The subscription is the browser's (its push service, its keys); the
 * server keeps it per device and pushes what reached no open page.
 */
import { useEffect, useState } from "preact/hooks";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import type { ApiError } from "../lib/wire/api.ts";
import { api, errorText } from "./api.ts";

type Status = "loading" | "unsupported" | "denied" | "off" | "on";
const PREVIEWS_KEY = "happychat.push.previews";

function keyBytes(b64url: string): Uint8Array<ArrayBuffer> {
  const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(b64 + "=".repeat((4 - b64.length % 4) % 4));
  return Uint8Array.from(raw, (ch) => ch.charCodeAt(0));
}

function supported(): boolean {
  return "serviceWorker" in navigator && "PushManager" in globalThis &&
    "Notification" in globalThis;
}

async function currentSubscription(): Promise<PushSubscription | null> {
  const reg = await navigator.serviceWorker.getRegistration();
  return (await reg?.pushManager.getSubscription()) ?? null;
}

export default function NotifySettings({ locale }: { locale: Locale }) {
  const [status, setStatus] = useState<Status>("loading");
  const [previews, setPreviews] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    if (!supported()) return setStatus("unsupported");
    setPreviews(localStorage.getItem(PREVIEWS_KEY) === "1");
    currentSubscription().then((sub) =>
      setStatus(sub ? "on" : Notification.permission === "denied" ? "denied" : "off")
    ).catch(() => setStatus("off"));
  }, []);

  /** Sends this device's subscription (again, with the previews choice). */
  async function register(sub: PushSubscription, withText: boolean) {
    const r = await api("POST", "/api/push/subscriptions", {
      subscription: sub.toJSON(),
      previews: withText,
    });
    if (!r.ok) throw r.error;
  }

  async function run(work: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (err) {
      setError(
        err && typeof err === "object" && "code" in err
          ? err as ApiError
          : { code: "push_failed", message: String((err as Error)?.message ?? err) },
      );
    } finally {
      setBusy(false);
    }
  }

  const enable = () =>
    run(async () => {
      if (await Notification.requestPermission() !== "granted") return setStatus("denied");
      const key = await api<{ publicKey: string }>("GET", "/api/push");
      if (!key.ok) throw key.error;
      const reg = await navigator.serviceWorker.ready;
      const sub = await reg.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(key.data.publicKey),
      });
      await register(sub, previews);
      setStatus("on");
    });

  const disable = () =>
    run(async () => {
      const sub = await currentSubscription();
      if (sub) {
        await api("DELETE", "/api/push/subscriptions", { endpoint: sub.endpoint });
        await sub.unsubscribe();
      }
      setStatus("off");
    });

  const togglePreviews = (on: boolean) =>
    run(async () => {
      setPreviews(on);
      localStorage.setItem(PREVIEWS_KEY, on ? "1" : "0");
      const sub = await currentSubscription();
      if (sub) await register(sub, on);
    });

  return (
    <div class="card" data-testid="notify" data-status={status}>
      <p class="muted">{t(locale, `notify.${status}`)}</p>
      {status === "off" && (
        <button
          type="button"
          class="primary"
          disabled={busy}
          onClick={enable}
          data-testid="notify-on"
        >
          {t(locale, "notify.enable")}
        </button>
      )}
      {status === "on" && (
        <button type="button" disabled={busy} onClick={disable} data-testid="notify-off">
          {t(locale, "notify.disable")}
        </button>
      )}
      {(status === "on" || status === "off") && (
        <label class="check">
          <input
            type="checkbox"
            checked={previews}
            disabled={busy}
            onChange={(e) => togglePreviews((e.currentTarget as HTMLInputElement).checked)}
            data-testid="notify-previews"
          />
          {t(locale, "notify.previews")}
        </label>
      )}
      {error && (
        <p class="alert error" role="alert" data-error={error.code}>
          {error.code === "push_failed" ? t(locale, "notify.failed") : errorText(locale, error)}
        </p>
      )}
    </div>
  );
}
