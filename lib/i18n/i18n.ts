/** UI language: the catalog (zh-CN and en) and choosing a locale. Shared by server and islands. */
import { en } from "./en.ts";
import { zh } from "./zh.ts";

export type Locale = "en" | "zh-CN";
export const LOCALES: readonly Locale[] = ["zh-CN", "en"];
export type MessageKey = keyof typeof en;
export type Params = Record<string, string | number>;

const CATALOGS: Record<Locale, Record<MessageKey, string>> = { en, "zh-CN": zh };

/** Normalizes any language tag to a supported locale, or null. */
export function toLocale(tag: string | null | undefined): Locale | null {
  if (!tag) return null;
  const t = tag.trim().toLowerCase();
  if (t === "zh" || t.startsWith("zh-") || t.startsWith("zh_")) return "zh-CN";
  if (t === "en" || t.startsWith("en-") || t.startsWith("en_")) return "en";
  return null;
}

/** Picks the first supported language from an Accept-Language header, by q-value. */
export function fromAcceptLanguage(header: string | null | undefined): Locale | null {
  if (!header) return null;
  const ranked = header.split(",").map((part, i) => {
    const [tag, ...rest] = part.trim().split(";");
    const q = rest.map((r) => r.trim()).find((r) => r.startsWith("q="));
    return { tag, q: q ? Number(q.slice(2)) || 0 : 1, i };
  }).filter((x) => x.q > 0).sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    const l = toLocale(tag);
    if (l) return l;
  }
  return null;
}

/** The translated message, with {name} placeholders filled. */
export function t(locale: Locale, key: MessageKey, params?: Params): string {
  const text = CATALOGS[locale][key] ?? en[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

/** True when the key exists in the catalog (used for error codes). */
export function hasMessage(key: string): key is MessageKey {
  // Own keys only: `in` would also accept inherited names such as "toString".
  return Object.hasOwn(en, key);
}

/** The catalogs, for the check that both languages have every key. */
export const catalogs = CATALOGS;
