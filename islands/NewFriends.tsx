/**
 * "New friends": requests waiting for an answer (accept opens the DM, decline is silent), the
 * ones this user sent, finding people by username or nickname, and adding by e-mail. Live.
 */
import { Button } from "../components/Button.tsx";
import { useEffect, useRef, useState } from "preact/hooks";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import type { ApiError, FriendsSnapshot } from "../lib/wire/api.ts";
import type { FriendView, RequestView, UserCard } from "../lib/wire/protocol.ts";
import { NOTE_MAX } from "../lib/wire/friend_rules.ts";
import { Avatar } from "../components/Avatar.tsx";
import { connect, loadFriends, seedFriends, state } from "./chat/client.ts";
import { errorText } from "./api.ts";
import { friendsApi } from "./contacts/friends_api.ts";
import { FindPeople } from "./contacts/FindPeople.tsx";

export interface NewFriendsProps {
  locale: Locale;
  me: UserCard;
  snap: FriendsSnapshot;
}

const IS_BROWSER = typeof document !== "undefined";

type Answer = { req: RequestView; accepted: FriendView | null };

export default function NewFriends(p: NewFriendsProps) {
  const l = p.locale;
  if (IS_BROWSER) seedFriends(p.snap);
  const s = IS_BROWSER ? state.value : null;
  const incoming = s?.requests ?? p.snap.incoming;
  const outgoing = s?.outgoing ?? p.snap.outgoing;
  // Answered requests stay in the list (with "Send message" after an accept) until the page is left.
  const [answered, setAnswered] = useState<Record<string, Answer>>({});
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => connect(), []);

  async function answer(req: RequestView, yes: boolean) {
    setError(null);
    const id = req.user.id;
    const r = yes ? await friendsApi.accept(id) : await friendsApi.decline(id);
    if (!r.ok) return setError(r.error);
    setAnswered((a) => ({ ...a, [id]: { req, accepted: yes ? r.data as FriendView : null } }));
    loadFriends();
  }

  const rows = [
    ...incoming.filter((r) => !answered[r.user.id]).map((req) => ({ req, accepted: undefined })),
    ...Object.values(answered),
  ];
  return (
    <div class="new-friends stack" data-testid="new-friends-page">
      <FindPeople locale={l} me={p.me} />
      <EmailAdd locale={l} me={p.me} />
      <section aria-labelledby="nf-incoming">
        <h2 id="nf-incoming" class="section-head">{t(l, "newFriends.incoming")}</h2>
        {error && (
          <p class="alert error" role="alert" data-error={error.code}>{errorText(l, error)}</p>
        )}
        {rows.length
          ? (
            <ul class="contact-list card-list" data-testid="incoming">
              {rows.map(({ req, accepted }) => (
                <li key={req.user.id} class="request" data-testid="request" data-user={req.user.id}>
                  <a href={`/u/${encodeURIComponent(req.user.username)}`} class="request-who">
                    <Avatar user={req.user} size={40} />
                    <span class="request-text">
                      <span class="contact-name">{req.user.nickname}</span>
                      {req.note && (
                        <span class="muted note" data-testid="request-note">{req.note}</span>
                      )}
                    </span>
                  </a>
                  <span class="request-actions">
                    {accepted === undefined && (
                      <>
                        <Button
                          class="primary small"
                          onClick={() => answer(req, true)}
                          testid="accept"
                          label={t(l, "newFriends.accept")}
                        />
                        <Button
                          class="small"
                          onClick={() =>
                            answer(req, false)}
                          testid="decline"
                          label={t(l, "newFriends.decline")}
                        />
                      </>
                    )}
                    {accepted && (
                      <a
                        class="button small"
                        href={`/?c=${accepted.dm}`}
                        data-testid="send-message"
                      >
                        {t(l, "friends.message")}
                      </a>
                    )}
                    {accepted === null && (
                      <span class="muted" data-testid="declined">
                        {t(l, "newFriends.declined")}
                      </span>
                    )}
                  </span>
                </li>
              ))}
            </ul>
          )
          : <p class="muted pad-x" data-testid="no-requests">{t(l, "newFriends.noIncoming")}</p>}
      </section>
      {outgoing.length > 0 && (
        <section aria-labelledby="nf-outgoing">
          <h2 id="nf-outgoing" class="section-head">{t(l, "newFriends.outgoing")}</h2>
          <ul class="contact-list card-list" data-testid="outgoing">
            {outgoing.map((r) => (
              <li key={r.user.id} class="request" data-user={r.user.id}>
                <a href={`/u/${encodeURIComponent(r.user.username)}`} class="request-who">
                  <Avatar user={r.user} size={40} />
                  <span class="request-text">
                    <span class="contact-name">{r.user.nickname}</span>
                    {r.note && <span class="muted note">{r.note}</span>}
                  </span>
                </a>
                <span class="muted">{t(l, "newFriends.pending")}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

/** Add by e-mail: the answer is the same whether or not the address belongs to anyone. */
function EmailAdd(p: { locale: Locale; me: UserCard }) {
  const l = p.locale;
  const [done, setDone] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  async function submit(e: Event) {
    e.preventDefault();
    const f = form.current!;
    const email = (f.elements.namedItem("email") as HTMLInputElement).value;
    const note = (f.elements.namedItem("note") as HTMLInputElement).value;
    setBusy(true);
    setError(null);
    setDone(false);
    const r = await friendsApi.request({ email }, note);
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setDone(true);
    (f.elements.namedItem("email") as HTMLInputElement).value = "";
    loadFriends();
  }
  return (
    <details class="card email-add" data-testid="email-add">
      <summary>{t(l, "find.emailTitle")}</summary>
      <form ref={form} onSubmit={submit} class="form" noValidate>
        <p class="hint">{t(l, "find.emailHint")}</p>
        <div class="field">
          <label for="ea-email">{t(l, "field.email")}</label>
          <input
            id="ea-email"
            name="email"
            type="email"
            autocomplete="off"
            maxLength={254}
            required
            aria-invalid={error?.field === "email" || undefined}
          />
        </div>
        <div class="field">
          <label for="ea-note">{t(l, "friends.note")}</label>
          <input
            id="ea-note"
            name="note"
            maxLength={NOTE_MAX}
            defaultValue={t(l, "friends.noteDefault", { name: p.me.nickname }).slice(0, NOTE_MAX)}
          />
        </div>
        {error && (
          <p class="alert error" role="alert" data-error={error.code}>{errorText(l, error)}</p>
        )}
        <button type="submit" class="primary" disabled={busy} data-testid="email-send">
          {t(l, "friends.send")}
        </button>
        <p class="alert ok" role="status">{done ? t(l, "find.emailSent") : ""}</p>
      </form>
    </details>
  );
}
