/**
 * The group page (/g/:id): members and their roles, notice, settings, invite links and join
 * requests for admins, my name, leave and dissolve. Live: it listens on the chat socket and
 * reloads when the group changes; join requests arrive as they are made.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { type Locale, type MessageKey, t } from "../lib/i18n/i18n.ts";
import type { RequestView, UserCard } from "../lib/wire/protocol.ts";
import { Avatar } from "../components/Avatar.tsx";
import { connect, onFrame, state } from "./chat/client.ts";
import type { ApiError, GroupCard, GroupView as Info } from "../lib/wire/api.ts";
import { api, errorText } from "./api.ts";
import { useConfirm } from "./group/Confirm.tsx";
import { Members } from "./group/Members.tsx";
import { AdminSettings, GroupAvatarButton, MyName } from "./group/Settings.tsx";
import { Invites } from "./group/Invites.tsx";
import { Requests } from "./group/Requests.tsx";
import { Outside } from "./group/Outside.tsx";
import { AddMembers } from "./group/AddMembers.tsx";

export interface GroupInfoProps {
  locale: Locale;
  id: string;
  me: UserCard;
  /** The group as the server saw it for this user: whole (member), a card (public), or null. */
  initial: Info | GroupCard | null;
  /** The viewer's remarks for friends (kept live by the chat client once it has loaded them). */
  remarks: Record<string, string>;
}

type Status = "member" | "outside" | "gone" | "error";
const GONE: Record<string, MessageKey> = {
  kicked: "group.goneKicked",
  left: "group.goneLeft",
  dissolved: "group.goneDissolved",
};

export default function GroupInfo(p: GroupInfoProps) {
  const whole = p.initial && "members" in p.initial ? p.initial : null;
  const [status, setStatus] = useState<Status>(whole ? "member" : "outside");
  const [info, setInfo] = useState<Info | null>(whole);
  const [preview, setPreview] = useState<GroupCard | null>(whole ? null : p.initial);
  const [requests, setRequests] = useState<RequestView[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [confirmEl, confirm] = useConfirm(p.locale);
  const why = useRef("kicked");
  const leaving = useRef(false);
  const removed = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout>>();
  const statusRef = useRef(status);
  statusRef.current = status;
  const s = state.value;
  const remarks: Record<string, string> = s.friendsLoaded ? {} : { ...p.remarks };
  for (const f of Object.values(s.friends)) if (f.remark) remarks[f.user.id] = f.remark;

  async function loadRequests() {
    const r = await api<{ requests: RequestView[] }>("GET", `/api/groups/${p.id}/requests`);
    if (r.ok) setRequests(r.data.requests);
  }

  async function load(fresh?: Info) {
    const r = fresh?.members
      ? { ok: true as const, status: 200, data: { group: fresh } }
      : await api<{ group: Info }>("GET", `/api/groups/${p.id}`);
    if (statusRef.current === "gone") return;
    if (r.ok && r.data.group.members) {
      setInfo(r.data.group);
      setStatus("member");
      if (r.data.group.myRole !== "member") loadRequests();
    } else if (r.ok) {
      setPreview(r.data.group);
      setStatus("outside");
    } else if (r.status === 404 || r.status === 403) {
      setStatus(statusRef.current === "member" ? "gone" : "outside");
    } else {
      setError(r.error);
      setStatus("error");
    }
  }

  function reloadSoon() {
    if (removed.current) return;
    clearTimeout(timer.current);
    timer.current = setTimeout(() => load(), 200);
  }

  useEffect(() => {
    if (whole && whole.myRole !== "member") loadRequests();
    connect();
    return onFrame((f) => {
      if (f.type === "msg" && f.msg.conv === p.id) {
        const ev = f.msg.meta?.event;
        const out = ev === "dissolved" ||
          (f.msg.meta?.userId === p.me.id && (ev === "member_left" || ev === "member_removed"));
        if (out) {
          why.current = ev === "dissolved" ? "dissolved" : ev === "member_left" ? "left" : "kicked";
          // Closed to this user now: conv_removed follows, no need to ask (and be refused).
          removed.current = true;
        }
        if (f.msg.kind === "system" && !removed.current) reloadSoon();
      } else if (f.type === "members_changed" && f.conv === p.id) reloadSoon();
      else if (f.type === "join_request" && f.conv === p.id) {
        setRequests((list) => [f.request, ...list.filter((r) => r.user.id !== f.request.user.id)]);
      } else if (f.type === "conv_removed" && f.conv === p.id && !leaving.current) {
        clearTimeout(timer.current);
        setStatus("gone");
      } else if (f.type === "conv" && f.conv.id === p.id) {
        // Joined meanwhile (a request approved, another tab): the whole group shows.
        removed.current = false;
        reloadSoon();
      } else if (f.type === "welcome" && statusRef.current === "member") reloadSoon();
    });
  }, []);

  async function leave(dissolve: boolean) {
    const title = info?.title ?? "";
    const ok = await confirm(
      t(p.locale, dissolve ? "group.confirmDissolve" : "group.confirmLeave", { title }),
      dissolve ? "group.dissolve" : "group.leave",
    );
    if (!ok) return;
    leaving.current = true;
    const r = await api(
      "DELETE",
      dissolve ? `/api/groups/${p.id}` : `/api/groups/${p.id}/members/${p.me.id}`,
    );
    if (r.ok) return location.assign("/");
    leaving.current = false;
    setError(r.error);
  }

  if (status === "outside") return <Outside locale={p.locale} id={p.id} preview={preview} />;
  if (status === "error" || !info) {
    return (
      <p class="alert error" role="alert">
        {error ? errorText(p.locale, error) : t(p.locale, "err.internal")}
      </p>
    );
  }
  if (status === "gone") {
    return (
      <section class="card group-card" data-testid="group-gone">
        <h1>{t(p.locale, "group.goneTitle")}</h1>
        <p role="status">{t(p.locale, GONE[why.current], { title: info.title })}</p>
        <a class="button primary" href="/">{t(p.locale, "group.backToChat")}</a>
      </section>
    );
  }

  const admin = info.myRole === "owner" || info.myRole === "admin";
  const memberIds = new Set((info.members ?? []).map((m) => m.id));
  return (
    <div class="stack group-page" data-testid="group-page" data-role={info.myRole}>
      <section class="card group-card">
        <Avatar user={{ id: info.id, nickname: info.title, avatarUrl: info.avatarUrl }} size={72} />
        <h1 data-testid="group-name">{info.title}</h1>
        <p class="muted">{t(p.locale, "chat.members", { n: info.memberCount })}</p>
        {admin && <GroupAvatarButton locale={p.locale} info={info} onChanged={(g) => load(g)} />}
        <a class="button primary" href={`/?c=${info.id}`} data-testid="open-chat">
          {t(p.locale, "group.openChat")}
        </a>
        <div class="group-notice-view" data-testid="group-notice-view">
          <h2>{t(p.locale, "group.noticeTitle")}</h2>
          <p class={info.notice ? "pre" : "muted"}>
            {info.notice?.text ?? t(p.locale, "group.noNotice")}
          </p>
        </div>
      </section>
      <Members
        locale={p.locale}
        info={info}
        me={p.me.id}
        remarks={remarks}
        confirm={confirm}
        onChanged={reloadSoon}
      >
        {(admin || info.memberInvite) && (
          <AddMembers
            locale={p.locale}
            group={info.id}
            friends={Object.values(s.friends)}
            memberIds={memberIds}
            onAdded={reloadSoon}
          />
        )}
      </Members>
      {admin && (
        <Requests
          locale={p.locale}
          group={info.id}
          requests={requests}
          remarks={remarks}
          onAnswered={(id) => {
            setRequests((list) => list.filter((r) => r.user.id !== id));
            reloadSoon();
          }}
        />
      )}
      {admin && <Invites locale={p.locale} group={info.id} />}
      {admin
        ? (
          <AdminSettings
            locale={p.locale}
            info={info}
            onChanged={(g) => (g ? load(g) : reloadSoon())}
          />
        )
        : <p class="muted">{t(p.locale, "group.readOnly")}</p>}
      <MyName locale={p.locale} info={info} me={p.me.id} onChanged={reloadSoon} />
      <section class="card danger-zone">
        {info.myRole === "owner"
          ? (
            <>
              <p class="muted">{t(p.locale, "group.ownerLeaveHint")}</p>
              <button
                type="button"
                class="danger"
                onClick={() => leave(true)}
                data-testid="dissolve"
              >
                {t(p.locale, "group.dissolve")}
              </button>
            </>
          )
          : (
            <button type="button" class="danger" onClick={() => leave(false)} data-testid="leave">
              {t(p.locale, "group.leave")}
            </button>
          )}
        {error && (
          <p class="alert error" role="alert" data-error={error.code}>
            {errorText(p.locale, error)}
          </p>
        )}
      </section>
      {confirmEl}
    </div>
  );
}
