/** POST /lang: the language switch in the header (a form: works before any script runs). */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { toLocale } from "../lib/i18n/i18n.ts";
import { updateUser } from "../lib/accounts/users.ts";
import { setLangCookie } from "../lib/http/cookies.ts";
import { body, readForm } from "../lib/http/body.ts";
import { HttpError } from "../lib/errors.ts";

export const lang = new Hono<Env>();

/**
 * A path on this site to go back to, else "/". Resolved with the URL parser, as the browser will
 * resolve it: string checks miss what the parser drops or folds ("/\t/evil" becomes "//evil",
 * "/\\evil" becomes "//evil", "/.//evil" has the path "//evil"). Control characters are refused
 * outright (a CR or LF cannot go into a header at all).
 */
function safeBack(raw: string | undefined, appOrigin: string): string {
  // deno-lint-ignore no-control-regex
  if (!raw || !raw.startsWith("/") || /[\x00-\x1f\x7f]/.test(raw)) return "/";
  let url: URL;
  try {
    url = new URL(raw, appOrigin);
  } catch {
    return "/";
  }
  const path = url.pathname + url.search + url.hash;
  if (url.origin !== appOrigin || /^\/[/\\]/.test(path)) return "/";
  return path;
}

lang.post("/", body.form, async (c) => {
  const form = await readForm(c);
  const locale = toLocale(form.lang ?? "");
  if (!locale) throw new HttpError(400, "bad_input", "Unknown language");
  setLangCookie(c, c.var.deps.config, locale);
  if (c.var.user) await updateUser(c.var.deps.kv, c.var.user.id, (u) => ({ ...u, locale }));
  return c.redirect(safeBack(form.back, c.var.deps.config.appOrigin), 303);
});
