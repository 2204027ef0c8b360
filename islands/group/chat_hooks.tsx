/** The chat screen's group parts: details of the open group, and closing a group that is gone. */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { type Locale, type MessageKey, t } from "../../lib/i18n/i18n.ts";
import type { ChatState } from "../../lib/client/state.ts";
import { dispatch, onFrame } from "../chat/client.ts";
import type { GroupView } from "../../lib/wire/api.ts";
import { forgetGroupInfo, loadGroupInfo, reloadGroupInfoSoon } from "./store.ts";
import { Icon } from "../../components/Icon.tsx";

export interface Gone {
  conv: string;
  title: string;
  why: "kicked" | "left" | "dissolved";
}

/** Puts the members' cards into the chat state (names in system messages and sender lines). */
function intoState(info: GroupView): void {
  if (!info.members) return;
  dispatch({
    type: "members",
    conv: info.id,
    members: info.members.map((m) => ({
      id: m.id,
      username: m.username,
      nickname: m.nickname,
      avatarUrl: m.avatarUrl,
      role: m.role,
    })),
  });
}

/**
 * Loads the open group's details and keeps them fresh. When a group goes away (kicked, left,
 * dissolved: the server sends conv_removed), closes it if open and says why.
 */
export function useGroupChat(
  s: ChatState,
  open: string | null,
  close: () => void,
): [Gone | null, () => void] {
  const [gone, setGone] = useState<Gone | null>(null);
  const titles = useRef<Record<string, string>>({});
  const why = useRef<Record<string, Gone["why"]>>({});
  const openRef = useRef(open);
  openRef.current = open;
  for (const c of Object.values(s.convs)) {
    if (c.summary.kind === "group") titles.current[c.summary.id] = c.summary.title;
  }
  const isGroup = open ? s.convs[open]?.summary.kind === "group" : false;

  useEffect(() => {
    if (open && isGroup) loadGroupInfo(open, intoState);
  }, [open, isGroup]);

  useEffect(() => {
    return onFrame((f) => {
      const me = s.me?.id;
      if (f.type === "msg" && f.msg.kind === "system" && f.msg.meta) {
        const { event, userId } = f.msg.meta;
        if (event === "dissolved") why.current[f.msg.conv] = "dissolved";
        else if (
          userId && userId === me && (event === "member_left" || event === "member_removed")
        ) {
          why.current[f.msg.conv] = event === "member_left" ? "left" : "kicked";
        }
        // Not after the user left it: the group's details are closed to them now.
        if (f.msg.conv === openRef.current && !why.current[f.msg.conv]) {
          reloadGroupInfoSoon(f.msg.conv, intoState);
        }
      } else if (f.type === "members_changed" && f.conv === openRef.current) {
        reloadGroupInfoSoon(f.conv, intoState);
      } else if (f.type === "conv_removed") {
        const reason = why.current[f.conv] ?? "kicked";
        const wasOpen = f.conv === openRef.current;
        forgetGroupInfo(f.conv);
        if (wasOpen) close();
        // Leaving is the user's own doing: say so only where they were looking at it.
        if (titles.current[f.conv] !== undefined && (wasOpen || reason !== "left")) {
          setGone({ conv: f.conv, title: titles.current[f.conv], why: reason });
        }
      }
    });
  }, [s.me?.id]);

  // A short notice: it goes by itself after a while.
  useEffect(() => {
    if (!gone) return;
    const timer = setTimeout(() => setGone(null), 10_000);
    return () => clearTimeout(timer);
  }, [gone]);
  return [gone, () => setGone(null)];
}

const GONE_KEYS = {
  kicked: "group.goneKicked",
  left: "group.goneLeft",
  dissolved: "group.goneDissolved",
} as const;

export function GoneNotice(
  { gone, locale, onDismiss }: { gone: Gone | null; locale: Locale; onDismiss: () => void },
) {
  return (
    <div class="toast-area" role="status" aria-live="polite">
      {gone && (
        <p class="toast" data-testid="group-gone" data-why={gone.why}>
          <span>{t(locale, GONE_KEYS[gone.why], { title: gone.title })}</span>
          <button
            type="button"
            class="link"
            onClick={onDismiss}
            aria-label={t(locale, "group.dismiss")}
          >
            ✕
          </button>
        </p>
      )}
    </div>
  );
}

/** "New group" and "Find groups", at the top of the conversation list. */
/**
 * The chat list's header: its title and a "+" that opens what starts something new (a group, a
 * friend, a group to find or join by link), as WeChat's corner menu does. A disclosure: the
 * button says whether it is open; Escape or a click elsewhere closes it.
 */
/** The "+" menu's entries: where each goes, its test id, its label. */
const PLUS_MENU: [string, string, MessageKey][] = [
  ["/g/new", "new-group", "group.new"],
  ["/contacts/new", "add-friend", "contacts.add"],
  ["/groups/find", "find-groups", "group.find"],
  ["/join", "join-link", "group.joinByLink"],
];

export function ListHead({ locale }: { locale: Locale }) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  // A layout effect: listening from the moment the menu shows (a plain effect waits for a frame,
  // which a background or headless tab may be slow to give, and an Escape before it went unseen).
  useLayoutEffect(() => {
    if (!open) return;
    const away = (e: Event) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    // On the document, not the menu: Safari does not focus a button it clicks, so after a click
    // on "+" the key goes to the page's body, not to anything inside this header.
    const escape = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      setOpen(false);
      button.current?.focus();
    };
    document.addEventListener("pointerdown", away);
    document.addEventListener("keydown", escape);
    return () => {
      document.removeEventListener("pointerdown", away);
      document.removeEventListener("keydown", escape);
    };
  }, [open]);
  return (
    <div class="list-head" ref={root}>
      <h2 class="list-title">{t(locale, "nav.chats")}</h2>
      <button
        ref={button}
        type="button"
        class="list-plus"
        aria-expanded={open}
        aria-controls="list-plus-menu"
        aria-label={t(locale, "chat.startNew")}
        onClick={() => setOpen(!open)}
        data-testid="list-plus"
      >
        <Icon name="plus" />
      </button>
      {open && (
        <ul class="plus-menu" id="list-plus-menu" data-testid="plus-menu">
          {PLUS_MENU.map(([href, testid, label]) => (
            <li key={testid}>
              <a href={href} data-testid={testid}>{t(locale, label)}</a>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
