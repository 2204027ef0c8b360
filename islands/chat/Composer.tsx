/** The composer: Enter sends and Shift+Enter breaks the line (on phones, the send button sends). */
import { useRef, useState } from "preact/hooks";
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import { MAX_TEXT_CHARS } from "../../lib/wire/protocol.ts";

export function Composer(
  p: { locale: Locale; online: boolean; onSend: (text: string) => void; onTyping: () => void },
) {
  const [text, setText] = useState("");
  const ref = useRef<HTMLTextAreaElement>(null);

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

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
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
  );
}
