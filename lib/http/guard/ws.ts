/**
 * Follows the client's WebSocket frames on an upgraded connection (RFC 6455 §5.2) far enough to
 * know each message's size: Deno reads a whole message, up to 64 MiB, before the app sees it, so
 * the guard ends a connection whose message grows past the cap while its bytes pass through.
 */
export class WsMeter {
  /** Header bytes of the frame being read (at most 14). */
  #head = new Uint8Array(14);
  #headLen = 0;
  /** Payload bytes of the current frame still to come. */
  #payloadLeft = 0;
  /** Bytes of the current (possibly fragmented) data message so far. */
  #message = 0;

  constructor(readonly maxMessageBytes: number) {}

  /** Takes client bytes; false when a message is over the cap (or a length is absurd). */
  feed(chunk: Uint8Array): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.#payloadLeft > 0) {
        const take = Math.min(this.#payloadLeft, chunk.length - i);
        this.#payloadLeft -= take;
        i += take;
        continue;
      }
      this.#head[this.#headLen++] = chunk[i++];
      const need = this.#headerSize();
      if (need === 0 || this.#headLen < need) continue;
      if (!this.#frameStart()) return false;
      this.#headLen = 0;
    }
    return true;
  }

  /** Bytes the current header needs in all, or 0 while that is not known yet. */
  #headerSize(): number {
    if (this.#headLen < 2) return 0;
    const len7 = this.#head[1] & 0x7f;
    const masked = (this.#head[1] & 0x80) !== 0;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
  }

  #frameStart(): boolean {
    const h = this.#head;
    const fin = (h[0] & 0x80) !== 0;
    const opcode = h[0] & 0x0f;
    const len7 = h[1] & 0x7f;
    let len = len7;
    if (len7 === 126) len = (h[2] << 8) | h[3];
    if (len7 === 127) {
      // The high 32 bits must be zero for any length the cap could allow.
      if (h[2] | h[3] | h[4] | h[5]) return false;
      len = ((h[6] << 24) >>> 0) + (h[7] << 16) + (h[8] << 8) + h[9];
    }
    const control = opcode >= 0x8;
    if (!control) {
      // A new data message starts with a text or binary frame; continuation frames add to it.
      if (opcode !== 0) this.#message = 0;
      this.#message += len;
      if (this.#message > this.maxMessageBytes) return false;
      if (fin) this.#message = 0;
    } else if (len > 125) return false;
    this.#payloadLeft = len;
    return true;
  }
}
