/** Input checks shared by routes and islands. Each returns an error code (see err.* in i18n) or null. */

export const USERNAME_RE = /^[A-Za-z][A-Za-z0-9_]{2,19}$/;
// Practical address form: one @, no spaces, a dot in the domain, no consecutive dots.
const EMAIL_RE = /^[^\s@"<>()\[\],;:\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
// Controls, format characters (bidi overrides, zero-width characters, soft hyphen…), line and
// paragraph separators and lone surrogates: invisible, or able to reorder or break a line of text.
const INVISIBLE_RE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
// The format characters that visible text needs: a joiner inside an emoji sequence, a non-joiner
// between letters (Persian, Indic scripts), and the tags of a subdivision flag.
const EMOJI_JOINER =
  /(?<=[\p{Extended_Pictographic}\p{Emoji_Modifier}\uFE0F])\u200D(?=\p{Extended_Pictographic})/gu;
const LETTER_NON_JOINER = /(?<=\p{L}\p{M}*)\u200C(?=\p{L})/gu;
const FLAG_TAGS = /\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}/gu;
// Letters that show as blank space.
const FILLERS = /[\u115F\u1160\u3164\uFFA0]/gu;

function hasInvisible(s: string): boolean {
  const visible = s.replace(EMOJI_JOINER, "").replace(LETTER_NON_JOINER, "").replace(
    FLAG_TAGS,
    "🏴",
  );
  return INVISIBLE_RE.test(visible);
}

export const LIMITS = {
  email: 254,
  nickname: 32,
  region: 64,
  bio: 200,
  website: 200,
  feedback: 4000,
} as const;

/** Length in characters as a person counts them (code points). */
export function charLength(s: string): number {
  return [...s].length;
}

export function usernameProblem(s: string): "field_required" | "username_format" | null {
  if (!s) return "field_required";
  return USERNAME_RE.test(s) ? null : "username_format";
}

export function emailProblem(s: string): "field_required" | "email_format" | "field_long" | null {
  if (!s) return "field_required";
  if (s.length > LIMITS.email) return "field_long";
  if (!EMAIL_RE.test(s) || s.includes("..")) return "email_format";
  return null;
}

/** A single-line display text such as a nickname or region. */
export function lineProblem(
  s: string,
  max: number,
  required: boolean,
): "field_required" | "field_long" | "bad_input" | null {
  if (!s) return required ? "field_required" : null;
  if (charLength(s) > max) return "field_long";
  if (hasInvisible(s)) return "bad_input";
  return null;
}

/** Multi-line text (bio, feedback): newlines and tabs allowed, other controls not. */
export function textProblem(
  s: string,
  max: number,
  required: boolean,
): "field_required" | "field_long" | "bad_input" | null {
  if (!s.trim()) return required ? "field_required" : null;
  if (charLength(s) > max) return "field_long";
  if (hasInvisible(s.replace(/[\n\t]/g, ""))) return "bad_input";
  return null;
}

// Letters and digits that pass for others (Cyrillic and Greek look-alikes, digits for letters).
const LOOK_ALIKE_FROM = [..."авекмнорстухіјѕԁɡıαβεηικμνορτυχ01l34578"];
const LOOK_ALIKE_TO = [..."abekmhopctyxijsdgiabehikmvoptyxoiieastb"];
const LOOK_ALIKES = new Map(LOOK_ALIKE_FROM.map((c, i) => [c, LOOK_ALIKE_TO[i]]));

/**
 * What a name looks like, for comparing with reserved names: compatibility forms folded (full-width
 * letters), accents and case dropped, look-alikes mapped, and everything but letters and digits
 * (spaces, punctuation, symbols, invisible characters) left out.
 */
export function nameSkeleton(s: string): string {
  const folded = s.normalize("NFKD").replace(/\p{M}/gu, "").replace(FILLERS, "").toLowerCase();
  return [...folded].map((c) => LOOK_ALIKES.get(c) ?? c).join("").replace(/[^\p{L}\p{N}]/gu, "");
}

// The bot's names, staff words and the brand, as skeletons. "ad min", "ＡＤＭＩＮ" and "r00t" match.
const RESERVED_EXACT = new Set(
  (
    "admin administrator root system support bot search official moderator staff security help " +
    "乐聊 樂聊 机器人 機器人 系统 系統 管理员 管理員 客服 官方"
  ).split(" ").map(nameSkeleton),
);
// Names that contain these are the brand's: "HappyChat Bot", "HappyChat Official", "happybot2".
const RESERVED_PARTS = ["happychat", "happybot"].map(nameSkeleton);
// The Chinese brand only at the start or the end: "快乐聊天" ("happy chatting") has 乐聊 inside.
const RESERVED_ENDS = ["乐聊", "樂聊"];

/** True for the bot's names, staff words, the brand, and anything that looks like them. */
export function reservedName(s: string): boolean {
  const k = nameSkeleton(s);
  if (RESERVED_EXACT.has(k) || RESERVED_PARTS.some((p) => k.includes(p))) return true;
  return RESERVED_ENDS.some((p) => k.length > p.length && (k.startsWith(p) || k.endsWith(p)));
}

/**
 * A name others see next to what someone says (nickname, group title, name in a group): a line
 * that shows as something, and that does not pass for the bot or the staff.
 */
export function nameProblem(
  s: string,
  max: number,
  required: boolean,
): "field_required" | "field_long" | "bad_input" | "name_reserved" | null {
  const p = lineProblem(s, max, required);
  if (p || !s) return p;
  if (!s.replace(FILLERS, "").trim()) return "field_required";
  return reservedName(s) ? "name_reserved" : null;
}

export function websiteProblem(s: string): "website_format" | "field_long" | null {
  if (!s) return null;
  if (s.length > LIMITS.website) return "field_long";
  try {
    const u = new URL(s);
    if (u.protocol !== "http:" && u.protocol !== "https:") return "website_format";
    if (!u.hostname.includes(".") && u.hostname !== "localhost") return "website_format";
    return null;
  } catch {
    return "website_format";
  }
}

export const GENDERS = ["unspecified", "female", "male", "other"] as const;
export type Gender = (typeof GENDERS)[number];
