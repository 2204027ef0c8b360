/** Group parts of the open conversation: the notice at the top and the muted note above the composer. */
import { useEffect, useState } from "preact/hooks";
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import type { ConvSummary } from "../../lib/wire/protocol.ts";
import { mutedUntil } from "./store.ts";
import { shortTime } from "./system_text.ts";

const dismissKey = (conv: string) => `hc.notice.${conv}`;

/** The group notice, until the reader hides it; a new notice shows again. */
export function GroupNotice({ summary, locale }: { summary: ConvSummary; locale: Locale }) {
  const notice = summary.notice;
  const stamp = notice ? String(notice.at) : "";
  // Read after hydration: the server does not know what this browser hid.
  const [hidden, setHidden] = useState<string | null>(stamp);
  useEffect(() => {
    let v: string | null = null;
    try {
      v = localStorage.getItem(dismissKey(summary.id));
    } catch { /* storage off: show it */ }
    setHidden(v);
  }, [summary.id]);
  if (!notice || hidden === stamp) return null;
  function hide() {
    try {
      localStorage.setItem(dismissKey(summary.id), stamp);
    } catch { /* storage off: hidden for this view only */ }
    setHidden(stamp);
  }
  return (
    <aside
      class="group-notice"
      aria-label={t(locale, "group.noticeTitle")}
      data-testid="group-notice"
    >
      <span class="group-notice-icon" aria-hidden="true">📢</span>
      <p class="pre">{notice.text}</p>
      <button
        type="button"
        class="link"
        onClick={hide}
        aria-label={t(locale, "group.noticeDismiss")}
        data-testid="notice-dismiss"
      >
        ✕
      </button>
    </aside>
  );
}

/** Until when `me` is muted in group `conv` (null: not muted); renders again when it ends. */
export function useMutedUntil(conv: string, me: string | undefined): number | null {
  const until = me ? mutedUntil(conv, me) : null;
  const [, tick] = useState(0);
  useEffect(() => {
    if (!until) return;
    const timer = setTimeout(
      () => tick((n) => n + 1),
      Math.min(until - Date.now() + 500, 2 ** 31 - 1),
    );
    return () => clearTimeout(timer);
  }, [until]);
  return until;
}

/** "You are muted until …" above the composer, while it lasts. */
export function MutedNote({ until, locale }: { until: number | null; locale: Locale }) {
  if (!until) return null;
  return (
    <p class="muted-note" data-testid="muted-note">
      🔇 {t(locale, "group.mutedNote", { time: shortTime(until, locale) })}
    </p>
  );
}

/** Why a send failed, when the server said (e.g. "muted"), to follow "Not sent". */
export function failReason(code: string | undefined, locale: Locale): string {
  if (code !== "muted") return "";
  return (locale === "zh-CN" ? "：" : ": ") + t(locale, "group.mutedSend");
}
