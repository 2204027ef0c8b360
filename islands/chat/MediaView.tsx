/**
 * Pictures and files in messages: a picture as its thumbnail at its final size (nothing jumps
 * when it loads), a file as a card that downloads it, an upload on its way with its progress, and
 * the viewer that shows a picture whole (Escape closes, arrows go to the others; pinch zooms).
 */
import { useEffect, useRef } from "preact/hooks";
import { type Locale, t } from "../../lib/i18n/i18n.ts";
import type { Message } from "../../lib/wire/protocol.ts";
import type { PendingMedia } from "../../lib/client/state.ts";

export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const mediaUrl = (conv: string, id: string, variant: "full" | "thumb") =>
  `/media/${conv}/${id}/${variant}`;

/** What a message carries: a picture (opens the viewer) or a file (downloads). */
export function MediaContent(
  p: { m: Message; locale: Locale; onOpen: (seq: number) => void },
) {
  const media = p.m.media!;
  if (media.kind === "image") {
    return (
      <button
        type="button"
        class="media-img"
        onClick={() => p.onOpen(p.m.seq)}
        aria-label={t(p.locale, "chat.openImage")}
        data-testid="media-image"
      >
        <img
          src={mediaUrl(p.m.conv, media.id, "thumb")}
          width={media.tw}
          height={media.th}
          alt=""
          loading="lazy"
        />
      </button>
    );
  }
  return (
    <a
      class="file-card"
      href={mediaUrl(p.m.conv, media.id, "full")}
      download={media.name}
      data-testid="media-file"
    >
      <span class="file-icon" aria-hidden="true">📄</span>
      <span class="file-name">{media.name}</span>
      <span class="file-size muted">{sizeText(media.size)}</span>
    </a>
  );
}

/** An upload on its way: its preview or name, and how far it is. */
export function PendingMediaView({ media, locale }: { media: PendingMedia; locale: Locale }) {
  const pct = Math.round(media.progress * 100);
  return (
    <div class="media-pending" data-testid="media-pending">
      {media.preview
        ? <img src={media.preview} alt="" class="media-preview" />
        : (
          <span class="file-card">
            <span class="file-icon" aria-hidden="true">📄</span>
            <span class="file-name">{media.name}</span>
            <span class="file-size muted">{sizeText(media.size)}</span>
          </span>
        )}
      {!media.id && (
        <progress
          max={100}
          value={pct}
          aria-label={t(locale, "chat.uploading", { pct })}
          data-testid="upload-progress"
        />
      )}
    </div>
  );
}

/** The picture whole, over the conversation; `images` are the conversation's pictures, in order. */
export function Viewer(
  p: {
    images: Message[];
    seq: number;
    locale: Locale;
    onClose: () => void;
    onShow: (seq: number) => void;
  },
) {
  const at = p.images.findIndex((m) => m.seq === p.seq);
  const m = p.images[at];
  const close = useRef<HTMLButtonElement>(null);
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // Focus moves in, and back to the image that opened the viewer when it closes.
    const opener = document.activeElement as HTMLElement | null;
    close.current?.focus();
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") (e.stopPropagation(), p.onClose());
      else if (e.key === "Tab") trapTab(e, dialog.current);
      else if (e.key === "ArrowLeft" && at > 0) p.onShow(p.images[at - 1].seq);
      else if (e.key === "ArrowRight" && at < p.images.length - 1) p.onShow(p.images[at + 1].seq);
    };
    addEventListener("keydown", onKey, true);
    return () => removeEventListener("keydown", onKey, true);
  }, [at, p.images.length]);
  if (!m?.media) return null;
  return (
    <div
      ref={dialog}
      class="viewer"
      role="dialog"
      aria-modal="true"
      aria-label={t(p.locale, "chat.image")}
      data-testid="viewer"
      onClick={(e) => e.target === e.currentTarget && p.onClose()}
    >
      <img
        src={mediaUrl(m.conv, m.media.id, "full")}
        width={m.media.w}
        height={m.media.h}
        alt=""
        data-testid="viewer-image"
      />
      <button
        ref={close}
        type="button"
        class="viewer-close"
        onClick={p.onClose}
        aria-label={t(p.locale, "chat.close")}
        data-testid="viewer-close"
      >
        ×
      </button>
      {at > 0 && (
        <button
          type="button"
          class="viewer-prev"
          onClick={() => p.onShow(p.images[at - 1].seq)}
          aria-label={t(p.locale, "chat.previous")}
        >
          ‹
        </button>
      )}
      {at < p.images.length - 1 && (
        <button
          type="button"
          class="viewer-next"
          onClick={() => p.onShow(p.images[at + 1].seq)}
          aria-label={t(p.locale, "chat.next")}
        >
          ›
        </button>
      )}
    </div>
  );
}

/** Keeps Tab inside a modal dialog: from its last control to its first, and back. */
function trapTab(e: KeyboardEvent, box: HTMLElement | null): void {
  const controls = [...(box?.querySelectorAll<HTMLElement>("button,a[href]") ?? [])];
  if (!controls.length) return;
  const first = controls[0], last = controls[controls.length - 1];
  const at = document.activeElement;
  if (e.shiftKey ? at === first || !box!.contains(at) : at === last || !box!.contains(at)) {
    e.preventDefault();
    (e.shiftKey ? last : first).focus();
  }
}
