/**
 * Group details the chat screen needs beyond the conversation summary: members' names in the
 * group and who is muted. Loaded from GET /api/groups/:id when a group opens, and again when
 * its membership changes.
 */
import { signal } from "@preact/signals";
import type { GroupView } from "../../lib/wire/api.ts";
import { api } from "../api.ts";

export const groupInfos = signal<Record<string, GroupView>>({});

const timers = new Map<string, ReturnType<typeof setTimeout>>();
const loading = new Map<string, Promise<GroupView | null>>();

/** Fetches a group's details (members' cards go to `onMembers`, e.g. into the chat state). */
export function loadGroupInfo(
  id: string,
  onMembers?: (info: GroupView) => void,
): Promise<GroupView | null> {
  const running = loading.get(id);
  if (running) return running;
  const p = api<{ group: GroupView }>("GET", `/api/groups/${encodeURIComponent(id)}`).then((r) => {
    loading.delete(id);
    if (!r.ok || !r.data.group.members) return null;
    groupInfos.value = { ...groupInfos.value, [id]: r.data.group };
    onMembers?.(r.data.group);
    return r.data.group;
  });
  loading.set(id, p);
  return p;
}

/** Loads again soon (many events in a row make one request). */
export function reloadGroupInfoSoon(
  id: string,
  onMembers?: (info: GroupView) => void,
  ms = 250,
): void {
  clearTimeout(timers.get(id));
  timers.set(id, setTimeout(() => loadGroupInfo(id, onMembers), ms));
}

export function forgetGroupInfo(id: string): void {
  if (!groupInfos.value[id]) return;
  const next = { ...groupInfos.value };
  delete next[id];
  groupInfos.value = next;
}

/** A member's own name in the group, if they chose one. */
export function nameInGroup(conv: string, userId: string): string | undefined {
  return groupInfos.value[conv]?.members?.find((m) => m.id === userId)?.displayName || undefined;
}

/** Until when `userId` is muted in the group (null when not muted now). */
export function mutedUntil(conv: string, userId: string, now = Date.now()): number | null {
  const until = groupInfos.value[conv]?.members?.find((m) => m.id === userId)?.mutedUntil ?? null;
  return until && until > now ? until : null;
}
