/**
 * The one way islands call the HTTP API (docs/api.md): JSON in and out, or a picture's bytes
 * up. It never throws: a refusal comes back with the server's error, and no answer at all (offline,
 * a proxy's HTML page) as code "network" or "internal" with no message. errorText() puts either
 * into words for the user.
 */
import { type Locale, t } from "../lib/i18n/i18n.ts";
import type { ApiError } from "../lib/wire/api.ts";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type ApiResult<T> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number; error: ApiError };

/** `body`: a Blob is sent as it is (its own type), anything else as JSON; none when undefined. */
export async function api<T = Record<string, unknown>>(
  method: Method,
  path: string,
  body?: unknown,
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { Accept: "application/json" };
  let payload: BodyInit | undefined;
  if (body instanceof Blob) payload = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload });
  } catch {
    return { ok: false, status: 0, error: { code: "network", message: "" } };
  }
  // An answer that is not JSON (an empty 204, a proxy's error page) reads as {}.
  const data = await res.json().catch(() => ({}));
  if (res.ok) return { ok: true, status: res.status, data: data as T };
  const error: ApiError = isApiError(data?.error) ? data.error : { code: "internal", message: "" };
  return { ok: false, status: res.status, error };
}

function isApiError(v: unknown): v is ApiError {
  return typeof v === "object" && v !== null && typeof (v as ApiError).code === "string" &&
    typeof (v as ApiError).message === "string";
}

/** What to show for a failed call: the server's words, or a general line when it sent none. */
export function errorText(locale: Locale, e: ApiError): string {
  return e.message || t(locale, "err.internal");
}
