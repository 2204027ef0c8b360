/**
 * Fields of a JSON request body (lib/http/body.ts reads it): each reader answers 400 naming the
 * field when it has the wrong type, so handlers only see values of the type they asked for.
 */
import { HttpError } from "../errors.ts";

type Body = Record<string, unknown>;

/** A string field ("" when absent); 400 when present but not a string. */
export function str(body: Body, name: string): string {
  const v = body[name];
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") {
    throw new HttpError(400, "bad_input", `Field "${name}" must be a string`, { field: name });
  }
  return v;
}

/** A boolean field, or undefined when absent. */
export function optBool(body: Body, name: string): boolean | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") {
    throw new HttpError(400, "bad_input", `Field "${name}" must be true or false`, { field: name });
  }
  return v;
}

/** A whole-number field; 400 when absent or not one. */
export function intField(body: Body, name: string): number {
  const v = body[name];
  if (typeof v !== "number" || !Number.isSafeInteger(v)) {
    throw new HttpError(400, "bad_input", `Field "${name}" must be a whole number`, {
      field: name,
    });
  }
  return v;
}

/** A list of user ids (at most 500); 400 when it is anything else. */
export function idList(body: Body, name: string): string[] {
  const v = body[name] ?? [];
  if (!Array.isArray(v) || v.length > 500 || !v.every((x) => typeof x === "string")) {
    throw new HttpError(400, "bad_input", `Field "${name}" must be a list of user ids`, {
      field: name,
    });
  }
  return v as string[];
}
