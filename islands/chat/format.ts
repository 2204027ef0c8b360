/** Display helpers for the chat views: names, times, time separators, previews. */
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import type { ChatState, ConvState } from "../../lib/client/state.ts";
import { isEmoji, type Message, type UserCard } from "../../lib/wire/protocol.ts";
import { groupSystemText } from "../group/system_text.ts";
import { nameInGroup } from "../group/store.ts";

export function displayName(s: ChatState, userId: string, locale: Locale): string {
  if (userId === "bot") return t(locale, "bot.name");
  // A friend's remark (the alias only this user sees) replaces their nickname everywhere.
  return s.friends[userId]?.remark || s.users[userId]?.nickname || "…";
}

/**
 * The title a conversation shows: the peer's name for DMs (their remark, when `s` is given and
 * they are a friend with one) and the bot, the group name otherwise.
 */
export function convTitle(c: ConvState, locale: Locale, s?: ChatState): string {
  if (c.summary.kind === "bot") return t(locale, "bot.name");
  if (c.summary.peer) return (s && s.friends[c.summary.peer.id]?.remark) || c.summary.peer.nickname;
  return c.summary.title || "…";
}

export function convAvatar(
  c: ConvState,
): { id: string; nickname: string; avatarUrl: string | null } {
  if (c.summary.peer) return c.summary.peer;
  return {
    id: c.summary.id,
    nickname: c.summary.title || "#",
    avatarUrl: c.summary.avatarUrl ?? null,
  };
}

/** Whole local calendar days from `d` back to `now`: 0 today, 1 yesterday, negative ahead. */
function daysBefore(d: Date, now: Date): number {
  const midnight = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  // Rounded: a day with a daylight-saving change is 23 or 25 hours long.
  return Math.round((midnight(now) - midnight(d)) / 86_400_000);
}

/**
 * Intl formatters, made once per locale and shape. The first one a page builds loads ICU's date
 * patterns, about 50 ms of main thread on a phone, so the times the chat list and the bubbles show
 * are written by hand below and only the rarer long dates use Intl.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
export function dateFormat(
  locale: Locale,
  options: Intl.DateTimeFormatOptions,
): Intl.DateTimeFormat {
  const key = locale + JSON.stringify(options);
  let f = formatters.get(key);
  if (!f) formatters.set(key, f = new Intl.DateTimeFormat(locale, options));
  return f;
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** The local time of day: "14:05" in Chinese, "2:05 PM" in English. */
export function timeOf(at: number, locale: Locale): string {
  const d = new Date(at);
  const h = d.getHours(), m = pad2(d.getMinutes());
  if (locale === "zh-CN") return `${pad2(h)}:${m}`;
  return `${h % 12 || 12}:${m} ${h < 12 ? "AM" : "PM"}`;
}

/** "14:05" today, "Yesterday", or a short date, for the conversation list. */
export function listTime(at: number, locale: Locale, now = new Date()): string {
  const d = new Date(at);
  const days = daysBefore(d, now);
  if (days === 0) return timeOf(at, locale);
  if (days === 1) return t(locale, "chat.yesterday");
  return `${d.getMonth() + 1}/${d.getDate()}`;
}

/** A day's name: "Today", "Yesterday" or a long date (the search results' dates). */
export function dayLabel(at: number, locale: Locale, now = new Date()): string {
  const d = new Date(at);
  const days = daysBefore(d, now);
  if (days === 0) return t(locale, "chat.today");
  if (days === 1) return t(locale, "chat.yesterday");
  return dateFormat(locale, { year: "numeric", month: "long", day: "numeric", weekday: "short" })
    .format(d);
}

/**
 * The label of a time separator in a conversation, in the viewer's time zone: "14:05" today,
 * "昨天 14:05", the weekday within the last six days, else the date (with the year when it is
 * another year's). Only the rarer weekday and date use Intl; today and yesterday need none.
 */
export function sepLabel(at: number, locale: Locale, now = new Date()): string {
  const d = new Date(at);
  const time = timeOf(at, locale);
  const days = daysBefore(d, now);
  if (days === 0) return time;
  if (days === 1) return `${t(locale, "chat.yesterday")} ${time}`;
  const zh = locale === "zh-CN";
  if (days > 1 && days <= 6) {
    return `${dateFormat(locale, { weekday: zh ? "long" : "short" }).format(d)} ${time}`;
  }
  const date = dateFormat(locale, {
    ...(d.getFullYear() !== now.getFullYear() ? { year: "numeric" } : {}),
    month: zh ? "long" : "short",
    day: "numeric",
  }).format(d);
  return `${date}${zh ? " " : ", "}${time}`;
}

/**
 * Whether a time separator goes above `m`, given the message shown before it: above the first,
 * on a new local day, or once RUN_MS have passed since the one before.
 */
export function needsSep(prev: Message | undefined, m: Message): boolean {
  return !prev || dayKey(prev.at) !== dayKey(m.at) || m.at - prev.at >= RUN_MS;
}

/** Messages of one sender this close together form a run. */
export const RUN_MS = 5 * 60_000;

/**
 * Whether `b` continues `a`'s run (one avatar and name at its start, one time at its end): both
 * plain messages, one sender, one day, less than RUN_MS apart.
 */
export function sameRun(a: Message | undefined, b: Message | undefined): boolean {
  const plain = (m: Message | undefined): m is Message =>
    !!m && m.kind !== "system" && m.kind !== "update" && !m.recalled;
  return plain(a) && plain(b) && a.from === b.from && dayKey(a.at) === dayKey(b.at) &&
    b.at - a.at < RUN_MS;
}

export function dayKey(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/**
 * A name in a group: the viewer's remark for a friend (as in WeChat, it wins everywhere the viewer
 * sees that friend), else the member's own name there, else the nickname.
 */
export function memberName(s: ChatState, conv: string, userId: string, locale: Locale): string {
  return s.friends[userId]?.remark || nameInGroup(conv, userId) || displayName(s, userId, locale);
}

/** The text of a system message, from its meta. */
export function systemText(s: ChatState, m: Message, locale: Locale): string {
  return groupSystemText(m, locale, (id) => memberName(s, m.conv, id, locale)) ??
    (m.text || t(locale, "chat.sys.other"));
}

/** The list's one-line preview of the last message. */
export function preview(s: ChatState, c: ConvState, locale: Locale): string {
  const last = c.summary.last;
  // A new friend's chat, with nothing in it yet: as in WeChat, a word to start with.
  if (!last) return c.summary.kind === "dm" ? t(locale, "chat.sayHi") : "";
  if (last.kind === "system") {
    return systemText(s, {
      conv: c.summary.id,
      seq: 0,
      id: "",
      from: last.from,
      kind: "system",
      text: last.text,
      at: 0,
      meta: last.meta,
    }, locale);
  }
  const me = s.me?.id;
  if (last.kind === "update") {
    const name = last.from === me
      ? t(locale, "chat.you")
      : memberName(s, c.summary.id, last.from, locale);
    if (last.meta?.event === "recall") {
      return last.from === me
        ? t(locale, "chat.recalledMine")
        : t(locale, "chat.recalled", { name });
    }
    return t(locale, "chat.reacted", { name, emoji: last.meta?.emoji ?? last.text });
  }
  const body = last.media
    ? `[${t(locale, last.media === "image" ? "chat.image" : "chat.file")}]${
      last.text ? " " + last.text : ""
    }`
    : last.text;
  if (last.from === me) return `${t(locale, "chat.you")}: ${body}`;
  if (c.summary.kind === "group") {
    return `${memberName(s, c.summary.id, last.from, locale)}: ${body}`;
  }
  return body;
}

/** Made on first use: a Segmenter loads the break-iterator data, tens of ms on a phone's start. */
let graphemes: Intl.Segmenter | null | undefined;

/** Whether a text is only emoji, at most `max` of them (shown large, as chat apps do). */
export function emojiOnly(text: string, max = 3): boolean {
  if (text.length > 64) return false;
  graphemes ??= typeof Intl !== "undefined" && "Segmenter" in Intl ? new Intl.Segmenter() : null;
  if (!graphemes) return false;
  let n = 0;
  for (const { segment } of graphemes.segment(text)) {
    if (/^\s+$/.test(segment)) continue;
    if (!isEmoji(segment) || ++n > max) return false;
  }
  return n > 0;
}

export type { UserCard };
