/** Reading request bodies: JSON objects with string fields, with clear errors. */
import { HttpError } from "./http_error.ts";
import type { Ctx } from "./state.ts";

const MAX_JSON = 64 * 1024;

/** The JSON object in the body; 400 when it is not one, 413 when larger than 64 KiB. */
export async function readJson(c: Ctx): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.length > MAX_JSON) throw new HttpError(413, "payload_too_large", "Request body is too large");
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new HttpError(400, "bad_json", "Request body is not valid JSON");
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new HttpError(400, "bad_json", "Request body must be a JSON object");
  return v as Record<string, unknown>;
}

/** A string field ("" when absent); 400 when present but not a string. */
export function str(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new HttpError(400, "bad_input", `Field "${name}" must be a string`, { field: name });
  return v;
}

/** The user of a logged-in request, or 401. */
export function requireUser(c: Ctx) {
  const user = c.var.user;
  const session = c.var.session;
  if (!user || !session) throw new HttpError(401, "unauthorized", "Log in first");
  return { user, session };
}
