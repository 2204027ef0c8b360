/** One conversation: header, messages with date separators and read marks, history on scroll up. */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { hasMessage, type Locale, t } from "../../lib/i18n/i18n.ts";
import { type ChatState, type ConvState, readCount } from "../../lib/client/state.ts";
import { type Message, RECALL_WINDOW_MS } from "../../lib/wire/protocol.ts";
import { Avatar } from "../../components/Avatar.tsx";
import { Composer } from "./Composer.tsx";
import {
  convAvatar,
  convTitle,
  displayName,
  emojiOnly,
  memberName,
  needsSep,
  sameRun,
  sepLabel,
  systemText,
  timeOf,
} from "./format.ts";
import { seekRequest, sendErrors, updateError } from "./client.ts";
import { SearchPanel } from "./Search.tsx";
import { groupInfos } from "../group/store.ts";
import { ActionBar, Quote, Reactions, recalledText, RichText } from "./MessageBits.tsx";
import { MediaContent, PendingMediaView, Viewer } from "./MediaView.tsx";
import { failReason, GroupNotice, MutedNote, useMutedUntil } from "../group/ConvBits.tsx";
import { shortTime } from "../group/system_text.ts";
import { Icon } from "../../components/Icon.tsx";

export interface ConvViewProps {
  s: ChatState;
  c: ConvState;
  locale: Locale;
  online: boolean;
  /** Notifications of this conversation are muted (免打扰); onMute switches it. */
  muted?: boolean;
  onMute?: (muted: boolean) => void;
  onBack: () => void;
  onSend: (text: string, reply?: number, mentions?: string[]) => void;
  onFile: (file: File) => void;
  onReact: (seq: number, emoji: string, on: boolean) => void;
  onRecall: (seq: number) => void;
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

function Header({ p, onSearch }: { p: ConvViewProps; onSearch: () => void }) {
  const c = p.c;
  const peer = c.summary.peer;
  const pres = peer ? p.s.presence[peer.id] : undefined;
  const typers = Object.keys(c.typing).filter((u) => u !== p.s.me?.id);
  let sub = "";
  if (typers.length) {
    sub = t(p.locale, "chat.typing", { name: displayName(p.s, typers[0], p.locale) });
  } else if (c.summary.kind === "group") {
    sub = t(p.locale, "chat.members", { n: c.summary.memberCount ?? 0 });
  } else if (!p.online) sub = "";
  else if (c.summary.kind === "bot" || pres?.online) sub = t(p.locale, "chat.online");
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
      {p.onMute && (
        <button
          type="button"
          class="conv-search"
          aria-pressed={p.muted ? "true" : "false"}
          aria-label={t(p.locale, "chat.mutedConv")}
          title={t(p.locale, "chat.mutedConv")}
          onClick={() => p.onMute!(!p.muted)}
          data-testid="mute-toggle"
        >
          <Icon name={p.muted ? "bell-off" : "bell"} />
        </button>
      )}
      <button
        type="button"
        class="conv-search"
        onClick={onSearch}
        aria-label={t(p.locale, "search.inConv")}
        data-testid="conv-search"
      >
        <Icon name="search" />
      </button>
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

/** Who a group member can call by @name: the others, by the name they show, and everyone. */
function mentionable(
  s: ChatState,
  c: ConvState,
  me: string | undefined,
  locale: Locale,
): { id: string; name: string }[] {
  const members = groupInfos.value[c.summary.id]?.members ?? [];
  const out = members.filter((m) => m.id !== me).map((m) => ({
    id: m.id,
    name: memberName(s, c.summary.id, m.id, locale),
  }));
  const role = c.summary.role;
  if (role === "owner" || role === "admin") {
    out.unshift({ id: "all", name: t(locale, "chat.mentionAll") });
  }
  return out;
}

/** Who wrote a message, for its avatar: their card, or one made of the name this user sees. */
function cardOf(s: ChatState, id: string, locale: Locale) {
  return s.users[id] ??
    {
      id,
      nickname: displayName(s, id, locale),
      avatarUrl: id === "bot" ? "/static/bot.svg" : null,
    };
}

/**
 * A touch held still for half a second opens a message's menu. Safari on iOS sends no
 * contextmenu for a long-press, so it is timed here; where the browser sends one too (Android),
 * both just open the same menu. One press at a time, so the state is the module's.
 */
const press = {
  timer: undefined as ReturnType<typeof setTimeout> | undefined,
  x: 0,
  y: 0,
  fired: false,
};
function longPress(open: () => void) {
  const stop = () => clearTimeout(press.timer);
  return {
    onPointerDown(e: PointerEvent) {
      if (e.pointerType !== "touch") return;
      stop();
      press.x = e.clientX;
      press.y = e.clientY;
      press.fired = false;
      press.timer = setTimeout(() => {
        press.fired = true;
        open();
      }, 500);
    },
    onPointerMove(e: PointerEvent) {
      if (Math.hypot(e.clientX - press.x, e.clientY - press.y) > 10) stop();
    },
    onPointerUp: stop,
    onPointerCancel: stop,
  };
}

/**
 * On a phone, a finger that starts at the screen's left edge and moves right goes back to the
 * list, as in iOS apps. Only from the edge, so the list's own swipes and text selection stay.
 */
const swipe = { x: -1, y: 0 };
function swipeBack(back: () => void) {
  return {
    onPointerDown(e: PointerEvent) {
      swipe.x = e.pointerType === "touch" && e.clientX <= 24 ? e.clientX : -1;
      swipe.y = e.clientY;
    },
    onPointerUp(e: PointerEvent) {
      const dx = e.clientX - swipe.x, dy = Math.abs(e.clientY - swipe.y);
      if (swipe.x >= 0 && dx > 80 && dy < dx / 2 && matchMedia("(max-width: 767px)").matches) {
        back();
      }
      swipe.x = -1;
    },
    onPointerCancel() {
      swipe.x = -1;
    },
  };
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
  /** The message whose action bar is open, the one the composer answers, the one sought. */
  const [sel, setSel] = useState<number | null>(null);
  const [replyTo, setReplyTo] = useState<number | null>(null);
  const [seek, setSeek] = useState<number | null>(null);
  const [viewing, setViewing] = useState<number | null>(null);
  const [searching, setSearching] = useState(false);
  const images = c.messages.filter((m) => m.media?.kind === "image" && !m.recalled);
  const lastSeq = c.messages[c.messages.length - 1]?.seq ?? 0;
  const firstSeq = c.messages[0]?.seq;
  // A muted member sees why the composer is off, and until when (it comes back by itself).
  const mutedTill = useMutedUntil(c.summary.id, c.summary.kind === "group" ? me : undefined);
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
  }, [firstSeq, lastSeq, c.pending.length, c.drafts]);

  // The list got shorter (an on-screen keyboard came up, the window shrank): a reader at the
  // newest message stays there, as the browser would keep the top instead. Firefox and WebKit
  // report a scroll for the shrink before this observer runs; onScroll leaves "at the bottom" as
  // it was for such a scroll (the height it knew has changed), or the reader would lose it.
  const viewHeight = useRef(0);
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const watch = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
      viewHeight.current = el.clientHeight;
    });
    watch.observe(el);
    return () => watch.disconnect();
  }, []);

  // Recalls and reactions are entries too: read with the rest, but not "new" messages below.
  const lastShown = c.messages.findLast((m) => m.kind !== "update")?.seq ?? 0;
  useEffect(() => {
    if (atBottom.current) p.onSeen();
  }, [lastSeq]);
  useEffect(() => {
    if (!atBottom.current) setNewCount((n) => n + 1);
  }, [lastShown]);

  useEffect(() => {
    atBottom.current = true;
    setNewCount(0);
    setSel(null);
    setReplyTo(null);
    setSeek(null);
  }, [c.summary.id]);

  // (After the reset above.) A search hit from the list: shown in its place once this conversation is open.
  const asked = seekRequest.value;
  useEffect(() => {
    if (asked && asked.conv === c.summary.id) {
      seekRequest.value = null;
      setSeek(asked.seq);
    }
  }, [asked, c.summary.id]);

  // A quote's original: shown once loaded, paging older history until it is (or nothing is left).
  useEffect(() => {
    if (seek === null) return;
    const el = scroller.current?.querySelector(`[data-seq="${seek}"]`);
    if (el) {
      el.scrollIntoView({ block: "center" });
      el.classList.add("flash");
      setTimeout(() => el.classList.remove("flash"), 1500);
      atBottom.current = false;
      setSeek(null);
    } else if (c.hasMore) p.onOlder();
    else setSeek(null);
  }, [seek, firstSeq, c.hasMore]);

  function onKeyDown(e: KeyboardEvent) {
    if (e.key !== "Escape") return;
    if (sel !== null) {
      // Focus goes back to the message's "⋯", where a keyboard user opened the bar.
      scroller.current?.querySelector<HTMLElement>(`[data-seq="${sel}"] .msg-more`)?.focus();
      setSel(null);
    } else if (replyTo !== null) setReplyTo(null);
  }

  function onScroll() {
    const el = scroller.current!;
    anchor.current = { first: firstSeq, height: el.scrollHeight, top: el.scrollTop };
    if (el.clientHeight === viewHeight.current) {
      atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
    }
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

  // The message being answered, while it is still there to answer.
  const replyingTo = replyTo === null
    ? null
    : c.messages.find((m) => m.seq === replyTo && m.kind === "text" && !m.recalled) ?? null;

  const items: preact.JSX.Element[] = [];
  const now = new Date();
  // The time of day the latest separator above says (a separator never spans two days).
  let sepTime = "";
  // Updates (recalls, reactions) show in the message they changed, not on their own.
  const shown = c.messages.filter((m) => m.kind !== "update");
  for (const [i, m] of shown.entries()) {
    // A time separator, as in WeChat: above the first message, on a new day, or after a pause.
    if (needsSep(shown[i - 1], m)) {
      sepTime = timeOf(m.at, p.locale);
      items.push(
        <li class="day" key={`t${m.seq}`} data-testid="time-sep">
          <span>
            <time dateTime={new Date(m.at).toISOString()}>{sepLabel(m.at, p.locale, now)}</time>
          </span>
        </li>,
      );
    }
    if (m.kind === "system" || m.recalled) {
      items.push(
        <li
          class="system"
          key={m.seq}
          data-seq={m.seq}
          data-testid={m.recalled ? "recalled" : undefined}
        >
          <span>{m.recalled ? recalledText(p.s, m, p.locale) : systemText(p.s, m, p.locale)}</span>
        </li>,
      );
      continue;
    }
    const mine = m.from === me;
    // A run: one sender's messages a few minutes apart show the avatar and name once, on the
    // first, and the time (and read state) once, on the last, close together as in WeChat.
    const first = !sameRun(shown[i - 1], m);
    const last = !sameRun(m, shown[i + 1]);
    const showName = c.summary.kind === "group" && !mine && first;
    // The run's time, unless the separator above already says it (a run under "14:05" that ends
    // at 14:05).
    const time = last ? timeOf(m.at, p.locale) : "";
    const showTime = last && time !== sepTime;
    const sender = cardOf(p.s, m.from, p.locale);
    items.push(
      <li
        class={`msg${mine ? " mine" : ""}${first ? "" : " cont"}`}
        key={m.seq}
        data-seq={m.seq}
        data-testid="msg"
      >
        {!mine && (first ? <Avatar user={sender} size={32} /> : <span class="avatar-gap" />)}
        <div class="bubble-wrap">
          {showName && <div class="sender">{memberName(p.s, c.summary.id, m.from, p.locale)}</div>}
          <div
            class={`bubble${!m.reply && !m.media && emojiOnly(m.text) ? " jumbo" : ""}${
              !mine && m.mentions?.some((u) => u === me || u === "all") ? " mention-me" : ""
            }`}
            onClick={(e) => {
              // A link opens; the bubble around it does not toggle.
              if ((e.target as HTMLElement).closest("a,.quote")) return;
              // The click that ends a long-press leaves the menu it opened.
              if (press.fired) return void (press.fired = false);
              setSel(sel === m.seq ? null : m.seq);
            }}
            // Right-click (desktop) and long-press (phones) open the message's menu, as in
            // WeChat; on a link the browser's own menu stays.
            onContextMenu={(e) => {
              if ((e.target as HTMLElement).closest("a")) return;
              e.preventDefault();
              setSel(m.seq);
            }}
            {...longPress(() => setSel(m.seq))}
            data-testid="bubble"
          >
            {m.reply && <Quote s={p.s} c={c} reply={m.reply} locale={p.locale} onJump={setSeek} />}
            {m.media && <MediaContent m={m} locale={p.locale} onOpen={setViewing} />}
            {m.text && (
              <span class="text">
                <RichText text={m.text} />
              </span>
            )}
          </div>
          <Reactions
            s={p.s}
            m={m}
            locale={p.locale}
            onReact={(emoji, on) => p.onReact(m.seq, emoji, on)}
          />
          {sel === m.seq && (
            <ActionBar
              c={c}
              m={m}
              me={me}
              locale={p.locale}
              onReact={(emoji, on) => (p.onReact(m.seq, emoji, on), setSel(null))}
              onReply={() => (setReplyTo(m.seq), setSel(null))}
              onRecall={() => (p.onRecall(m.seq), setSel(null))}
              onCopy={() => {
                navigator.clipboard?.writeText(m.text).catch(() => {});
                setSel(null);
              }}
            />
          )}
          <div class={`meta${last ? "" : " bare"}`}>
            {showTime && <time>{time}</time>}
            {last && mine && <Status p={p} m={m} />}
            {
              /* The keyboard's way to the action bar (a tap on the bubble is the pointer's): a
                 button of its own, since the bubble holds links and cannot be one. */
            }
            <button
              type="button"
              class="msg-more"
              aria-expanded={sel === m.seq}
              aria-label={t(p.locale, "chat.actions")}
              onClick={() => setSel(sel === m.seq ? null : m.seq)}
              data-testid="msg-more"
            >
              ⋯
            </button>
          </div>
        </div>
      </li>,
    );
  }
  // Answers being written (the bot's streamed replies): they grow until the stored message comes.
  for (const d of Object.values(c.drafts ?? {})) {
    const writer = cardOf(p.s, d.from, p.locale);
    items.push(
      <li class="msg draft" key={`w${d.cid}`} data-testid="draft" aria-busy="true">
        <Avatar user={writer} size={32} />
        <div class="bubble-wrap">
          <div class="bubble">
            <span class="text">
              <RichText text={d.text} />
            </span>
            <span class="cursor" aria-hidden="true">▍</span>
          </div>
        </div>
      </li>,
    );
  }
  for (const pm of c.pending) {
    items.push(
      <li class="msg mine" key={`p${pm.cid}`} data-testid="msg" data-pending={pm.state}>
        <div class="bubble-wrap">
          <div class="bubble">
            {pm.reply !== undefined && me && (
              <Quote
                s={p.s}
                c={c}
                reply={{
                  seq: pm.reply,
                  from: c.messages.find((x) => x.seq === pm.reply)?.from ?? me,
                }}
                locale={p.locale}
                onJump={setSeek}
              />
            )}
            {pm.media && <PendingMediaView media={pm.media} locale={p.locale} />}
            {pm.text && <span class="text">{pm.text}</span>}
          </div>
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
    <section
      class="conv-view"
      data-conv={c.summary.id}
      onKeyDown={onKeyDown}
      {...swipeBack(p.onBack)}
      onDragOver={(e) => {
        if (e.dataTransfer?.types.includes("Files")) e.preventDefault();
      }}
      onDrop={(e) => {
        const dropped = [...(e.dataTransfer?.files ?? [])];
        if (!dropped.length || !p.online || closed) return;
        e.preventDefault();
        for (const f of dropped.slice(0, 9)) p.onFile(f);
      }}
    >
      {viewing !== null && (
        <Viewer
          images={images}
          seq={viewing}
          locale={p.locale}
          onClose={() => setViewing(null)}
          onShow={setViewing}
        />
      )}
      <Header p={p} onSearch={() => setSearching(!searching)} />
      {searching && (
        <SearchPanel
          s={p.s}
          locale={p.locale}
          conv={c.summary.id}
          onPick={(_conv, seq) => (setSearching(false), setSeek(seq))}
          onClose={() => setSearching(false)}
        />
      )}
      {c.summary.kind === "group" && <GroupNotice summary={c.summary} locale={p.locale} />}
      <div
        class="messages"
        ref={scroller}
        onScroll={onScroll}
        data-testid="messages"
        role="log"
        aria-live="polite"
        aria-label={t(p.locale, "chat.messages")}
        // Focusable, so the keyboard scrolls it (arrows, Page Up/Down, Home/End).
        tabIndex={0}
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
      <MutedNote until={mutedTill} locale={p.locale} />
      {updateError.value && (
        <p class="update-error" role="alert" data-testid="update-error">
          {hasMessage(`err.${updateError.value}`)
            ? t(p.locale, `err.${updateError.value}` as never, {
              minutes: RECALL_WINDOW_MS / 60_000,
            })
            : t(p.locale, "err.internal")}
        </p>
      )}
      {replyingTo && (
        <div class="replying" data-testid="replying">
          <span>
            {t(p.locale, "chat.replyingTo", {
              name: memberName(p.s, c.summary.id, replyingTo.from, p.locale),
            })}: {replyingTo.text.split("\n", 1)[0].slice(0, 60)}
          </span>
          <button
            type="button"
            class="link"
            onClick={() => setReplyTo(null)}
            aria-label={t(p.locale, "chat.cancelReply")}
            data-testid="cancel-reply"
          >
            ×
          </button>
        </div>
      )}
      <Composer
        locale={p.locale}
        online={p.online}
        blocked={closed
          ? t(p.locale, "friends.dmClosed")
          : mutedTill
          ? t(p.locale, "group.mutedNote", { time: shortTime(mutedTill, p.locale) })
          : null}
        onSend={(text, mentions) => {
          p.onSend(text, replyingTo?.seq, mentions);
          setReplyTo(null);
        }}
        members={c.summary.kind === "group" ? mentionable(p.s, c, me, p.locale) : undefined}
        onTyping={p.onTyping}
        onFile={p.onFile}
      />
    </section>
  );
}
