/**
 * Follows the client's side of one HTTP/1.1 connection just far enough for the guard's deadlines:
 * where each request head starts and ends, how long its body is, and whether the connection was
 * upgraded. It never changes a byte; Deno.serve does the real parsing.
 */

type State =
  /** Reading a request head (the first one from the moment of accept). */
  | "head"
  /** Reading a body of known length. */
  | "body"
  /** Between requests, or waiting for the answer to the last one. */
  | "await"
  /** Asked to upgrade; the server's status line tells whether it did. */
  | "upgrading"
  /** Upgraded (WebSocket): bytes are no longer HTTP. */
  | "upgraded"
  /** Framing the tracker does not follow (chunked bodies, heads it cannot read). */
  | "opaque";

export type Expiry = "header_timeout" | "idle_timeout" | "head_too_large";

export interface Deadlines {
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  upgradedIdleMs: number;
}

/** How long an opaque connection may live at most: its framing cannot be checked for trickling. */
const OPAQUE_MAX_MS = 5 * 60_000;
/** A connection idle between requests for less than this is not evicted (it may be mid-answer). */
const EVICT_QUIET_MS = 1000;

const CRLFCRLF = [13, 10, 13, 10];
const EMPTY = new Uint8Array(0);
const latin1 = new TextDecoder("latin1");

export class HeadTracker {
  #state: State = "head";
  #head: Uint8Array;
  #headLen = 0;
  #headStart: number;
  #bodyLeft = 0;
  #opaqueSince = 0;
  /** No request head has arrived whole yet. */
  #first = true;
  /** A request arrived whole and the server has not sent a byte since. */
  #pending = false;

  constructor(readonly maxHeadBytes: number, now: number) {
    // Grown on the first bytes: a flood of sockets that send nothing allocates nothing here.
    this.#head = EMPTY;
    this.#headStart = now;
  }

  get state(): State {
    return this.#state;
  }

  /** No request head has arrived whole yet. */
  get awaitingFirst(): boolean {
    return this.#first;
  }

  /** Takes bytes from the client; returns why the connection must end, or null. */
  feed(chunk: Uint8Array, now: number): Expiry | null {
    let i = 0;
    while (i < chunk.length) {
      switch (this.#state) {
        case "upgrading":
        case "upgraded":
        case "opaque":
          return null;
        case "await":
          this.#state = "head";
          this.#headStart = now;
          this.#headLen = 0;
          continue;
        case "body": {
          const take = Math.min(this.#bodyLeft, chunk.length - i);
          this.#bodyLeft -= take;
          i += take;
          if (!this.#bodyLeft) this.#state = "await";
          continue;
        }
        case "head": {
          const used = this.#takeHead(chunk.subarray(i), now);
          if (used < 0) return "head_too_large";
          i += used;
        }
      }
    }
    return null;
  }

  /** Takes the server's bytes: the first ones after an upgrade request say whether it happened. */
  sawServer(chunk: Uint8Array, now: number): void {
    this.#pending = false;
    if (this.#state !== "upgrading") return;
    const line = latin1.decode(chunk.subarray(0, 12));
    this.#state = /^HTTP\/1\.1 101/.test(line) ? "upgraded" : "opaque";
    this.#opaqueSince = now;
  }

  /** Why the connection is past a deadline now, or null. */
  expired(now: number, lastByteAt: number, d: Deadlines): Expiry | null {
    const quiet = now - lastByteAt;
    switch (this.#state) {
      case "head":
        return now - this.#headStart > d.headerTimeoutMs ? "header_timeout" : null;
      case "upgraded":
        return quiet > d.upgradedIdleMs ? "idle_timeout" : null;
      case "opaque":
        return quiet > d.idleTimeoutMs || now - this.#opaqueSince > OPAQUE_MAX_MS
          ? "idle_timeout"
          : null;
      default:
        return quiet > d.idleTimeoutMs ? "idle_timeout" : null;
    }
  }

  /**
   * Lower goes first when connections must be shed: a first head still arriving (oldest first),
   * then a keep-alive connection idle between requests. Infinity: never (upgraded, or a request
   * under way).
   */
  evictionRank(lastByteAt: number, now: number): number {
    if (this.#state === "head" && this.#first) return this.#headStart;
    if (this.#state === "await" && !this.#pending && now - lastByteAt >= EVICT_QUIET_MS) {
      return 1e15 + lastByteAt;
    }
    return Infinity;
  }

  /** Appends head bytes up to the blank line; returns bytes used, or -1 when the head is too big. */
  #takeHead(bytes: Uint8Array, now: number): number {
    const room = this.maxHeadBytes - this.#headLen;
    const take = bytes.subarray(0, Math.min(bytes.length, room));
    const from = Math.max(0, this.#headLen - 3);
    const before = this.#headLen;
    this.#append(take);
    const end = findSeq(this.#head.subarray(0, this.#headLen), CRLFCRLF, from);
    if (end < 0) return take.length < bytes.length ? -1 : bytes.length;
    const headEnd = end + 4;
    this.#onHead(latin1.decode(this.#head.subarray(0, headEnd)), now);
    this.#headLen = 0;
    return headEnd - before;
  }

  #append(bytes: Uint8Array): void {
    if (this.#headLen + bytes.length > this.#head.length) {
      const next = new Uint8Array(
        Math.min(
          this.maxHeadBytes,
          Math.max(this.#head.length * 2, this.#headLen + bytes.length, 1024),
        ),
      );
      next.set(this.#head.subarray(0, this.#headLen));
      this.#head = next;
    }
    this.#head.set(bytes, this.#headLen);
    this.#headLen += bytes.length;
  }

  #onHead(text: string, now: number): void {
    this.#first = false;
    this.#pending = true;
    const lines = text.split("\r\n");
    if (!/^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(lines[0])) return this.#opaque(now);
    let length: string | null = null;
    let upgrade = false;
    let connUpgrade = false;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "transfer-encoding") return this.#opaque(now);
      if (name === "content-length") {
        if (length !== null && length !== value) return this.#opaque(now);
        length = value;
      }
      if (name === "upgrade") upgrade = true;
      if (name === "connection" && /(^|,)\s*upgrade\s*(,|$)/i.test(value)) connUpgrade = true;
    }
    if (upgrade && connUpgrade) {
      this.#state = "upgrading";
      return;
    }
    if (length !== null && !/^\d{1,15}$/.test(length)) return this.#opaque(now);
    this.#bodyLeft = length ? Number(length) : 0;
    this.#state = this.#bodyLeft ? "body" : "await";
  }

  #opaque(now: number): void {
    this.#state = "opaque";
    this.#opaqueSince = now;
  }
}

/** Index of `seq` in `hay` at or after `from`, or -1. */
function findSeq(hay: Uint8Array, seq: number[], from: number): number {
  outer: for (let i = from; i <= hay.length - seq.length; i++) {
    for (let j = 0; j < seq.length; j++) if (hay[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}
