/** The friends endpoints as the contacts islands call them, through the one API wrapper. */
import { api } from "../api.ts";
import type { FriendView } from "../../lib/wire/protocol.ts";
import type { PersonResult } from "../../lib/wire/api.ts";

const id = (s: string) => encodeURIComponent(s);

export const friendsApi = {
  request: (to: { to?: string; email?: string }, note: string) =>
    api<{ status: "sent" | "friends" }>("POST", "/api/friends/requests", { ...to, note }),
  accept: (from: string) => api<FriendView>("POST", `/api/friends/requests/${id(from)}/accept`),
  decline: (from: string) => api("POST", `/api/friends/requests/${id(from)}/decline`),
  remark: (user: string, remark: string) =>
    api<FriendView>("PUT", `/api/friends/${id(user)}/remark`, { remark }),
  remove: (user: string) => api("DELETE", `/api/friends/${id(user)}`),
  block: (user: string) => api("POST", `/api/blocks/${id(user)}`),
  unblock: (user: string) => api("DELETE", `/api/blocks/${id(user)}`),
  search: (q: string) => api<{ results: PersonResult[] }>("GET", `/api/users/search?q=${id(q)}`),
};
