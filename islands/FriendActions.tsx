/**
 * The head of a profile card with what one can do with that person: add friend (with a note),
 * answer their request, send a message, set a remark, delete friend, block or unblock. Live: it
 * follows the socket, so an accept or a removal elsewhere shows at once.
 */
import { Button } from "../components/Button.tsx";
import { useEffect, useState } from "preact/hooks";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import type { FriendView, UserCard } from "../lib/wire/protocol.ts";
import type { ApiError, RelationView } from "../lib/wire/api.ts";
import { REMARK_MAX } from "../lib/wire/friend_rules.ts";
import { Avatar } from "../components/Avatar.tsx";
import { connect, loadFriends, state } from "./chat/client.ts";
import { AddForm } from "./contacts/AddForm.tsx";
import { errorText } from "./api.ts";
import { friendsApi } from "./contacts/friends_api.ts";

export interface FriendActionsProps {
  locale: Locale;
  me: UserCard;
  user: UserCard;
  /** As the server saw it when rendering; the socket takes over once friends are loaded. */
  initial: RelationView;
}

const IS_BROWSER = typeof document !== "undefined";

function relationOf(p: FriendActionsProps) {
  const s = IS_BROWSER ? state.value : null;
  if (!s?.friendsLoaded) return p.initial;
  const id = p.user.id;
  return {
    friend: s.friends[id] ?? null,
    incoming: s.requests.find((r) => r.user.id === id) ?? null,
    outgoing: s.outgoing.some((r) => r.user.id === id),
    blocked: s.blocked.includes(id),
  };
}

export default function FriendActions(p: FriendActionsProps) {
  const l = p.locale;
  const r = relationOf(p);
  const [adding, setAdding] = useState(false);
  const [confirm, setConfirm] = useState<"remove" | "block" | null>(null);
  const [note, setNote] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => connect(), []);

  const self = p.user.id === p.me.id;
  const name = r.friend?.remark || p.user.nickname;
  const relation = self
    ? "me"
    : r.friend
    ? "friend"
    : r.incoming
    ? "incoming"
    : r.outgoing
    ? "pending"
    : "none";

  async function run(f: () => Promise<{ ok: boolean; error?: ApiError }>, done?: string) {
    setError(null);
    setNote("");
    const res = await f();
    if (!res.ok) setError(res.error!);
    else {
      if (done) setNote(done);
      loadFriends();
    }
    setConfirm(null);
  }

  return (
    <div
      class="friend-card"
      data-testid="friend-actions"
      data-relation={relation}
      data-blocked={r.blocked ? "1" : "0"}
    >
      <div class="row">
        <Avatar user={p.user} size={72} />
        <div class="profile-names">
          <h1 data-testid="profile-name">{name}</h1>
          <p class="muted">@{p.user.username}</p>
          {r.friend?.remark && (
            <p class="muted">{t(l, "friends.nickname", { name: p.user.nickname })}</p>
          )}
        </div>
      </div>
      {self
        ? (
          <p class="muted">
            {t(l, "friends.yourself")} <a href="/settings">{t(l, "friends.editProfile")}</a>
          </p>
        )
        : (
          <div class="actions-list">
            {r.friend && (
              <>
                <a class="button primary" href={`/?c=${r.friend.dm}`} data-testid="send-message">
                  {t(l, "friends.message")}
                </a>
                <RemarkForm
                  key={r.friend.remark}
                  locale={l}
                  friend={r.friend}
                  onDone={() => {
                    loadFriends();
                    setNote(t(l, "friends.remarkSaved"));
                  }}
                />
              </>
            )}
            {!r.friend && r.incoming && (
              <div class="incoming">
                <p>{t(l, "friends.incoming", { name: p.user.nickname })}</p>
                {r.incoming.note && (
                  <blockquote class="note" data-testid="request-note">{r.incoming.note}</blockquote>
                )}
                <div class="buttons">
                  <Button
                    class="primary"
                    onClick={() => run(() => friendsApi.accept(p.user.id))}
                    testid="accept"
                    label={t(l, "newFriends.accept")}
                  />
                  <Button
                    onClick={() => run(() => friendsApi.decline(p.user.id))}
                    testid="decline"
                    label={t(l, "newFriends.decline")}
                  />
                </div>
              </div>
            )}
            {!r.friend && !r.incoming && r.outgoing && (
              <p class="muted" data-testid="pending">{t(l, "friends.pendingOut")}</p>
            )}
            {!r.friend && !r.incoming && !r.outgoing && (adding
              ? (
                <AddForm
                  locale={l}
                  me={p.me}
                  to={p.user}
                  onCancel={() => setAdding(false)}
                  onDone={(st) => {
                    setAdding(false);
                    loadFriends();
                    setNote(t(l, st === "friends" ? "friends.nowFriends" : "friends.sent"));
                  }}
                />
              )
              : (
                <Button
                  class="primary"
                  onClick={() => setAdding(true)}
                  testid="add-friend"
                  label={t(l, "friends.add")}
                />
              ))}
            {confirm
              ? (
                <div
                  class="confirm"
                  role="alertdialog"
                  aria-label={t(l, confirm === "remove" ? "friends.remove" : "friends.block")}
                  data-testid="confirm"
                >
                  <p>
                    {t(l, confirm === "remove" ? "friends.removeConfirm" : "friends.blockConfirm", {
                      name,
                    })}
                  </p>
                  <div class="buttons">
                    <button
                      type="button"
                      class="danger"
                      data-testid="confirm-yes"
                      onClick={() =>
                        confirm === "remove"
                          ? run(() => friendsApi.remove(p.user.id), t(l, "friends.removed"))
                          : run(() => friendsApi.block(p.user.id), t(l, "friends.blockedNote"))}
                    >
                      {t(l, confirm === "remove" ? "friends.remove" : "friends.block")}
                    </button>
                    <button type="button" onClick={() => setConfirm(null)}>
                      {t(l, "friends.cancel")}
                    </button>
                  </div>
                </div>
              )
              : (
                <div class="buttons secondary">
                  {r.friend && (
                    <Button
                      class="link danger"
                      onClick={() => setConfirm("remove")}
                      testid="remove-friend"
                      label={t(l, "friends.remove")}
                    />
                  )}
                  {r.blocked
                    ? (
                      <Button
                        class="link"
                        onClick={() => run(() => friendsApi.unblock(p.user.id))}
                        testid="unblock"
                        label={t(l, "friends.unblock")}
                      />
                    )
                    : (
                      <Button
                        class="link danger"
                        onClick={() => setConfirm("block")}
                        testid="block"
                        label={t(l, "friends.block")}
                      />
                    )}
                </div>
              )}
            {r.blocked && (
              <p class="muted" data-testid="blocked-note">{t(l, "friends.blockedNote")}</p>
            )}
            {error && (
              <p class="alert error" role="alert" data-error={error.code}>{errorText(l, error)}</p>
            )}
            <p class="alert ok" role="status" data-testid="friend-status">{note}</p>
          </div>
        )}
    </div>
  );
}

function RemarkForm(p: { locale: Locale; friend: FriendView; onDone: () => void }) {
  const l = p.locale;
  const [value, setValue] = useState(p.friend.remark);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const id = `remark-${p.friend.user.id}`;
  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const r = await friendsApi.remark(p.friend.user.id, value);
    setBusy(false);
    if (!r.ok) setError(r.error);
    else p.onDone();
  }
  return (
    <form class="remark-form" onSubmit={submit} data-testid="remark-form">
      <label for={id}>{t(l, "friends.remark")}</label>
      <div class="inline-field">
        <input
          id={id}
          value={value}
          maxLength={REMARK_MAX}
          placeholder={p.friend.user.nickname}
          aria-describedby={`${id}-hint`}
          onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)}
          data-testid="remark"
        />
        <button type="submit" disabled={busy} data-testid="save-remark">
          {t(l, "friends.save")}
        </button>
      </div>
      {error
        ? <p class="field-error" role="alert" data-error={error.code}>{errorText(l, error)}</p>
        : <p class="hint" id={`${id}-hint`}>{t(l, "friends.remarkHint")}</p>}
    </form>
  );
}
