/** The text of a group system message, for every event lib/groups/groups.ts writes, in both languages. */
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import type { Message } from "../../lib/wire/protocol.ts";

/** A short date and time ("5/14 14:05"), for mute ends and link expiries. */
export function shortTime(at: number, locale: Locale): string {
  return new Date(at).toLocaleString(locale, {
    month: "numeric",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

function settingsText(text: string | undefined, by: string, locale: Locale): string {
  let s: { public?: boolean; memberInvite?: boolean } = {};
  try {
    s = text ? JSON.parse(text) : {};
  } catch { /* an unreadable change still shows as a settings change */ }
  const parts: string[] = [];
  if (s.public !== undefined) {
    parts.push(t(locale, s.public ? "chat.sys.public" : "chat.sys.private", { name: by }));
  }
  if (s.memberInvite !== undefined) {
    parts.push(
      t(locale, s.memberInvite ? "chat.sys.memberInviteOn" : "chat.sys.memberInviteOff", {
        name: by,
      }),
    );
  }
  return parts.join(locale === "zh-CN" ? "；" : "; ") || t(locale, "chat.sys.other");
}

/** `name(id)` gives the name the viewer sees for a user in this group. */
export function groupSystemText(
  m: Message,
  locale: Locale,
  name: (id: string) => string,
): string | null {
  const meta = m.meta;
  if (!meta) return null;
  const by = name(meta.by ?? m.from);
  const who = meta.userId ? name(meta.userId) : by;
  switch (meta.event) {
    case "created":
      return t(locale, "chat.sys.created", { name: by });
    case "renamed":
      return t(locale, "chat.sys.renamed", { name: by, title: meta.title ?? "" });
    case "notice":
      return t(locale, meta.text ? "chat.sys.notice" : "chat.sys.noticeCleared", { name: by });
    case "avatar":
      return t(locale, "chat.sys.avatar", { name: by });
    case "settings":
      return settingsText(meta.text, by, locale);
    case "member_added":
      if (meta.text === "link") return t(locale, "chat.sys.joinedLink", { name: who });
      if (meta.text === "request") return t(locale, "chat.sys.joinedRequest", { name: who, by });
      if (meta.text === "public" || !meta.by || meta.by === meta.userId) {
        return t(locale, "chat.sys.member_added", { name: who });
      }
      return t(locale, "chat.sys.invited", { name: who, by });
    case "member_left":
      return t(locale, "chat.sys.member_left", { name: who });
    case "member_removed":
      return meta.by
        ? t(locale, "chat.sys.kicked", { name: who, by })
        : t(locale, "chat.sys.member_removed", { name: who });
    case "admin_added":
    case "admin_removed":
    case "owner_changed":
      return t(locale, `chat.sys.${meta.event}`, { name: who });
    case "muted":
      return t(locale, "chat.sys.muted", {
        name: who,
        by,
        time: meta.until ? shortTime(meta.until, locale) : "",
      });
    case "unmuted":
      return t(locale, "chat.sys.unmuted", { name: who, by });
    case "dissolved":
      return t(locale, "chat.sys.dissolved", { name: by });
    default:
      return null;
  }
}
