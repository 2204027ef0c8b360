/** Server-sent events, read incrementally (the language model's stream: lib/chat/llm.ts). */

/** Longest line the parser keeps while waiting for its end: a server can't make it grow forever. */
export const MAX_LINE = 1 << 20;

/**
 * Incremental server-sent-events parser: bytes in (split anywhere, even inside a UTF-8
 * character), the `data` of each complete event out. LF, CR or CRLF end lines; comments and
 * `event:`/`id:`/`retry:` fields are ignored.
 */
export class SseParser {
  /** @param tooLong the error for a line longer than MAX_LINE. */
  constructor(readonly tooLong: () => Error = () => new Error("An SSE line is too long")) {}

  #decoder = new TextDecoder();
  #line = "";
  #data: string[] = [];
  #afterCr = false;

  /** Feeds bytes; returns the events they completed. */
  push(bytes: Uint8Array): string[] {
    return this.#text(this.#decoder.decode(bytes, { stream: true }));
  }

  /** Ends the stream; an unterminated last event still counts (servers that skip the blank line). */
  end(): string[] {
    const out = this.#text(this.#decoder.decode());
    if (this.#line) this.#field(this.#line, out);
    this.#line = "";
    this.#field("", out);
    return out;
  }

  #text(text: string): string[] {
    const out: string[] = [];
    let pos = this.#afterCr && text.startsWith("\n") ? 1 : 0;
    if (text) this.#afterCr = false;
    const eol = /[\r\n]/g;
    eol.lastIndex = pos;
    for (let m = eol.exec(text); m; m = eol.exec(text)) {
      this.#field(this.#line + text.slice(pos, m.index), out);
      this.#line = "";
      pos = m.index + 1;
      if (m[0] === "\r") {
        if (text[pos] === "\n") pos++;
        else if (pos === text.length) this.#afterCr = true;
      }
      eol.lastIndex = pos;
    }
    this.#line += text.slice(pos);
    if (this.#line.length > MAX_LINE) throw this.tooLong();
    return out;
  }

  #field(line: string, out: string[]): void {
    if (line === "") {
      if (this.#data.length) out.push(this.#data.join("\n"));
      this.#data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    if (name !== "data") return;
    const value = colon < 0 ? "" : line.slice(colon + 1);
    this.#data.push(value.startsWith(" ") ? value.slice(1) : value);
  }
}
