/** The member list of the group page, with each member's actions as the viewer's role allows. */
import { Button } from "../../components/Button.tsx";
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { type Locale, type MessageKey, t } from "../../lib/i18n/i18n.ts";
import { Avatar } from "../../components/Avatar.tsx";
import type { ApiError, GroupMemberView, GroupView } from "../../lib/wire/api.ts";
import { RANK } from "../../lib/wire/roles.ts";
import { api, errorText, type Method } from "../api.ts";
import { shortTime } from "./system_text.ts";

/**
 * The name a member shows: the viewer's remark for a friend (it wins everywhere, as in WeChat and
 * in the chat: islands/chat/format.ts memberName), else their name in this group, else the nickname.
 */
export function memberName(
  m: Pick<GroupMemberView, "displayName" | "nickname" | "id">,
  remarks: Record<string, string>,
): string {
  return remarks[m.id] || m.displayName || m.nickname;
}

export interface MembersProps {
  locale: Locale;
  info: GroupView;
  me: string;
  remarks: Record<string, string>;
  confirm: (text: string, ok: MessageKey) => Promise<boolean>;
  onChanged: () => void;
  /** Shown under the list (e.g. "Add friends"). */
  children?: ComponentChildren;
}

const MUTE_CHOICES: [number, MessageKey][] = [
  [10, "group.min10"],
  [60, "group.hour1"],
  [720, "group.hour12"],
  [1440, "group.day1"],
  [10080, "group.day7"],
  [43200, "group.day30"],
];

function Badges({ m, locale, now }: { m: GroupMemberView; locale: Locale; now: number }) {
  return (
    <>
      {m.role !== "member" && (
        <span class={`badge role-${m.role}`} data-testid="role-badge">
          {t(locale, m.role === "owner" ? "group.owner" : "group.admin")}
        </span>
      )}
      {m.mutedUntil && m.mutedUntil > now && (
        <span class="badge muted-badge" data-testid="muted-badge">
          🔇 {t(locale, "group.mutedUntil", { time: shortTime(m.mutedUntil, locale) })}
        </span>
      )}
    </>
  );
}

function Actions(
  { p, m, name, close }: { p: MembersProps; m: GroupMemberView; name: string; close: () => void },
) {
  const [minutes, setMinutes] = useState(60);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const mine = p.info.myRole ?? "member";
  const base = `/api/groups/${p.info.id}/members/${m.id}`;
  const muted = !!m.mutedUntil && m.mutedUntil > Date.now();

  async function run(method: Method, path: string, body?: unknown, ask?: [string, MessageKey]) {
    if (ask && !(await p.confirm(ask[0], ask[1]))) return;
    setBusy(true);
    setError(null);
    const r = await api(method, path, body);
    setBusy(false);
    if (!r.ok) return setError(r.error);
    close();
    p.onChanged();
  }

  const isOwner = mine === "owner";
  return (
    <div
      class="member-actions"
      id={`acts-${m.id}`}
      role="group"
      aria-label={t(p.locale, "group.actionsFor", { name })}
      aria-busy={busy || undefined}
    >
      {isOwner && (
        <Button
          onClick={() =>
            run("PUT", `${base}/role`, { role: m.role === "admin" ? "member" : "admin" })}
          disabled={busy}
          testid="act-admin"
          label={t(p.locale, m.role === "admin" ? "group.removeAdmin" : "group.makeAdmin")}
        />
      )}
      {isOwner && (
        <Button
          onClick={() =>
            run("POST", `/api/groups/${p.info.id}/transfer`, { userId: m.id }, [
              t(p.locale, "group.confirmTransfer", { name }),
              "group.transfer",
            ])}
          disabled={busy}
          testid="act-transfer"
          label={t(p.locale, "group.transfer")}
        />
      )}
      {muted
        ? (
          <Button
            onClick={() => run("POST", `${base}/mute`, { minutes: 0 })}
            disabled={busy}
            testid="act-unmute"
            label={t(p.locale, "group.unmute")}
          />
        )
        : (
          <span class="mute-choice">
            <label class="visually-hidden" for={`mute-${m.id}`}>
              {t(p.locale, "group.muteFor")}
            </label>
            <select
              id={`mute-${m.id}`}
              value={String(minutes)}
              onChange={(e) => setMinutes(Number((e.currentTarget as HTMLSelectElement).value))}
              data-testid="mute-minutes"
            >
              {MUTE_CHOICES.map(([n, key]) => (
                <option key={n} value={String(n)}>{t(p.locale, key)}</option>
              ))}
            </select>
            <Button
              onClick={() => run("POST", `${base}/mute`, { minutes })}
              disabled={busy}
              testid="act-mute"
              label={t(p.locale, "group.mute")}
            />
          </span>
        )}
      <Button
        class="danger"
        onClick={() =>
          run("DELETE", base, undefined, [
            t(p.locale, "group.confirmKick", { name }),
            "group.kick",
          ])}
        disabled={busy}
        testid="act-kick"
        label={t(p.locale, "group.kick")}
      />
      {error && (
        <p class="field-error" role="alert" data-error={error.code}>
          {errorText(p.locale, error)}
        </p>
      )}
    </div>
  );
}

export function Members(p: MembersProps) {
  const [open, setOpen] = useState<string | null>(null);
  const now = Date.now();
  const mine = p.info.myRole ?? "member";
  const members = p.info.members ?? [];
  return (
    <section class="card" aria-labelledby="members-h">
      <h2 id="members-h">{t(p.locale, "group.membersTitle", { n: p.info.memberCount })}</h2>
      <ul class="members" data-testid="members">
        {members.map((m) => {
          // The built-in bot is named in the reader's language.
          const name = m.id === "bot" ? t(p.locale, "bot.name") : memberName(m, p.remarks);
          const canAct = m.id !== p.me && RANK[mine] > RANK[m.role] && mine !== "member";
          const expanded = open === m.id;
          return (
            <li key={m.id} data-testid="member" data-user={m.id} data-role={m.role}>
              <div class="member-row">
                <Avatar user={m} size={40} />
                <span class="member-text">
                  <span class="member-name" data-testid="member-name">
                    {name}
                    {m.id === p.me && <span class="muted">{t(p.locale, "group.you")}</span>}
                  </span>
                  <span class="member-badges">
                    <Badges m={m} locale={p.locale} now={now} />
                    {m.id !== "bot" && name !== m.nickname && (
                      <span class="muted">{m.nickname}</span>
                    )}
                  </span>
                </span>
                {canAct && (
                  <button
                    type="button"
                    class="icon-button"
                    aria-expanded={expanded}
                    aria-controls={`acts-${m.id}`}
                    aria-label={t(p.locale, "group.actionsFor", { name })}
                    onClick={() => setOpen(expanded ? null : m.id)}
                    data-testid="member-menu"
                  >
                    ⋯
                  </button>
                )}
              </div>
              {canAct && expanded && (
                <Actions
                  p={p}
                  m={m}
                  name={name}
                  close={() => setOpen(null)}
                />
              )}
            </li>
          );
        })}
      </ul>
      {p.children}
    </section>
  );
}
