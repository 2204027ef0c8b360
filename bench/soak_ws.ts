/**
 * The soak's WebSocket client: RFC 6455 over a plain TCP connection, text frames only, no
 * extensions. Unlike the WebSocket API it can also drop the connection abruptly (`abort()`: the
 * TCP connection ends without a close frame, whatever is in flight either way is lost), as a
 * phone losing its network does.
 */
import { concatBytes } from "../lib/bytes.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** How a socket ended: we closed it (clean or abort), the server closed it, or it broke. */
export type CloseHow = "clean" | "abort" | "server" | "dropped";

export class RawSocket {
  /** A text frame from the server (never called once the socket is closing or closed). */
  onText: (text: string) => void = () => {};
  /** Called exactly once, when the socket is done. */
  onClose: (code: number, how: CloseHow) => void = () => {};

  #conn: Deno.TcpConn;
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  #out: Uint8Array[] = [];
  #writing = false;
  /** Closed for the application: no more frames in or out. */
  #closed = false;
  /** We sent a close frame and wait (bounded) for the server's. */
  #closing = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #fragments: Uint8Array[] | null = null;

  private constructor(conn: Deno.TcpConn, rest: Uint8Array) {
    this.#conn = conn;
    this.#buf = new Uint8Array(Math.max(64 * 1024, rest.length * 2));
    this.#buf.set(rest);
    this.#end = rest.length;
  }

  /**
   * Connects and completes the upgrade. Rejects when the server refuses it or does not answer
   * within `timeoutMs`. Frames start to flow (to `onText`) from the next tick.
   */
  static async open(
    hostname: string,
    port: number,
    path: string,
    headers: Record<string, string>,
    timeoutMs = 10_000,
  ): Promise<RawSocket> {
    const conn = await Deno.connect({ hostname, port });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        conn.close();
      } catch { /* already closed */ }
    }, timeoutMs);
    try {
      const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
      const head = [
        `GET ${path} HTTP/1.1`,
        `Host: ${hostname}:${port}`,
        "Upgrade: websocket",
        "Connection: Upgrade",
        `Sec-WebSocket-Key: ${key}`,
        "Sec-WebSocket-Version: 13",
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
        "",
        "",
      ].join("\r\n");
      await writeAll(conn, enc.encode(head));
      // Read up to the end of the response head; what follows is already frames.
      let got: Uint8Array = new Uint8Array(0);
      const chunk = new Uint8Array(16 * 1024);
      for (;;) {
        const n = await conn.read(chunk);
        if (n === null) throw new Error("connection closed during the upgrade");
        got = concatBytes([got, chunk.subarray(0, n)]);
        const endAt = indexOfHeadEnd(got);
        if (endAt < 0) {
          if (got.length > 64 * 1024) throw new Error("upgrade answer too long");
          continue;
        }
        const status = dec.decode(got.subarray(0, Math.min(endAt, 200))).split("\r\n")[0];
        if (!/^HTTP\/1\.1 101 /.test(status)) throw new Error(`upgrade refused: ${status}`);
        clearTimeout(timer);
        const sock = new RawSocket(conn, got.subarray(endAt + 4));
        setTimeout(() => sock.#readLoop(), 0);
        return sock;
      }
    } catch (err) {
      clearTimeout(timer);
      try {
        conn.close();
      } catch { /* already closed */ }
      throw timedOut ? new Error("upgrade timed out") : err;
    }
  }

  get closed(): boolean {
    return this.#closed || this.#closing;
  }

  send(text: string): void {
    if (this.#closed || this.#closing) return;
    this.#queue(frame(0x1, enc.encode(text)));
  }

  /**
   * A clean close: a close frame, then the connection ends when the server answers (at most 2 s).
   * Frames that arrive meanwhile are dropped, as a browser drops them after `close()`.
   */
  close(code = 1000): void {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    const payload = new Uint8Array([code >> 8, code & 0xff]);
    this.#queue(frame(0x8, payload));
    this.#closeTimer = setTimeout(() => this.#finish(code, "clean"), 2000);
  }

  /** Drops the TCP connection at once: no close frame, anything queued either way is lost. */
  abort(): void {
    this.#finish(1006, "abort");
  }

  #finish(code: number, how: CloseHow): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#closeTimer);
    this.#out = [];
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    this.onClose(code, how);
  }

  #queue(bytes: Uint8Array): void {
    this.#out.push(bytes);
    if (!this.#writing) this.#pump();
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#out.length && !this.#closed) {
        const data = concatBytes(this.#out);
        this.#out = [];
        await writeAll(this.#conn, data);
      }
    } catch {
      this.#finish(1006, "dropped");
    } finally {
      this.#writing = false;
    }
  }

  async #readLoop(): Promise<void> {
    try {
      this.#parse();
      while (!this.#closed) {
        if (this.#buf.length - this.#end < 16 * 1024) this.#makeRoom();
        const n = await this.#conn.read(this.#buf.subarray(this.#end));
        if (n === null) break;
        this.#end += n;
        this.#parse();
      }
    } catch { /* reset, or closed by us */ }
    this.#finish(1006, "dropped");
  }

  #makeRoom(): void {
    const used = this.#end - this.#start;
    if (this.#start > 0 && used + 16 * 1024 <= this.#buf.length) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      const next = new Uint8Array(Math.max(this.#buf.length * 2, used + 64 * 1024));
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
    }
    this.#start = 0;
    this.#end = used;
  }

  #parse(): void {
    while (!this.#closed) {
      const avail = this.#end - this.#start;
      if (avail === 0) this.#start = this.#end = 0;
      if (avail < 2) return;
      const b = this.#buf, s = this.#start;
      const fin = (b[s] & 0x80) !== 0, op = b[s] & 0x0f;
      const masked = (b[s + 1] & 0x80) !== 0;
      let len = b[s + 1] & 0x7f, at = s + 2;
      if (len === 126) {
        if (avail < 4) return;
        len = (b[s + 2] << 8) | b[s + 3];
        at = s + 4;
      } else if (len === 127) {
        if (avail < 10) return;
        len = new DataView(b.buffer, b.byteOffset + s + 2, 8).getUint32(4) +
          new DataView(b.buffer, b.byteOffset + s + 2, 8).getUint32(0) * 2 ** 32;
        at = s + 10;
      }
      const maskAt = at;
      if (masked) at += 4;
      if (this.#end - at < len) return;
      let payload = b.slice(at, at + len);
      if (masked) {
        const m = b.subarray(maskAt, maskAt + 4);
        payload = payload.map((x, i) => x ^ m[i & 3]);
      }
      this.#start = at + len;
      this.#frame(fin, op, payload);
    }
  }

  #frame(fin: boolean, op: number, payload: Uint8Array): void {
    if (op === 0x8) {
      const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
      if (this.#closing) return this.#finish(code, "clean");
      // The server closes: answer with a close frame (best effort), then end.
      const conn = this.#conn;
      this.#closed = true;
      clearTimeout(this.#closeTimer);
      writeAll(conn, frame(0x8, payload.subarray(0, 2))).catch(() => {}).finally(() => {
        try {
          conn.close();
        } catch { /* already closed */ }
      });
      this.onClose(code, "server");
      return;
    }
    if (op === 0x9) {
      if (!this.#closing) this.#queue(frame(0xa, payload));
      return;
    }
    if (op === 0xa) return;
    if (op === 0x1 || op === 0x2) {
      if (!fin) {
        this.#fragments = [payload];
        return;
      }
    } else if (op === 0x0) {
      if (!this.#fragments) return;
      this.#fragments.push(payload);
      if (!fin) return;
      payload = concatBytes(this.#fragments);
      this.#fragments = null;
    } else return;
    if (this.#closing) return;
    this.onText(dec.decode(payload));
  }
}

/** A client frame: FIN set, masked with a random key. */
function frame(op: number, payload: Uint8Array): Uint8Array {
  const len = payload.length;
  const headLen = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = new Uint8Array(headLen + 4 + len);
  out[0] = 0x80 | op;
  if (len < 126) out[1] = 0x80 | len;
  else if (len < 65536) {
    out[1] = 0x80 | 126;
    out[2] = len >> 8;
    out[3] = len & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setUint32(6, len);
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, headLen);
  const at = headLen + 4;
  for (let i = 0; i < len; i++) out[at + i] = payload[i] ^ mask[i & 3];
  return out;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

function indexOfHeadEnd(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}
