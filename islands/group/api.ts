/** The groups HTTP API as the group islands use it (docs/_groups_spec.md). */
import type { GroupInfo as FullGroupInfo, GroupMemberView } from "../../lib/groups/view.ts";
import type { Role } from "../../lib/chat/conversations.ts";

export type GroupRole = Role;
export type GroupMember = GroupMemberView;

/** The group as the API returns it; a non-member's preview has no role and no members. */
export type GroupInfo = Omit<FullGroupInfo, "myRole" | "members"> & {
  myRole?: Role;
  members?: GroupMember[];
};

/** A group as non-members and search results see it. */
export type GroupCardView = Pick<
  GroupInfo,
  "id" | "title" | "avatarUrl" | "memberCount" | "public"
>;

export interface InviteView {
  id: string;
  createdAt: number;
  expiresAt: number | null;
  by?: string;
}

export interface ApiError {
  code: string;
  message: string;
  field?: string;
}

export type ApiResult<T> = { ok: true; status: number; data: T } | {
  ok: false;
  status: number;
  error: ApiError;
};

/** Calls the API with a JSON body (or raw bytes); never throws. */
export async function api<T = Record<string, unknown>>(
  method: string,
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
  try {
    const res = await fetch(path, { method, headers, body: payload });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const error: ApiError = data?.error ??
        { code: "internal", message: res.statusText || "Error" };
      return { ok: false, status: res.status, error };
    }
    return { ok: true, status: res.status, data: data as T };
  } catch {
    return { ok: false, status: 0, error: { code: "network", message: "" } };
  }
}

/**
 * The name a member shows: the viewer's remark for a friend (it wins everywhere, as in WeChat and
 * in the chat: islands/chat/format.ts memberName), else their name in this group, else the nickname.
 */
export function memberName(
  m: Pick<GroupMember, "displayName" | "nickname" | "id">,
  remarks: Record<string, string>,
): string {
  return remarks[m.id] || m.displayName || m.nickname;
}

export const RANK: Record<GroupRole, number> = { owner: 3, admin: 2, member: 1 };
