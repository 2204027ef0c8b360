/** The conversation list: avatar, name, last message, time, unread badge, online dot. */
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import { type ChatState, sortedConvs, unreadCount } from "../../lib/client/state.ts";
import { Avatar } from "../../components/Avatar.tsx";
import { convAvatar, convTitle, listTime, preview } from "./format.ts";
import { Icon } from "../../components/Icon.tsx";

export function ConvList(
  p: {
    s: ChatState;
    locale: Locale;
    open: string | null;
    onOpen: (id: string) => void;
    /** Conversations muted for notifications: a quiet badge and a 🔕. */
    muted?: Set<string>;
  },
) {
  const list = sortedConvs(p.s);
  if (!list.length) return <p class="muted pad">{t(p.locale, "chat.empty")}</p>;
  return (
    <ul class="conv-list" aria-label={t(p.locale, "chat.conversations")} data-testid="conv-list">
      {list.map((c) => {
        const id = c.summary.id;
        const unread = unreadCount(c);
        const quiet = p.muted?.has(id) ?? false;
        const online = c.summary.peer ? p.s.presence[c.summary.peer.id]?.online : false;
        return (
          <li key={id}>
            <a
              href={`/?c=${id}`}
              class={`conv-item${p.open === id ? " active" : ""}`}
              aria-current={p.open === id ? "true" : undefined}
              data-conv={id}
              data-kind={c.summary.kind}
              onClick={(e) => {
                if (e.metaKey || e.ctrlKey || e.shiftKey) return;
                e.preventDefault();
                p.onOpen(id);
              }}
            >
              <span class="avatar-wrap">
                <Avatar user={convAvatar(c)} size={48} />
                {online && <span class="online-dot" aria-label={t(p.locale, "chat.online")}></span>}
              </span>
              <span class="conv-text">
                <span class="conv-top">
                  <span class="conv-title">
                    {convTitle(c, p.locale, p.s)}
                    {quiet && (
                      <span
                        class="muted-bell"
                        role="img"
                        aria-label={t(p.locale, "chat.mutedConv")}
                      >
                        <Icon name="bell-off" size={14} />
                      </span>
                    )}
                  </span>
                  {c.summary.lastAt > 0 && (
                    <time class="conv-time">{listTime(c.summary.lastAt, p.locale)}</time>
                  )}
                </span>
                <span class="conv-bottom">
                  <span class="conv-preview">
                    {(c.summary.mentionSeq ?? 0) > c.summary.readSeq && (
                      <span class="mentioned" data-testid="mentioned">
                        {t(p.locale, "chat.mentioned")}
                      </span>
                    )}
                    {preview(p.s, c, p.locale)}
                  </span>
                  {unread > 0 && (
                    <span
                      class={`unread${quiet ? " quiet" : ""}`}
                      data-testid="unread"
                      aria-label={t(p.locale, "chat.unread", { n: unread })}
                    >
                      {unread > 99 ? "99+" : unread}
                    </span>
                  )}
                </span>
              </span>
            </a>
          </li>
        );
      })}
    </ul>
  );
}
