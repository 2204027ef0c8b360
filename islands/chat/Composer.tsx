/**
 * The composer: Enter sends and Shift+Enter breaks the line (on phones, the send button sends);
 * the emoji button opens the picker (islands/chat/EmojiPicker.tsx, loaded on first use).
 */
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import type { EmojiPicker as Picker } from "./EmojiPicker.tsx";
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import { MAX_TEXT_CHARS } from "../../lib/wire/protocol.ts";
import { Icon } from "../../components/Icon.tsx";

export function Composer(
  p: {
    locale: Locale;
    /** Connected: pictures and files can go (text waits in the queue while offline). */
    online: boolean;
    /** Why nothing can be sent here (muted, no longer friends), shown in place of the text box. */
    blocked?: string | null;
    /** The text and the people it calls by @name (ids, or "all"). */
    onSend: (text: string, mentions: string[]) => void;
    onTyping: () => void;
    /** Groups: who can be called by @name (and "all" for owners and admins). */
    members?: { id: string; name: string }[];
    /** A picture or file chosen, pasted or dropped: sent on its own. */
    onFile: (file: File) => void;
  },
) {
  const fileInput = useRef<HTMLInputElement>(null);
  const [text, setText] = useState("");
  const ref = useRef<HTMLTextAreaElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  const [picker, setPicker] = useState<typeof Picker | null>(null);
  const [picking, setPicking] = useState(false);
  /** Where the caret goes once the text just set is on screen (after an insert). */
  const caretAfter = useRef<number | null>(null);
  useLayoutEffect(() => {
    const at = caretAfter.current;
    if (at === null) return;
    caretAfter.current = null;
    // Not focused here: after an emoji, the picker keeps the keyboard.
    ref.current?.setSelectionRange(at, at);
  }, [text]);
  /** The @names picked so far → their ids; sent for those still in the text. */
  const called = useRef(new Map<string, string>());
  const [query, setQuery] = useState<string | null>(null);
  const [choice, setChoice] = useState(0);
  const found = query === null || !p.members
    ? []
    : p.members.filter((m) => m.name.toLowerCase().includes(query.toLowerCase())).slice(0, 8);

  /** Looks at the word before the caret: "@…" opens the list of members. */
  function watchMention(value: string, caret: number) {
    const before = value.slice(0, caret);
    // Names may hold spaces: the list stays while some member still matches.
    const at = /(^|\s)@([^@\n]{0,24})$/.exec(before);
    setQuery(p.members?.length && at ? at[2] : null);
    setChoice(0);
  }

  function pickMention(m: { id: string; name: string }) {
    const el = ref.current;
    const caret = el?.selectionStart ?? text.length;
    const start = text.slice(0, caret).lastIndexOf("@");
    const next = text.slice(0, start) + `@${m.name} ` + text.slice(caret);
    if ([...next].length > MAX_TEXT_CHARS) return;
    called.current.set(m.name, m.id);
    caretAfter.current = start + m.name.length + 2;
    setText(next);
    setQuery(null);
  }

  function togglePicker() {
    if (!picker) import("./EmojiPicker.tsx").then((m) => setPicker(() => m.EmojiPicker));
    setPicking(!picking);
    if (picking) ref.current?.focus();
  }

  /** Puts the emoji where the caret is (over the selection), and the caret after it. */
  function insert(emoji: string) {
    const el = ref.current;
    const start = el?.selectionStart ?? text.length;
    const end = el?.selectionEnd ?? start;
    const next = text.slice(0, start) + emoji + text.slice(end);
    if ([...next].length > MAX_TEXT_CHARS) return;
    caretAfter.current = start + emoji.length;
    setText(next);
  }

  function submit() {
    if (!text.trim() || p.blocked) return;
    const mentions = [...called.current].filter(([name]) => text.includes(`@${name}`))
      .map(([, id]) => id);
    p.onSend(text, [...new Set(mentions)]);
    called.current.clear();
    setText("");
    setQuery(null);
    ref.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent) {
    if (found.length) {
      const move = { ArrowDown: 1, ArrowUp: -1 }[e.key];
      if (move) {
        e.preventDefault();
        setChoice((choice + move + found.length) % found.length);
        return;
      }
      if ((e.key === "Enter" || e.key === "Tab") && !e.isComposing) {
        e.preventDefault();
        pickMention(found[Math.min(choice, found.length - 1)]);
        return;
      }
      if (e.key === "Escape") {
        e.stopPropagation();
        setQuery(null);
        return;
      }
    }
    // Never send in the middle of an IME composition (pinyin input).
    if (e.key !== "Enter" || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    const coarse = typeof matchMedia !== "undefined" && matchMedia("(pointer: coarse)").matches;
    if (coarse) return;
    e.preventDefault();
    submit();
  }

  const Panel = picking ? picker : null;
  return (
    <>
      {found.length > 0 && (
        <ul
          class="mention-pick"
          role="listbox"
          aria-label={t(p.locale, "chat.mentionPick")}
          data-testid="mention-pick"
        >
          {found.map((m, i) => (
            <li key={m.id}>
              <button
                type="button"
                role="option"
                aria-selected={i === choice}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => pickMention(m)}
                data-testid="mention-option"
              >
                @{m.name}
              </button>
            </li>
          ))}
        </ul>
      )}
      {Panel && (
        <Panel
          locale={p.locale}
          onPick={insert}
          // Escape gives the keyboard back to the button that opened the picker.
          onClose={() => (setPicking(false), toggle.current?.focus())}
        />
      )}
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <button
          ref={toggle}
          type="button"
          class="emoji-toggle"
          aria-label={t(p.locale, "emoji.title")}
          aria-expanded={picking}
          onClick={togglePicker}
          data-testid="emoji-toggle"
        >
          <Icon name="smile" />
        </button>
        <button
          type="button"
          class="emoji-toggle"
          aria-label={t(p.locale, "chat.attach")}
          disabled={!p.online || !!p.blocked}
          onClick={() => fileInput.current?.click()}
          data-testid="attach"
        >
          <Icon name="clip" />
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          aria-label={t(p.locale, "chat.attach")}
          onChange={(e) => {
            const input = e.currentTarget as HTMLInputElement;
            for (const f of [...(input.files ?? [])].slice(0, 9)) p.onFile(f);
            input.value = "";
          }}
          data-testid="file-input"
        />
        <textarea
          ref={ref}
          rows={1}
          value={text}
          maxLength={MAX_TEXT_CHARS}
          placeholder={p.blocked || t(p.locale, "chat.placeholder")}
          aria-label={t(p.locale, "chat.placeholder")}
          disabled={!!p.blocked}
          onInput={(e) => {
            const el = e.currentTarget as HTMLTextAreaElement;
            setText(el.value);
            watchMention(el.value, el.selectionStart ?? el.value.length);
            p.onTyping();
          }}
          onKeyDown={onKeyDown}
          onPaste={(e) => {
            const pasted = [...(e.clipboardData?.files ?? [])];
            if (!pasted.length || !p.online || p.blocked) return;
            e.preventDefault();
            for (const f of pasted.slice(0, 9)) p.onFile(f);
          }}
          data-testid="composer"
        />
        <button
          type="submit"
          class="primary send"
          disabled={!!p.blocked || !text.trim()}
          data-testid="send"
        >
          {t(p.locale, "chat.send")}
        </button>
      </form>
    </>
  );
}
