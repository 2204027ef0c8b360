/**
 * Finding messages: in the open conversation (from its header) or in all of them (from the list).
 * The server searches (lib/chat/search.ts); a hit shows who, when and the words around the match,
 * and takes the reader to the message in its place.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import type { ChatState } from "../../lib/client/state.ts";
import type { Message } from "../../lib/wire/protocol.ts";
import { searchMessages } from "./client.ts";
import { convTitle, dayLabel, memberName, timeOf } from "./format.ts";

/** The text around the first word of the query, with that word marked. */
function around(text: string, q: string) {
  const word = q.trim().split(/\s+/)[0] ?? "";
  const folded = text.normalize("NFKC").toLowerCase();
  const at = word ? folded.indexOf(word.normalize("NFKC").toLowerCase()) : -1;
  // NFKC keeps the length of most text; where it does not, show the start plainly.
  if (at < 0 || folded.length !== text.length) return <>{text.slice(0, 80)}</>;
  const from = Math.max(0, at - 24);
  return (
    <>
      {from > 0 ? "…" : ""}
      {text.slice(from, at)}
      <mark>{text.slice(at, at + word.length)}</mark>
      {text.slice(at + word.length, at + word.length + 56)}
    </>
  );
}

export function SearchPanel(
  p: {
    s: ChatState;
    locale: Locale;
    /** One conversation's id; all of them when absent. */
    conv?: string;
    onPick: (conv: string, seq: number) => void;
    onClose: () => void;
  },
) {
  const [q, setQ] = useState("");
  const [hits, setHits] = useState<Message[] | null>(null);
  const [next, setNext] = useState<number | undefined>();
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const asked = useRef("");
  useEffect(() => input.current?.focus(), []);

  async function run(more = false) {
    const query = q.trim();
    if (!query) return;
    asked.current = query;
    setBusy(true);
    setFailed(null);
    const r = await searchMessages(query, p.conv, more ? next : undefined);
    if (asked.current !== query) return;
    setBusy(false);
    if ("error" in r) return setFailed(r.error);
    setHits(more && hits ? [...hits, ...r.hits] : r.hits);
    setNext(r.next);
  }

  const title = (m: Message) => {
    const c = p.s.convs[m.conv];
    return c ? convTitle(c, p.locale, p.s) : "";
  };

  return (
    <div
      class="search-panel"
      role="search"
      onKeyDown={(e) => e.key === "Escape" && (e.stopPropagation(), p.onClose())}
      data-testid="search-panel"
    >
      <form
        class="search-bar"
        onSubmit={(e) => {
          e.preventDefault();
          run();
        }}
      >
        <input
          ref={input}
          type="search"
          value={q}
          maxLength={100}
          placeholder={t(p.locale, p.conv ? "search.inConv" : "search.all")}
          aria-label={t(p.locale, p.conv ? "search.inConv" : "search.all")}
          onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)}
          data-testid="search-input"
        />
        <button type="submit" class="small" disabled={!q.trim() || busy} data-testid="search-go">
          {t(p.locale, "search.go")}
        </button>
        <button
          type="button"
          class="link"
          onClick={p.onClose}
          aria-label={t(p.locale, "chat.close")}
          data-testid="search-close"
        >
          ×
        </button>
      </form>
      {failed && <p class="update-error" role="alert">{t(p.locale, "search.failed")}</p>}
      {hits && (
        <ul class="search-hits" aria-live="polite" data-testid="search-hits">
          {!hits.length && <li class="muted">{t(p.locale, "search.none")}</li>}
          {hits.map((m) => (
            <li key={`${m.conv}-${m.seq}`}>
              <button
                type="button"
                class="search-hit"
                onClick={() => p.onPick(m.conv, m.seq)}
                data-testid="search-hit"
              >
                <span class="hit-head">
                  <b>{p.conv ? memberName(p.s, m.conv, m.from, p.locale) : title(m)}</b>
                  <time>{dayLabel(m.at, p.locale)} {timeOf(m.at, p.locale)}</time>
                </span>
                <span class="hit-text">
                  {!p.conv && `${memberName(p.s, m.conv, m.from, p.locale)}: `}
                  {around(m.text, asked.current)}
                </span>
              </button>
            </li>
          ))}
          {next !== undefined && (
            <li>
              <button type="button" class="link" onClick={() => run(true)} disabled={busy}>
                {t(p.locale, "search.more")}
              </button>
            </li>
          )}
        </ul>
      )}
    </div>
  );
}
