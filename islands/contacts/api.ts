/** Calls to the friends API from the contacts islands, with the server's error as a value. */
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import type { FriendView, UserCard } from "../../lib/wire/protocol.ts";

export interface ApiError {
  code: string;
  message: string;
  field?: string;
}

export type Result<T> = { ok: true; data: T } | { ok: false; error: ApiError };

export async function call<T = { ok: true }>(
  locale: Locale,
  method: string,
  path: string,
  body?: unknown,
): Promise<Result<T>> {
  try {
    const res = await fetch(path, {
      method,
      headers: {
        Accept: "application/json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      return {
        ok: false,
        error: data.error ?? { code: "internal", message: t(locale, "err.internal") },
      };
    }
    return { ok: true, data: data as T };
  } catch {
    return { ok: false, error: { code: "network", message: t(locale, "err.internal") } };
  }
}

const id = (s: string) => encodeURIComponent(s);

export const friendsApi = {
  request: (l: Locale, to: { to?: string; email?: string }, note: string) =>
    call<{ status: "sent" | "friends" }>(l, "POST", "/api/friends/requests", { ...to, note }),
  accept: (l: Locale, from: string) =>
    call<FriendView>(l, "POST", `/api/friends/requests/${id(from)}/accept`),
  decline: (l: Locale, from: string) =>
    call(l, "POST", `/api/friends/requests/${id(from)}/decline`),
  remark: (l: Locale, user: string, remark: string) =>
    call<FriendView>(l, "PUT", `/api/friends/${id(user)}/remark`, { remark }),
  remove: (l: Locale, user: string) => call(l, "DELETE", `/api/friends/${id(user)}`),
  block: (l: Locale, user: string) => call(l, "POST", `/api/blocks/${id(user)}`),
  unblock: (l: Locale, user: string) => call(l, "DELETE", `/api/blocks/${id(user)}`),
  search: (l: Locale, q: string) =>
    call<
      { results: { user: UserCard; remark: string; relation: "friend" | "pending" | "none" }[] }
    >(l, "GET", `/api/users/search?q=${id(q)}`),
};
