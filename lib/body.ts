/** Reading request bodies: JSON objects with string fields, with clear errors. */
import { HttpError } from "./http_error.ts";
import type { Ctx } from "./state.ts";

const MAX_JSON = 64 * 1024;

/**
 * The body's bytes, refused with `tooBig()` as soon as more than `max` bytes are declared or have
 * arrived: a huge or endless body is never buffered or waited for.
 */
export async function readBytes(
  req: Request,
  max: number,
  tooBig: () => HttpError,
): Promise<Uint8Array> {
  if (Number(req.headers.get("Content-Length") ?? "0") > max) throw tooBig();
  if (!req.body) return new Uint8Array();
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    total += r.value.length;
    if (total > max) {
      reader.cancel().catch(() => {});
      throw tooBig();
    }
    parts.push(r.value);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** The JSON object in the body; 400 when it is not one, 413 when larger than 64 KiB. */
export async function readJson(c: Ctx): Promise<Record<string, unknown>> {
  const bytes = await readBytes(
    c.req.raw,
    MAX_JSON,
    () => new HttpError(413, "payload_too_large", "Request body is too large"),
  );
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

/** A string field ("" when absent); 400 when present but not a string. */
export function str(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") {
    throw new HttpError(400, "bad_input", `Field "${name}" must be a string`, { field: name });
  }
  return v;
}

/** The user of a logged-in request, or 401. */
export function requireUser(c: Ctx) {
  const user = c.var.user;
  const session = c.var.session;
  if (!user || !session) throw new HttpError(401, "unauthorized", "Log in first");
  return { user, session };
}
