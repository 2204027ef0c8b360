/** Health, metrics, built and static files, avatars, language switch and form logout. */
import { Hono } from "hono";
import { serveStatic } from "hono/deno";
import type { Env } from "../lib/http/state.ts";
import { renderGuardMetrics, renderMetrics } from "../lib/http/metrics.ts";
import { isLocalRequest } from "../lib/http/security.ts";
import { getBlob } from "../lib/kv/blobs.ts";
import { HttpError } from "../lib/errors.ts";
import { toLocale } from "../lib/i18n/i18n.ts";
import { updateUser } from "../lib/accounts/users.ts";
import { revokeSession } from "../lib/accounts/sessions.ts";
import { clearSessionCookie, setLangCookie } from "../lib/http/cookies.ts";
import { body, readForm } from "../lib/http/body.ts";

export const systemRoutes = new Hono<Env>();

systemRoutes.get("/healthz", async (c) => {
  await c.var.deps.kv.get(["healthz"]);
  return c.json({ ok: true });
});

/** Prometheus text. Open to loopback, or with `Authorization: Bearer $METRICS_TOKEN`. */
systemRoutes.get("/metrics", (c) => {
  const token = c.var.deps.config.metricsToken;
  const auth = c.req.header("Authorization");
  const ok = isLocalRequest(c) || (token && auth === `Bearer ${token}`);
  if (!ok) {
    throw new HttpError(403, "forbidden", "Metrics are only served to loopback or with a token");
  }
  const guard = c.var.deps.guard?.stats();
  return c.text(renderMetrics() + (guard ? renderGuardMetrics(guard) : ""), 200, {
    "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
  });
});

systemRoutes.get("/_build/:hash/:name", async (c) => {
  const bytes = await c.var.deps.assets.readBuilt(c.req.param("hash"), c.req.param("name"));
  if (!bytes) throw new HttpError(404, "not_found", "Not found");
  return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
    "Content-Type": "text/javascript; charset=utf-8",
    "Cache-Control": "public, max-age=31536000, immutable",
  });
});

systemRoutes.use(
  "/static/*",
  async (c, next) => {
    await next();
    if (c.res.ok) c.header("Cache-Control", "public, max-age=3600");
  },
  serveStatic({ root: "./" }),
);

/** Avatars are public to logged-in users; served with the stored type and a sandbox CSP. */
systemRoutes.get("/avatars/:id", async (c) => {
  if (!c.var.user) throw new HttpError(401, "unauthorized", "Log in first");
  const id = c.req.param("id");
  if (!/^[0-9a-z]{20}$/.test(id)) throw new HttpError(404, "not_found", "Not found");
  const blob = await getBlob(c.var.deps.kv, id);
  if (!blob || !blob.meta.type.startsWith("image/")) {
    throw new HttpError(404, "not_found", "Not found");
  }
  return c.body(blob.bytes as Uint8Array<ArrayBuffer>, 200, {
    "Content-Type": blob.meta.type,
    "Cache-Control": "private, max-age=31536000, immutable",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Content-Disposition": `inline; filename="${id}.jpg"`,
  });
});

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

systemRoutes.post("/lang", body.form, async (c) => {
  const form = await readForm(c);
  const locale = toLocale(form.lang ?? "");
  if (!locale) throw new HttpError(400, "bad_input", "Unknown language");
  setLangCookie(c, c.var.deps.config, locale);
  if (c.var.user) await updateUser(c.var.deps.kv, c.var.user.id, (u) => ({ ...u, locale }));
  return c.redirect(safeBack(form.back, c.var.deps.config.appOrigin), 303);
});

systemRoutes.post("/logout", body.none, async (c) => {
  if (c.var.user && c.var.session) {
    await revokeSession(c.var.deps.kv, c.var.user.id, c.var.session.id);
    await c.var.deps.rt.endSessions(c.var.user.id, c.var.session.id);
  }
  clearSessionCookie(c, c.var.deps.config);
  return c.redirect("/login", 303);
});
