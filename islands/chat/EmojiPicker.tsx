/**
 * The composer's emoji picker, loaded with its data only when first opened (the chat page's first
 * load carries neither): search in English and Chinese at once, the emoji groups, skin tones, and
 * the recently used ones of this browser. Arrow keys move through the grid, Enter picks, Escape
 * closes; every emoji is a button big enough for a finger.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { type Locale, t } from "../../lib/i18n/i18n.ts";

/** [emoji, group, English name, Chinese name, search words, its five skin tones?] */
type Entry = [string, number, string, string, string, string[]?];
interface EmojiData {
  groups: Record<string, Record<string, string>>;
  list: Entry[];
}

let loading: Promise<EmojiData> | null = null;

/** The data module scripts/build.ts writes next to the bundles (fetched once, cached for good). */
function loadData(): Promise<EmojiData> {
  const url = new URL("./emoji-data.js", import.meta.url).href;
  loading ??= (import(url) as Promise<{ default: EmojiData }>).then((m) => m.default);
  return loading;
}

const RECENT_KEY = "hc.emoji.recent";
const TONE_KEY = "hc.emoji.tone";
const RECENT_MAX = 24;
const TONES = ["✋", "✋🏻", "✋🏼", "✋🏽", "✋🏾", "✋🏿"];

function stored<T>(key: string, fallback: T): T {
  try {
    const v = localStorage.getItem(key);
    return v === null ? fallback : JSON.parse(v) as T;
  } catch {
    return fallback;
  }
}

function store(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Private mode or full storage: the picker still works, it just forgets.
  }
}

/** Entries whose words hold every word of the query (English or Chinese, any order). */
export function search(list: Entry[], query: string, max = 120): Entry[] {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!terms.length) return [];
  const out: Entry[] = [];
  for (const e of list) {
    if (terms.every((w) => e[4].includes(w))) out.push(e);
    if (out.length === max) break;
  }
  return out;
}

export function EmojiPicker(
  p: { locale: Locale; onPick: (emoji: string) => void; onClose: () => void },
) {
  const [data, setData] = useState<EmojiData | null>(null);
  const [failed, setFailed] = useState(false);
  const [query, setQuery] = useState("");
  const [recent, setRecent] = useState<string[]>(() => stored(RECENT_KEY, []));
  const [group, setGroup] = useState<number>(() => recent.length ? -1 : 0);
  const [tone, setTone] = useState<number>(() => stored(TONE_KEY, 0));
  const grid = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    loadData().then(setData, () => setFailed(true));
    input.current?.focus();
  }, []);

  const byEmoji = useMemo(() => new Map(data?.list.map((e) => [e[0], e])), [data]);
  const shown: Entry[] = !data
    ? []
    : query.trim()
    ? search(data.list, query)
    : group === -1
    ? recent.flatMap((r): Entry[] => {
      const e = byEmoji.get(r);
      return e ? [e] : [];
    })
    : data.list.filter((e) => e[1] === group);

  const withTone = (e: Entry) => (tone && e[5] ? e[5][tone - 1] : e[0]);

  function pick(e: Entry) {
    const next = [e[0], ...recent.filter((r) => r !== e[0])].slice(0, RECENT_MAX);
    setRecent(next);
    store(RECENT_KEY, next);
    p.onPick(withTone(e));
  }

  function onKeyDown(ev: KeyboardEvent) {
    if (ev.key === "Escape") {
      ev.stopPropagation();
      p.onClose();
      return;
    }
    const buttons = [...(grid.current?.querySelectorAll<HTMLButtonElement>("button") ?? [])];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (ev.key === "ArrowDown" && document.activeElement === input.current && buttons.length) {
      ev.preventDefault();
      buttons[0].focus();
      return;
    }
    if (at < 0) return;
    const cols = Math.max(
      1,
      Math.round((grid.current!.clientWidth) / (buttons[0].offsetWidth || 40)),
    );
    const move = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols }[ev.key];
    if (move === undefined) return;
    ev.preventDefault();
    const next = at + move;
    if (next < 0) input.current?.focus();
    else buttons[Math.min(next, buttons.length - 1)].focus();
  }

  const names = data?.groups[p.locale] ?? data?.groups.en ?? {};
  const firstOf = (g: number) => data?.list.find((e) => e[1] === g)?.[0] ?? "";
  const zh = p.locale === "zh-CN";

  return (
    <div
      class="emoji-picker"
      role="dialog"
      aria-label={t(p.locale, "emoji.title")}
      onKeyDown={onKeyDown}
      data-testid="emoji-picker"
    >
      <div class="emoji-top">
        <input
          ref={input}
          type="search"
          value={query}
          placeholder={t(p.locale, "emoji.search")}
          aria-label={t(p.locale, "emoji.search")}
          onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)}
          data-testid="emoji-search"
        />
        <div class="emoji-tones" role="radiogroup" aria-label={t(p.locale, "emoji.tone")}>
          {TONES.map((h, i) => (
            <button
              type="button"
              key={h}
              role="radio"
              aria-checked={tone === i}
              aria-label={t(p.locale, "emoji.toneN", { n: i })}
              onClick={() => (setTone(i), store(TONE_KEY, i))}
              data-testid="emoji-tone"
            >
              {h}
            </button>
          ))}
        </div>
      </div>
      {!query.trim() && (
        <div class="emoji-groups" role="tablist" aria-label={t(p.locale, "emoji.groups")}>
          {recent.length > 0 && (
            <button
              type="button"
              role="tab"
              aria-selected={group === -1}
              title={t(p.locale, "emoji.recent")}
              aria-label={t(p.locale, "emoji.recent")}
              onClick={() => setGroup(-1)}
            >
              🕘
            </button>
          )}
          {Object.keys(names).map((g) => (
            <button
              type="button"
              role="tab"
              key={g}
              aria-selected={group === Number(g)}
              title={names[g]}
              aria-label={names[g]}
              onClick={() => setGroup(Number(g))}
              data-testid="emoji-group"
            >
              {firstOf(Number(g))}
            </button>
          ))}
        </div>
      )}
      <div class="emoji-grid" ref={grid} data-testid="emoji-grid">
        {failed
          ? <p class="muted">{t(p.locale, "emoji.failed")}</p>
          : !data
          ? <p class="muted">{t(p.locale, "chat.loadingOlder")}</p>
          : !shown.length
          ? <p class="muted">{t(p.locale, "emoji.none")}</p>
          : shown.map((e) => (
            <button
              type="button"
              key={e[0]}
              title={zh ? e[3] || e[2] : e[2]}
              aria-label={zh ? e[3] || e[2] : e[2]}
              onClick={() => pick(e)}
              data-testid="emoji"
            >
              {withTone(e)}
            </button>
          ))}
      </div>
    </div>
  );
}
