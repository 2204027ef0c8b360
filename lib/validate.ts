/** Input checks shared by routes and islands. Each returns an error code (see err.* in i18n) or null. */

export const USERNAME_RE = /^[A-Za-z][A-Za-z0-9_]{2,19}$/;
// Practical address form: one @, no spaces, a dot in the domain, no consecutive dots.
const EMAIL_RE = /^[^\s@"<>()\[\],;:\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
// Control characters and bidi overrides are never allowed in names.
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

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
  if (CONTROL_RE.test(s)) return "bad_input";
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
  if (CONTROL_RE.test(s.replace(/[\n\t]/g, ""))) return "bad_input";
  return null;
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
