/** Display helpers for the chat views: names, times, date separators, previews. */
import { type Locale, t } from "../../lib/i18n.ts";
import type { ChatState, ConvState } from "../../lib/chat_state.ts";
import type { Message, UserCard } from "../../lib/protocol.ts";

export function displayName(s: ChatState, userId: string, locale: Locale): string {
  if (userId === "bot") return locale === "zh-CN" ? "乐聊机器人" : "HappyChat Bot";
  return s.users[userId]?.nickname ?? "…";
}

/** The title a conversation shows: the peer's name for DMs and the bot, the group name otherwise. */
export function convTitle(c: ConvState, locale: Locale): string {
  if (c.summary.kind === "bot") return locale === "zh-CN" ? "乐聊机器人" : "HappyChat Bot";
  if (c.summary.peer) return c.summary.peer.nickname;
  return c.summary.title || "…";
}

export function convAvatar(c: ConvState): { id: string; nickname: string; avatarUrl: string | null } {
  if (c.summary.peer) return c.summary.peer;
  return { id: c.summary.id, nickname: c.summary.title || "#", avatarUrl: null };
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

export function timeOf(at: number, locale: Locale): string {
  return new Date(at).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
}

/** "14:05" today, "Yesterday", or a short date, for the conversation list. */
export function listTime(at: number, locale: Locale, now = new Date()): string {
  const d = new Date(at);
  if (sameDay(d, now)) return timeOf(at, locale);
  const y = new Date(now);
  y.setDate(now.getDate() - 1);
  if (sameDay(d, y)) return t(locale, "chat.yesterday");
  return d.toLocaleDateString(locale, { month: "numeric", day: "numeric" });
}

/** The label of a date separator. */
export function dayLabel(at: number, locale: Locale, now = new Date()): string {
  const d = new Date(at);
  if (sameDay(d, now)) return t(locale, "chat.today");
  const y = new Date(now);
  y.setDate(now.getDate() - 1);
  if (sameDay(d, y)) return t(locale, "chat.yesterday");
  return d.toLocaleDateString(locale, { year: "numeric", month: "long", day: "numeric", weekday: "short" });
}

export function dayKey(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** The text of a system message, from its meta. */
export function systemText(s: ChatState, m: Message, locale: Locale): string {
  const ev = m.meta?.event ?? "";
  const name = displayName(s, m.meta?.userId ?? m.meta?.by ?? m.from, locale);
  switch (ev) {
    case "created":
      return t(locale, "chat.sys.created", { name });
    case "member_added":
      return t(locale, "chat.sys.member_added", { name });
    case "member_left":
      return t(locale, "chat.sys.member_left", { name });
    case "member_removed":
      return t(locale, "chat.sys.member_removed", { name });
    case "renamed":
      return t(locale, "chat.sys.renamed", { name: displayName(s, m.meta?.by ?? m.from, locale), title: m.meta?.title ?? "" });
    default:
      return m.text || t(locale, "chat.sys.other");
  }
}

/** The list's one-line preview of the last message. */
export function preview(s: ChatState, c: ConvState, locale: Locale): string {
  const last = c.summary.last;
  if (!last) return "";
  if (last.kind === "system") {
    return systemText(s, { conv: c.summary.id, seq: 0, id: "", from: last.from, kind: "system", text: last.text, at: 0, meta: last.meta }, locale);
  }
  const me = s.me?.id;
  if (last.from === me) return `${t(locale, "chat.you")}: ${last.text}`;
  if (c.summary.kind === "group") return `${displayName(s, last.from, locale)}: ${last.text}`;
  return last.text;
}

export type { UserCard };
