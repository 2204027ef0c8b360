/**
 * Links in message text: found by linkify-it (loaded on demand, the first time a message looks as
 * if it holds one, so the chat page's first load does not carry it), and only http(s) and mailto.
 * Text is never parsed as HTML: the pieces are rendered as text and <a> elements.
 */
import type { LinkifyIt } from "linkify-it";

export type Piece = string | { text: string; href: string };

/** Cheap test before loading the linkifier: a scheme, "www.", an e-mail or a dotted name. */
const MAYBE_LINK = /:\/\/|www\.|@|[a-z0-9-]\.[a-z]{2,}/i;

/** Chinese, Japanese and Korean characters and punctuation. */
const CJK =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]+/gu;

let linkifier: LinkifyIt | null = null;
let loading: Promise<LinkifyIt> | null = null;

/** Whether `text` may hold a link (then `loadLinkifier()` and `pieces()`). */
export function mayHoldLink(text: string): boolean {
  return MAYBE_LINK.test(text);
}

export function loadLinkifier(): Promise<LinkifyIt> {
  // Fuzzy links too ("www.deno.com", "example.com/a"), as people type them in chat.
  loading ??= import("linkify-it").then(({ LinkifyIt }) =>
    linkifier = new LinkifyIt({ fuzzyLink: true })
  );
  return loading;
}

/** The linkifier once loaded (pieces() can run synchronously), else null. */
export function linkifierReady(): LinkifyIt | null {
  return linkifier;
}

/** Text split into plain runs and links (http, https and mailto only). */
export function pieces(lk: LinkifyIt, text: string): Piece[] {
  const found = lk.match(text);
  if (!found) return [text];
  const out: Piece[] = [];
  let at = 0;
  for (const m of found) {
    if (!/^(https?:\/\/|mailto:)/i.test(m.url)) continue;
    let { index, text: shown, url } = m;
    // Chinese runs straight into a link without a space ("文件在example.com"): the linkifier takes
    // the characters before it as part of an international domain name. Start after them.
    if (!m.schema) {
      const cjk = [...shown.matchAll(CJK)].at(-1);
      if (cjk) {
        const cut = cjk.index + cjk[0].length;
        index += cut;
        shown = shown.slice(cut);
        if (!/\.[a-z]/i.test(shown)) continue;
        url = (url.startsWith("mailto:") ? "mailto:" : "http://") + shown;
      }
    }
    if (index > at) out.push(text.slice(at, index));
    out.push({ text: shown, href: url });
    at = m.lastIndex;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}
