/**
 * A bare WebSocket client over TCP that reads only when asked: the test can stop reading and be
 * a slow consumer for real (the WebSocket API always reads).
 */
export interface RawFrame {
  opcode: number;
  data: Uint8Array;
}

export class RawWs {
  #buf = new Uint8Array(0);
  private constructor(readonly conn: Deno.TcpConn) {}

  /** Connects and upgrades `url` (http:) with extra request headers (cookie, origin). */
  static async open(url: string, headers: Record<string, string>): Promise<RawWs> {
    const u = new URL(url);
    const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
    const ws = new RawWs(conn);
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const head = [
      `GET ${u.pathname} HTTP/1.1`,
      `Host: ${u.host}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${key}`,
      "Sec-WebSocket-Version: 13",
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    await ws.#write(new TextEncoder().encode(head.join("\r\n") + "\r\n\r\n"));
    let end = -1;
    while ((end = ws.#headerEnd()) < 0) {
      if (!await ws.#more()) throw new Error("Connection closed during the upgrade");
    }
    const response = new TextDecoder().decode(ws.#buf.subarray(0, end));
    ws.#buf = ws.#buf.subarray(end + 4);
    if (!response.startsWith("HTTP/1.1 101")) {
      conn.close();
      throw new Error(`Upgrade refused: ${response.split("\r\n")[0]}`);
    }
    return ws;
  }

  /** Sends one text frame (masked, as clients must). */
  async sendText(text: string): Promise<void> {
    await this.sendFrame({ opcode: 1, payload: new TextEncoder().encode(text) });
  }

  /**
   * Sends one frame as given, valid or not: any opcode, FIN and RSV bits, masked or not, and a
   * length field that may claim more than the payload (`claim`, for frames that never end).
   */
  async sendFrame(f: {
    opcode: number;
    payload?: Uint8Array;
    fin?: boolean;
    rsv?: number;
    masked?: boolean;
    claim?: number;
  }): Promise<void> {
    const payload = f.payload ?? new Uint8Array(0);
    const n = f.claim ?? payload.length;
    const masked = f.masked ?? true;
    const head = [((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | f.opcode];
    const m = masked ? 0x80 : 0;
    if (n < 126) head.push(m | n);
    else if (n < 65536) head.push(m | 126, n >> 8, n & 255);
    else {
      head.push(m | 127);
      for (let i = 7; i >= 0; i--) head.push(Number((BigInt(n) >> BigInt(8 * i)) & 255n));
    }
    const mask = masked ? crypto.getRandomValues(new Uint8Array(4)) : new Uint8Array(0);
    const frame = new Uint8Array(head.length + mask.length + payload.length);
    frame.set(head);
    frame.set(mask, head.length);
    const at = head.length + mask.length;
    for (let i = 0; i < payload.length; i++) {
      frame[at + i] = masked ? payload[i] ^ mask[i % 4] : payload[i];
    }
    await this.#write(frame);
  }

  /** Writes bytes as they are (the rest of a frame sent with `claim`). */
  async sendBytes(bytes: Uint8Array): Promise<void> {
    await this.#write(bytes);
  }

  /** The next frame from the server, or null when the connection ended. */
  async next(): Promise<RawFrame | null> {
    if (!await this.#need(2)) return null;
    const opcode = this.#buf[0] & 0x0f;
    let len = this.#buf[1] & 0x7f;
    let at = 2;
    if (len === 126) {
      if (!await this.#need(4)) return null;
      len = (this.#buf[2] << 8) | this.#buf[3];
      at = 4;
    } else if (len === 127) {
      if (!await this.#need(10)) return null;
      len = Number(new DataView(this.#buf.buffer, this.#buf.byteOffset + 2, 8).getBigUint64(0));
      at = 10;
    }
    if (!await this.#need(at + len)) return null;
    const data = this.#buf.slice(at, at + len);
    this.#buf = this.#buf.subarray(at + len);
    return { opcode, data };
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed already */ }
  }

  #headerEnd(): number {
    for (let i = 0; i + 3 < this.#buf.length; i++) {
      if (
        this.#buf[i] === 13 && this.#buf[i + 1] === 10 && this.#buf[i + 2] === 13 &&
        this.#buf[i + 3] === 10
      ) return i;
    }
    return -1;
  }

  async #need(n: number): Promise<boolean> {
    while (this.#buf.length < n) if (!await this.#more()) return false;
    return true;
  }

  async #more(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    let n: number | null;
    try {
      n = await this.conn.read(chunk);
    } catch {
      return false;
    }
    if (n === null) return false;
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }

  async #write(bytes: Uint8Array): Promise<void> {
    for (let off = 0; off < bytes.length;) off += await this.conn.write(bytes.subarray(off));
  }
}
