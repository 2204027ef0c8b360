/**
 * The parts of a message bubble beyond its text: the quote of the message it answers, its
 * reactions, the action bar (react, reply, recall), and the text itself with its links.
 */
import { useEffect, useState } from "preact/hooks";
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import type { ChatState, ConvState } from "../../lib/client/state.ts";
import { type Message, RECALL_WINDOW_MS } from "../../lib/wire/protocol.ts";
import { linkifierReady, loadLinkifier, mayHoldLink, type Piece, pieces } from "./links.ts";
import { memberName } from "./format.ts";

/** The reactions the action bar offers at one tap. */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

/** Message text with its links; the linkifier loads the first time a text may hold one. */
export function RichText({ text }: { text: string }) {
  const maybe = mayHoldLink(text);
  const [, setLoaded] = useState(0);
  useEffect(() => {
    if (maybe && !linkifierReady()) loadLinkifier().then(() => setLoaded((n) => n + 1));
  }, [maybe]);
  const lk = maybe ? linkifierReady() : null;
  if (!lk) return <>{text}</>;
  return (
    <>
      {pieces(lk, text).map((p: Piece, i) =>
        typeof p === "string" ? p : (
          <a
            key={i}
            href={p.href}
            target="_blank"
            rel="noopener noreferrer"
            data-testid="msg-link"
          >
            {p.text}
          </a>
        )
      )}
    </>
  );
}

/** The first line of a message, short, for a quote. */
function snippet(m: Message): string {
  const line = m.text.split("\n", 1)[0];
  return [...line].length > 60 ? [...line].slice(0, 60).join("") + "…" : line;
}

/** The quote above a reply: who and what it answers; a tap shows the original. */
export function Quote(
  p: {
    s: ChatState;
    c: ConvState;
    reply: { seq: number; from: string };
    locale: Locale;
    onJump: (seq: number) => void;
  },
) {
  const original = p.c.messages.find((m) => m.seq === p.reply.seq);
  const name = memberName(p.s, p.c.summary.id, p.reply.from, p.locale);
  const text = !original
    ? t(p.locale, "chat.quoteMissing")
    : original.recalled
    ? t(p.locale, "chat.quoteRecalled")
    : snippet(original);
  return (
    <button
      type="button"
      class="quote"
      onClick={() => p.onJump(p.reply.seq)}
      aria-label={`${t(p.locale, "chat.jumpToQuote")}: ${name}`}
      data-testid="quote"
    >
      <span class="quote-name">{name}</span>
      <span class="quote-text">{text}</span>
    </button>
  );
}

/** Reaction chips under a message: emoji, count, mine pressed; a tap toggles mine. */
export function Reactions(
  p: {
    s: ChatState;
    m: Message;
    locale: Locale;
    onReact: (emoji: string, on: boolean) => void;
  },
) {
  const me = p.s.me?.id;
  const entries = Object.entries(p.m.reactions ?? {});
  if (!entries.length) return null;
  return (
    <div class="reactions" data-testid="reactions">
      {entries.map(([emoji, users]) => {
        const mine = !!me && users.includes(me);
        const names = users.map((u) => memberName(p.s, p.m.conv, u, p.locale)).join(", ");
        return (
          <button
            type="button"
            key={emoji}
            class={`reaction${mine ? " mine" : ""}`}
            aria-pressed={mine}
            title={t(p.locale, "chat.reactedBy", { names, emoji })}
            onClick={() => p.onReact(emoji, !mine)}
            data-testid="reaction"
            data-emoji={emoji}
          >
            {emoji} <span class="count">{users.length}</span>
          </button>
        );
      })}
    </div>
  );
}

/** Whether this user may recall `m` now (the server decides; this only hides what it would refuse). */
export function mayRecall(c: ConvState, m: Message, me: string | undefined, now: number): boolean {
  if (!me || m.recalled || m.kind !== "text") return false;
  const role = c.summary.role;
  if (c.summary.kind === "group" && (role === "owner" || role === "admin")) return true;
  return m.from === me && now - m.at <= RECALL_WINDOW_MS;
}

/** The bar a selected message shows: quick reactions, reply, recall. */
export function ActionBar(
  p: {
    c: ConvState;
    m: Message;
    me: string | undefined;
    locale: Locale;
    onReact: (emoji: string, on: boolean) => void;
    onReply: () => void;
    onRecall: () => void;
    onCopy: () => void;
  },
) {
  const mine = (emoji: string) => !!p.me && !!p.m.reactions?.[emoji]?.includes(p.me);
  return (
    <div
      class="actions"
      role="toolbar"
      aria-label={t(p.locale, "chat.actions")}
      data-testid="actions"
    >
      {QUICK_REACTIONS.map((e) => (
        <button
          type="button"
          key={e}
          class="react-pick"
          aria-pressed={mine(e)}
          aria-label={t(p.locale, "chat.react", { emoji: e })}
          onClick={() => p.onReact(e, !mine(e))}
          data-testid="react-pick"
          data-emoji={e}
        >
          {e}
        </button>
      ))}
      {p.m.text && (
        <button type="button" class="link" onClick={p.onCopy} data-testid="copy">
          {t(p.locale, "chat.copy")}
        </button>
      )}
      <button type="button" class="link" onClick={p.onReply} data-testid="reply">
        {t(p.locale, "chat.reply")}
      </button>
      {mayRecall(p.c, p.m, p.me, Date.now()) && (
        <button type="button" class="link danger" onClick={p.onRecall} data-testid="recall">
          {t(p.locale, "chat.recall")}
        </button>
      )}
    </div>
  );
}

/** The line a recalled message leaves: who took it back. */
export function recalledText(s: ChatState, m: Message, locale: Locale): string {
  const me = s.me?.id;
  const by = m.recalled?.by ?? m.from;
  if (by === me && m.from === me) return t(locale, "chat.recalledMine");
  const name = memberName(s, m.conv, m.from, locale);
  if (by === m.from) return t(locale, "chat.recalled", { name });
  const byName = by === me ? t(locale, "chat.you") : memberName(s, m.conv, by, locale);
  return t(locale, "chat.recalledBy", { by: byName, name });
}
