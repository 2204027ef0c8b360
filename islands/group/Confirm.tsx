/** A modal confirm dialog (native <dialog>: focus stays inside, Esc cancels). */
import { useEffect, useRef, useState } from "preact/hooks";
import type { JSX } from "preact";
import { type Locale, type MessageKey, t } from "../../lib/i18n/i18n.ts";

interface Ask {
  text: string;
  ok: MessageKey;
  resolve: (yes: boolean) => void;
}

/** Returns the dialog to render and `confirm(text, okLabel)`, which resolves to the answer. */
export function useConfirm(
  locale: Locale,
): [JSX.Element | null, (text: string, ok: MessageKey) => Promise<boolean>] {
  const [ask, setAsk] = useState<Ask | null>(null);
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(null);

  useEffect(() => {
    if (ask && ref.current && !ref.current.open) ref.current.showModal();
  }, [ask]);

  function close(yes: boolean) {
    ref.current?.close();
    ask?.resolve(yes);
    setAsk(null);
    // Back to the button that asked (when it is still there).
    if (opener.current instanceof HTMLElement && opener.current.isConnected) opener.current.focus();
  }

  const el = ask && (
    <dialog
      ref={ref}
      class="group-confirm"
      aria-labelledby="confirm-text"
      data-testid="confirm"
      onCancel={(e) => {
        e.preventDefault();
        close(false);
      }}
    >
      <p id="confirm-text">{ask.text}</p>
      <div class="buttons">
        <button type="button" onClick={() => close(false)} data-testid="confirm-cancel">
          {t(locale, "group.cancel")}
        </button>
        <button
          type="button"
          class="primary danger-fill"
          onClick={() => close(true)}
          data-testid="confirm-ok"
        >
          {t(locale, ask.ok)}
        </button>
      </div>
    </dialog>
  );
  function confirm(text: string, ok: MessageKey): Promise<boolean> {
    opener.current = document.activeElement;
    return new Promise((resolve) => setAsk({ text, ok, resolve }));
  }
  return [el, confirm];
}
