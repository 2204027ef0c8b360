/**
 * The composer: Enter sends and Shift+Enter breaks the line (on phones, the send button sends);
 * the emoji button opens the picker (islands/chat/EmojiPicker.tsx, loaded on first use).
 */
import { useRef, useState } from "preact/hooks";
import type { EmojiPicker as Picker } from "./EmojiPicker.tsx";
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import { MAX_TEXT_CHARS } from "../../lib/wire/protocol.ts";

export function Composer(
  p: {
    locale: Locale;
    online: boolean;
    onSend: (text: string) => void;
    onTyping: () => void;
    /** A picture or file chosen, pasted or dropped: sent on its own. */
    onFile: (file: File) => void;
  },
) {
  const fileInput = useRef<HTMLInputElement>(null);
  const [text, setText] = useState("");
  const ref = useRef<HTMLTextAreaElement>(null);
  const [picker, setPicker] = useState<typeof Picker | null>(null);
  const [picking, setPicking] = useState(false);

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
    setText(next);
    const caret = start + emoji.length;
    requestAnimationFrame(() => el?.setSelectionRange(caret, caret));
  }

  function submit() {
    if (!text.trim() || !p.online) return;
    p.onSend(text);
    setText("");
    ref.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent) {
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
      {Panel && (
        <Panel
          locale={p.locale}
          onPick={insert}
          onClose={() => (setPicking(false), ref.current?.focus())}
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
          type="button"
          class="emoji-toggle"
          aria-label={t(p.locale, "emoji.title")}
          aria-expanded={picking}
          onClick={togglePicker}
          data-testid="emoji-toggle"
        >
          😊
        </button>
        <button
          type="button"
          class="emoji-toggle"
          aria-label={t(p.locale, "chat.attach")}
          disabled={!p.online}
          onClick={() => fileInput.current?.click()}
          data-testid="attach"
        >
          📎
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
          placeholder={t(p.locale, "chat.placeholder")}
          aria-label={t(p.locale, "chat.placeholder")}
          disabled={!p.online}
          onInput={(e) => {
            setText((e.currentTarget as HTMLTextAreaElement).value);
            p.onTyping();
          }}
          onKeyDown={onKeyDown}
          onPaste={(e) => {
            const pasted = [...(e.clipboardData?.files ?? [])];
            if (!pasted.length || !p.online) return;
            e.preventDefault();
            for (const f of pasted.slice(0, 9)) p.onFile(f);
          }}
          data-testid="composer"
        />
        <button
          type="submit"
          class="primary send"
          disabled={!p.online || !text.trim()}
          data-testid="send"
        >
          {t(p.locale, "chat.send")}
        </button>
      </form>
    </>
  );
}
