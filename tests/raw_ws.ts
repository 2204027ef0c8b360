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
    await this.sendFrame(0x1, new TextEncoder().encode(text));
  }

  /** Sends one whole frame with any opcode (0x9 ping, 0xA pong, 0x8 close …), masked. */
  async sendFrame(opcode: number, payload: Uint8Array): Promise<void> {
    const n = payload.length;
    const lenBytes = n < 126
      ? [0x80 | n]
      : n < 65536
      ? [0x80 | 126, n >> 8, n & 255]
      : [0x80 | 127, 0, 0, 0, 0, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255];
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const frame = new Uint8Array(1 + lenBytes.length + 4 + n);
    frame.set([0x80 | opcode, ...lenBytes, ...mask]);
    for (let i = 0; i < n; i++) frame[1 + lenBytes.length + 4 + i] = payload[i] ^ mask[i % 4];
    await this.#write(frame);
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
