/**
 * Request bodies: one reader with a cap and a deadline for every route.
 *
 * Each route declares what it reads (`body.json`, `body.form`, `body.none`, `body.upload(max)`).
 * bodyLimits(), early in the app, finds the matched route's declaration and refuses a larger
 * Content-Length before the session lookup, the CSRF check or the handler runs. Small bodies are
 * read right there, counting bytes as they arrive, so a chunked body over its cap is refused just
 * as early and a handler never sees half a body. Uploads are read by the handler once it has
 * checked who may upload: under their own larger cap and a longer deadline.
 */
import type { MiddlewareHandler } from "hono";
import { matchedRoutes, routePath } from "hono/route";
import { HttpError } from "../errors.ts";
import { log } from "../log.ts";
import type { Ctx, Env } from "./state.ts";

export type BodyKind = "json" | "form" | "none" | "upload";

export interface BodyRule {
  kind: BodyKind;
  /** Bytes; a larger body gets `tooBig()`. */
  max: number;
  tooBig: () => HttpError;
}

/** The cap for JSON, forms and requests that need no body. */
export const BODY_MAX = 64 * 1024;

const tooLarge = () => new HttpError(413, "payload_too_large", "Request body is too large");
const rules = new WeakMap<object, BodyRule>();

function declare(rule: BodyRule): MiddlewareHandler<Env> {
  const mw: MiddlewareHandler<Env> = async (c, next) => {
    // Normally bodyLimits() applied this already; a router mounted without it still gets the cap.
    if (!c.var.bodyRule) await applyRule(c, rule);
    await next();
  };
  rules.set(mw, rule);
  return mw;
}

/** Route declarations: `app.post(path, body.json, handler)`. */
export const body = {
  json: declare({ kind: "json", max: BODY_MAX, tooBig: tooLarge }),
  form: declare({ kind: "form", max: BODY_MAX, tooBig: tooLarge }),
  none: declare({ kind: "none", max: BODY_MAX, tooBig: tooLarge }),
  upload: (max: number, tooBig: () => HttpError) => declare({ kind: "upload", max, tooBig }),
};

/** GETs, pages and unknown paths: a body there is bounded and drained like on a no-body route. */
const UNDECLARED: BodyRule = { kind: "none", max: BODY_MAX, tooBig: tooLarge };

/** The rule a route handler declares (tests check that every route with a body has one). */
export function declaredRule(handler: unknown): Readonly<BodyRule> | undefined {
  return typeof handler === "function" ? rules.get(handler) : undefined;
}

/** App-level: the matched route's cap, applied before anything else looks at the request. */
export function bodyLimits(): MiddlewareHandler<Env> {
  return async (c, next) => {
    const found = matchedRoutes(c).map((r) => declaredRule(r.handler)).find(Boolean);
    await applyRule(c, found ?? UNDECLARED);
    await next();
  };
}

async function applyRule(c: Ctx, rule: BodyRule): Promise<void> {
  c.set("bodyRule", rule);
  if (Number(c.req.header("Content-Length") ?? "0") > rule.max) throw rule.tooBig();
  if (rule.kind !== "upload") {
    c.set("body", await readCapped(c.req.raw, rule, c.var.deps.config.bodyTimeoutMs));
  }
}

/**
 * The body's bytes, refused with `rule.tooBig()` as soon as more than `rule.max` have arrived
 * and with 408 when the whole body has not arrived within `timeoutMs`: a huge, endless or
 * trickled body is never buffered or waited for.
 */
async function readCapped(req: Request, rule: BodyRule, timeoutMs: number): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"expired">((resolve) => {
    timer = setTimeout(() => resolve("expired"), timeoutMs);
  });
  try {
    for (;;) {
      const r = await Promise.race([reader.read(), expired]).catch(() => {
        throw new HttpError(400, "body_incomplete", "Request body was cut off");
      });
      if (r === "expired") {
        throw new HttpError(408, "body_timeout", "Request body took too long to arrive");
      }
      if (r.done) break;
      total += r.value.length;
      if (total > rule.max) throw rule.tooBig();
      parts.push(r.value);
    }
  } catch (err) {
    reader.cancel().catch((e) => log.warn("http.body_cancel", { err: e }));
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return new Uint8Array(await new Blob(parts).arrayBuffer());
}

/** The bytes bodyLimits() read for this request. */
function readBytes(c: Ctx): Uint8Array {
  const bytes = c.var.body;
  // A programming error (500): the route reads a body its declaration says it does not.
  if (!bytes) throw new Error(`Route "${routePath(c)}" reads a body it did not declare`);
  return bytes;
}

function parseObject(bytes: Uint8Array): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new HttpError(400, "bad_json", "Request body is not valid JSON");
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) {
    throw new HttpError(400, "bad_json", "Request body must be a JSON object");
  }
  return v as Record<string, unknown>;
}

/** The JSON object in the body; 400 when it is not one. */
export function readJson(c: Ctx): Record<string, unknown> {
  return parseObject(readBytes(c));
}

/** The JSON object in the body, or {} when there is none (endpoints whose fields are optional). */
export function readOptionalJson(c: Ctx): Record<string, unknown> {
  const bytes = readBytes(c);
  return new TextDecoder().decode(bytes).trim() ? parseObject(bytes) : {};
}

/** A form's text fields (urlencoded or multipart; the first value of each name). */
export async function readForm(c: Ctx): Promise<Record<string, string>> {
  const bytes = readBytes(c);
  const type = c.req.header("Content-Type") ?? "";
  const out: Record<string, string> = {};
  if (/^multipart\/form-data\s*;/i.test(type)) {
    let form: FormData;
    try {
      form = await new Response(bytes as Uint8Array<ArrayBuffer>, {
        headers: { "Content-Type": type },
      }).formData();
    } catch {
      throw new HttpError(400, "bad_input", "Request body is not a valid form");
    }
    for (const [k, v] of form) if (typeof v === "string" && !(k in out)) out[k] = v;
    return out;
  }
  for (const [k, v] of new URLSearchParams(new TextDecoder().decode(bytes))) {
    if (!(k in out)) out[k] = v;
  }
  return out;
}

/** An upload's bytes, under the route's declared cap and the upload deadline. */
export async function readUpload(c: Ctx): Promise<Uint8Array> {
  const rule = c.var.bodyRule;
  if (rule?.kind !== "upload") {
    throw new Error(`Route "${routePath(c)}" reads an upload it did not declare`);
  }
  return await readCapped(c.req.raw, rule, c.var.deps.config.uploadTimeoutMs);
}
