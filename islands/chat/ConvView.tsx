/** One conversation: header, messages with date separators and read marks, history on scroll up. */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import { type ChatState, type ConvState, readCount } from "../../lib/client/state.ts";
import type { Message } from "../../lib/wire/protocol.ts";
import { Avatar } from "../../components/Avatar.tsx";
import { Composer } from "./Composer.tsx";
import {
  convAvatar,
  convTitle,
  dayKey,
  dayLabel,
  displayName,
  memberName,
  systemText,
  timeOf,
} from "./format.ts";
import { sendErrors } from "./client.ts";
import { failReason, GroupNotice, MutedNote } from "../group/ConvBits.tsx";

export interface ConvViewProps {
  s: ChatState;
  c: ConvState;
  locale: Locale;
  online: boolean;
  onBack: () => void;
  onSend: (text: string) => void;
  onTyping: () => void;
  onOlder: () => void;
  onRetry: (cid: string) => void;
  onSeen: () => void;
}

function Status({ p, m }: { p: ConvViewProps; m: Message }) {
  const c = p.c;
  if (c.summary.kind === "group") {
    const n = readCount(c, m.seq, m.from);
    return (
      <span class="status" data-status={n ? "read" : "sent"}>
        {n ? t(p.locale, "chat.readBy", { n }) : t(p.locale, "chat.sent")}
      </span>
    );
  }
  if (c.summary.kind === "dm" || c.summary.kind === "bot") {
    const read = (c.summary.peerReadSeq ?? 0) >= m.seq;
    return (
      <span class="status" data-status={read ? "read" : "sent"}>
        {t(p.locale, read ? "chat.read" : "chat.sent")}
      </span>
    );
  }
  return <span class="status" data-status="sent">{t(p.locale, "chat.sent")}</span>;
}

function Header({ p }: { p: ConvViewProps }) {
  const c = p.c;
  const peer = c.summary.peer;
  const pres = peer ? p.s.presence[peer.id] : undefined;
  const typers = Object.keys(c.typing).filter((u) => u !== p.s.me?.id);
  let sub = "";
  if (typers.length) {
    sub = t(p.locale, "chat.typing", { name: displayName(p.s, typers[0], p.locale) });
  } else if (c.summary.kind === "group") {
    sub = t(p.locale, "chat.members", { n: c.summary.memberCount ?? 0 });
  } else if (c.summary.kind === "bot" || pres?.online) sub = t(p.locale, "chat.online");
  else if (pres?.lastSeen) {
    sub = t(p.locale, "chat.lastSeen", { time: new Date(pres.lastSeen).toLocaleString(p.locale) });
  }
  return (
    <header class="conv-header">
      <button
        type="button"
        class="back"
        onClick={p.onBack}
        aria-label={t(p.locale, "chat.back")}
        data-testid="back"
      >
        ‹
      </button>
      <Avatar user={convAvatar(c)} size={40} />
      <div class="conv-head-text">
        <h2 data-testid="conv-title">{convTitle(c, p.locale, p.s)}</h2>
        <p
          class={`muted${typers.length ? " typing" : ""}`}
          data-testid="conv-sub"
          aria-live="polite"
        >
          {sub}
        </p>
      </div>
      {c.summary.kind === "group" && (
        // Covers the header (CSS): the whole header opens the group's page.
        <a
          class="conv-head-link"
          href={`/g/${c.summary.id}`}
          aria-label={`${t(p.locale, "group.info")}: ${convTitle(c, p.locale, p.s)}`}
          data-testid="group-info-link"
        >
          <span aria-hidden="true">⋯</span>
        </a>
      )}
    </header>
  );
}

export function ConvView(p: ConvViewProps) {
  const c = p.c;
  const me = p.s.me?.id;
  const scroller = useRef<HTMLDivElement>(null);
  const anchor = useRef<{ first: number | undefined; height: number; top: number }>({
    first: undefined,
    height: 0,
    top: 0,
  });
  const atBottom = useRef(true);
  const [newCount, setNewCount] = useState(0);
  const lastSeq = c.messages[c.messages.length - 1]?.seq ?? 0;
  const firstSeq = c.messages[0]?.seq;
  // After "delete friend" the DM stays readable but closed for sending, until friends again.
  const peer = c.summary.peer;
  const closed = c.summary.kind === "dm" && peer && p.s.friendsLoaded && !p.s.friends[peer.id]
    ? peer
    : null;

  // Keep the reader's place when older messages are put above; follow new ones at the bottom.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const a = anchor.current;
    if (a.first !== undefined && firstSeq !== undefined && firstSeq < a.first) {
      el.scrollTop = a.top + (el.scrollHeight - a.height);
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    anchor.current = { first: firstSeq, height: el.scrollHeight, top: el.scrollTop };
  }, [firstSeq, lastSeq, c.pending.length]);

  useEffect(() => {
    if (atBottom.current) p.onSeen();
    else setNewCount((n) => n + 1);
  }, [lastSeq]);

  useEffect(() => {
    atBottom.current = true;
    setNewCount(0);
  }, [c.summary.id]);

  function onScroll() {
    const el = scroller.current!;
    anchor.current = { first: firstSeq, height: el.scrollHeight, top: el.scrollTop };
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
    if (atBottom.current && newCount) {
      setNewCount(0);
      p.onSeen();
    }
    if (el.scrollTop < 80 && c.hasMore) p.onOlder();
  }

  function jump() {
    const el = scroller.current!;
    el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setNewCount(0);
    p.onSeen();
  }

  const items: preact.JSX.Element[] = [];
  let prevDay = "";
  let prevFrom = "";
  for (const m of c.messages) {
    const day = dayKey(m.at);
    if (day !== prevDay) {
      items.push(
        <li class="day" key={`d${day}`}>
          <span>{dayLabel(m.at, p.locale)}</span>
        </li>,
      );
      prevDay = day;
      prevFrom = "";
    }
    if (m.kind === "system") {
      items.push(
        <li class="system" key={m.seq} data-seq={m.seq}>
          <span>{systemText(p.s, m, p.locale)}</span>
        </li>,
      );
      prevFrom = "";
      continue;
    }
    const mine = m.from === me;
    const showName = c.summary.kind === "group" && !mine && prevFrom !== m.from;
    prevFrom = m.from;
    const sender = p.s.users[m.from] ??
      {
        id: m.from,
        nickname: displayName(p.s, m.from, p.locale),
        avatarUrl: m.from === "bot" ? "/static/bot.svg" : null,
      };
    items.push(
      <li class={`msg${mine ? " mine" : ""}`} key={m.seq} data-seq={m.seq} data-testid="msg">
        {!mine && <Avatar user={sender} size={32} />}
        <div class="bubble-wrap">
          {showName && <div class="sender">{memberName(p.s, c.summary.id, m.from, p.locale)}</div>}
          <div class="bubble">{m.text}</div>
          <div class="meta">
            <time>{timeOf(m.at, p.locale)}</time>
            {mine && <Status p={p} m={m} />}
          </div>
        </div>
      </li>,
    );
  }
  for (const pm of c.pending) {
    items.push(
      <li class="msg mine" key={`p${pm.cid}`} data-testid="msg" data-pending={pm.state}>
        <div class="bubble-wrap">
          <div class="bubble">{pm.text}</div>
          <div class="meta">
            {pm.state === "pending"
              ? <span class="status" data-status="pending">{t(p.locale, "chat.sending")}</span>
              : (
                <span class="status failed" data-status="failed">
                  {t(p.locale, "chat.failed")}
                  {failReason(sendErrors.value[pm.cid], p.locale)} ·{" "}
                  <button
                    type="button"
                    class="link"
                    onClick={() => p.onRetry(pm.cid)}
                    data-testid="retry"
                  >
                    {t(p.locale, "chat.retry")}
                  </button>
                </span>
              )}
          </div>
        </div>
      </li>,
    );
  }

  return (
    <section class="conv-view" data-conv={c.summary.id}>
      <Header p={p} />
      {c.summary.kind === "group" && <GroupNotice summary={c.summary} locale={p.locale} />}
      <div
        class="messages"
        ref={scroller}
        onScroll={onScroll}
        data-testid="messages"
        role="log"
        aria-label={t(p.locale, "chat.messages")}
      >
        <p class="history-edge muted">
          {c.hasMore || !c.loaded ? t(p.locale, "chat.loadingOlder") : t(p.locale, "chat.noMore")}
        </p>
        <ul>{items}</ul>
      </div>
      {newCount > 0 && (
        <button type="button" class="jump" onClick={jump} data-testid="jump">
          {t(p.locale, "chat.newCount", { n: newCount })} ↓
        </button>
      )}
      {closed && (
        <p class="dm-closed" data-testid="not-friends">
          {t(p.locale, "friends.dmClosed")}{" "}
          <a href={`/u/${encodeURIComponent(closed.username)}`}>{t(p.locale, "friends.add")}</a>
        </p>
      )}
      {c.summary.kind === "group" && <MutedNote conv={c.summary.id} me={me} locale={p.locale} />}
      <Composer
        locale={p.locale}
        online={p.online && !closed}
        onSend={p.onSend}
        onTyping={p.onTyping}
      />
    </section>
  );
}
