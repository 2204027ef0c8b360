/** The chat screen: conversation list and the open conversation (side by side, or two screens on phones). */
import { useEffect, useState } from "preact/hooks";
import { type Locale, t } from "../lib/i18n/i18n.ts";
import { type ChatState, emptyState, reduce, unreadAll } from "../lib/client/state.ts";
import type { FriendsSnapshot } from "../lib/wire/api.ts";
import { type ConvSummary, PROTOCOL_VERSION, type UserCard } from "../lib/wire/protocol.ts";
import {
  connect,
  connection,
  loadHistory,
  markRead,
  mutedConvs,
  notifyTyping,
  react,
  recallMessage,
  requestMembers,
  requestReceipts,
  retry,
  seed,
  seedFriends,
  seekRequest,
  sendFile,
  sendMessage,
  setConvMuted,
  state,
} from "./chat/client.ts";
import { ConvList } from "./chat/ConvList.tsx";
import { ConvView } from "./chat/ConvView.tsx";
import { SearchPanel } from "./chat/Search.tsx";
import { GoneNotice, ListHead, useGroupChat } from "./group/chat_hooks.tsx";
import { Icon } from "../components/Icon.tsx";

export interface ChatAppProps {
  locale: Locale;
  me: UserCard;
  convs: ConvSummary[];
  open: string | null;
  /** Friends with remarks (names shown from the first paint), requests and blocks. */
  friends?: FriendsSnapshot;
}

const IS_BROWSER = typeof document !== "undefined";

function openFromUrl(): string | null {
  return new URLSearchParams(location.search).get("c");
}

function serverState(p: ChatAppProps) {
  const s = reduce(emptyState(), {
    type: "welcome",
    v: PROTOCOL_VERSION,
    me: p.me,
    convs: p.convs,
    isolate: "",
  });
  return p.friends ? reduce(s, { type: "local_friends", ...p.friends }) : s;
}

/** "(3) 乐聊": the unread messages of conversations not muted, in the tab's title. */
function useTitleBadge(s: ChatState): void {
  const muted = IS_BROWSER ? mutedConvs.value : new Set<string>();
  const n = unreadAll(s, muted);
  useEffect(() => {
    baseTitle ??= document.title;
    document.title = n ? `(${n > 99 ? "99+" : n}) ${baseTitle}` : baseTitle;
  }, [n]);
}

/** The page's own title, before any count was put in front of it. */
let baseTitle: string | undefined;

/** True for a moment after the connection came back (not after the first connect). */
function useReconnected(conn: string): boolean {
  const [wasDown, setWasDown] = useState(false);
  const [shown, setShown] = useState(false);
  useEffect(() => {
    if (conn === "offline") setWasDown(true);
    if (conn !== "online" || !wasDown) return;
    setWasDown(false);
    setShown(true);
    const timer = setTimeout(() => setShown(false), 2500);
    return () => clearTimeout(timer);
  }, [conn]);
  return shown;
}

/**
 * "Connecting…" only once connecting has taken a second: a page load normally connects sooner, and
 * a banner that shows and goes at once would only flash and push the list down and back (the
 * server's HTML has none for the same reason). Offline and back-online show at once.
 */
function useSlowConnect(conn: string): boolean {
  const [slow, setSlow] = useState(false);
  useEffect(() => {
    setSlow(false);
    if (conn !== "connecting") return;
    const timer = setTimeout(() => setSlow(true), 1000);
    return () => clearTimeout(timer);
  }, [conn]);
  return slow;
}

export default function ChatApp(p: ChatAppProps) {
  // On the server, render from props only: module state would be shared between requests.
  if (IS_BROWSER) seed(p.me, p.convs);
  if (IS_BROWSER && p.friends) seedFriends(p.friends);
  const s = IS_BROWSER ? state.value : serverState(p);
  const conn = IS_BROWSER ? connection.value : "connecting";
  const [open, setOpen] = useState<string | null>(p.open);
  const c = open ? s.convs[open] : undefined;
  const [searchingAll, setSearchingAll] = useState(false);

  // The on-screen keyboard: follow the visual viewport (see --vvh in chat.css).
  useEffect(() => {
    const vv = globalThis.visualViewport;
    if (!vv) return;
    const root = document.documentElement;
    const fit = () => {
      // Pinch-zoomed in, the visual viewport is small too, but no keyboard takes the screen.
      if (Math.abs(vv.scale - 1) < 0.01) {
        root.style.setProperty("--vvh", `${Math.round(vv.height)}px`);
      }
    };
    fit();
    vv.addEventListener("resize", fit);
    return () => {
      vv.removeEventListener("resize", fit);
      root.style.removeProperty("--vvh");
    };
  }, []);

  useEffect(() => {
    connect();
    const onPop = () => setOpen(openFromUrl());
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);

  // Load the newest page and group details when a conversation opens (and after reconnects).
  useEffect(() => {
    if (!open || conn !== "online") return;
    const cs = state.value.convs[open];
    if (cs && !cs.loaded) loadHistory(open, true);
    if (cs?.summary.kind === "group") {
      requestMembers(open);
      requestReceipts(open);
    }
  }, [open, conn, c?.loaded]);

  // A group the user is no longer in closes at once, with a short notice.
  const [gone, dismissGone] = useGroupChat(s, open, () => {
    setOpen(null);
    history.replaceState(null, "", "/");
  });

  function openConv(id: string | null) {
    setOpen(id);
    history.pushState(null, "", id ? `/?c=${id}` : "/");
  }

  const online = conn === "online";
  const reconnected = useReconnected(conn);
  const slowConnect = useSlowConnect(conn);
  useTitleBadge(s);
  return (
    <div class="chat" data-open={c ? "1" : "0"} data-connection={conn} data-testid="chat">
      {((conn !== "online" && (conn !== "connecting" || slowConnect)) || reconnected) && (
        <p
          class={`conn-banner ${reconnected && online ? "back-online" : conn}`}
          role="status"
          data-testid="conn-banner"
        >
          {t(
            p.locale,
            online ? "chat.reconnected" : conn === "offline" ? "chat.offline" : "chat.connecting",
          )}
        </p>
      )}
      <GoneNotice gone={gone} locale={p.locale} onDismiss={dismissGone} />
      {/* The page's heading, there even when a phone shows the conversation instead of the list. */}
      <h1 class="visually-hidden">{t(p.locale, "app.name")}</h1>
      <aside class="chat-list">
        <ListHead locale={p.locale} />
        {searchingAll
          ? (
            <SearchPanel
              s={s}
              locale={p.locale}
              onPick={(conv, seq) => {
                seekRequest.value = { conv, seq };
                openConv(conv);
              }}
              onClose={() => setSearchingAll(false)}
            />
          )
          : (
            <button
              type="button"
              class="search-open"
              onClick={() => setSearchingAll(true)}
              data-testid="search-all"
            >
              <Icon name="search" size={16} /> {t(p.locale, "search.all")}
            </button>
          )}
        <ConvList
          s={s}
          locale={p.locale}
          open={open}
          onOpen={openConv}
          muted={IS_BROWSER ? mutedConvs.value : undefined}
        />
      </aside>
      <section class="chat-main">
        {c
          ? (
            <ConvView
              s={s}
              c={c}
              locale={p.locale}
              online={online}
              muted={mutedConvs.value.has(c.summary.id)}
              onMute={c.summary.kind === "bot"
                ? undefined
                : (m) => void setConvMuted(c.summary.id, m)}
              onBack={() => openConv(null)}
              onSend={(text, reply, mentions) => sendMessage(c.summary.id, text, reply, mentions)}
              onReact={(seq, emoji, on) => react(c.summary.id, seq, emoji, on)}
              onFile={(file) => sendFile(c.summary.id, file)}
              onRecall={(seq) => recallMessage(c.summary.id, seq)}
              onTyping={() => notifyTyping(c.summary.id)}
              onOlder={() => loadHistory(c.summary.id)}
              onRetry={(cid) => retry(c.summary.id, cid)}
              onSeen={() => {
                if (document.visibilityState === "visible") markRead(c.summary.id);
              }}
            />
          )
          : (
            <div class="chat-empty muted">
              <p>{t(p.locale, "chat.pick")}</p>
            </div>
          )}
      </section>
    </div>
  );
}
