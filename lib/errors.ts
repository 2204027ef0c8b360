/** The one error type routes throw; lib/http/app.ts maps it to an HTML page or a JSON body. */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    /** Stable machine code, e.g. "username_taken". */
    readonly code: string,
    message: string,
    readonly extra: {
      field?: string;
      retryAfter?: number;
      params?: Record<string, string | number>;
    } = {},
  ) {
    super(message);
  }
}

/** Throws an HttpError: for domain code that refuses at the point it finds the problem. */
export function fail(status: number, code: string, message: string, field?: string): never {
  throw new HttpError(status, code, message, { field });
}

/** A failed KV `check()`: someone else changed the data first. */
export function conflict(code: string, message: string, field?: string): HttpError {
  return new HttpError(409, code, message, { field });
}

/** Bad input: nothing was changed. */
export function badRequest(code: string, message: string, field?: string): HttpError {
  return new HttpError(400, code, message, { field });
}
