/** A test WebSocket client speaking the real protocol with a real session cookie. */
import type { ClientFrame, ServerFrame } from "../lib/wire/protocol.ts";
import type { Client, TestServer } from "./helpers.ts";

export class WsClient {
  frames: ServerFrame[] = [];
  closed: { code: number; reason: string } | null = null;
  #waiters: { pred: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }[] = [];
  #closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];
  #seen = 0;

  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data) as ServerFrame;
      this.frames.push(f);
      this.#waiters = this.#waiters.filter((w) => (w.pred(f) ? (w.resolve(f), false) : true));
    };
    ws.onclose = (e) => {
      this.closed = { code: e.code, reason: e.reason };
      for (const w of this.#closeWaiters) w(this.closed);
    };
  }

  /** Opens a socket as `client`'s session (its cookie) from `origin` (the app's own by default). */
  static open(
    server: TestServer,
    client: Client,
    opts: { origin?: string } = {},
  ): Promise<WsClient> {
    const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    return WsClient.openWith(server, { cookie, origin: opts.origin ?? server.origin });
  }

  /** Opens a socket with exactly these headers (a bot's `Authorization`, say). */
  static async openWith(server: TestServer, headers: Record<string, string>): Promise<WsClient> {
    const url = server.url("/ws").replace(/^http/, "ws");
    // @ts-ignore: Deno's WebSocket accepts headers
    const ws = new WebSocket(url, { headers });
    const c = new WsClient(ws);
    server.sockets.add(c);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener(
        "error",
        (e) => reject(new Error(`WebSocket failed: ${(e as ErrorEvent).message}`)),
        { once: true },
      );
    });
    return c;
  }

  /** Opens and says hello; resolves once the server has sent "resumed". */
  static async connect(
    server: TestServer,
    client: Client,
    resume?: Record<string, number>,
  ): Promise<WsClient> {
    const c = await WsClient.open(server, client);
    c.send({ type: "hello", v: 1, resume });
    await c.next("resumed");
    return c;
  }

  /** Opens as a bot (its token, no cookie, no Origin), says hello, waits for "resumed". */
  static async bot(server: TestServer, token: string): Promise<WsClient> {
    const c = await WsClient.openWith(server, { authorization: `Bearer ${token}` });
    c.send({ type: "hello", v: 1 });
    await c.next("resumed");
    return c;
  }

  send(frame: ClientFrame | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame));
  }

  raw(data: string): void {
    this.ws.send(data);
  }

  /** The next frame (after the ones already taken by next()) matching type and predicate. */
  next<T extends ServerFrame["type"]>(
    type: T,
    pred: (f: Extract<ServerFrame, { type: T }>) => boolean = () => true,
    timeoutMs = 3000,
  ): Promise<Extract<ServerFrame, { type: T }>> {
    const match = (f: ServerFrame) =>
      f.type === type && pred(f as Extract<ServerFrame, { type: T }>);
    const found = this.frames.find(match);
    if (found) {
      this.frames.splice(this.frames.indexOf(found), 1);
      return Promise.resolve(found as Extract<ServerFrame, { type: T }>);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `Timed out waiting for "${type}" frame; have: ${
                JSON.stringify(this.frames).slice(0, 500)
              }`,
            ),
          ),
        timeoutMs,
      );
      this.#waiters.push({
        pred: match,
        resolve: (f) => {
          clearTimeout(timer);
          this.frames.splice(this.frames.indexOf(f), 1);
          resolve(f as Extract<ServerFrame, { type: T }>);
        },
      });
    });
  }

  /** Messages received so far for a conversation, in arrival order (not consumed). */
  msgs(conv: string) {
    return this.frames.flatMap((f) => (f.type === "msg" && f.msg.conv === conv ? [f.msg] : []));
  }

  /** Waits until `n` message frames for conv have arrived (without consuming them). */
  async waitMsgs(conv: string, n: number, timeoutMs = 3000) {
    const until = Date.now() + timeoutMs;
    while (this.msgs(conv).length < n) {
      if (Date.now() > until) {
        throw new Error(`Only ${this.msgs(conv).length} of ${n} messages arrived`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.msgs(conv);
  }

  waitClose(timeoutMs = 3000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("Socket did not close")), timeoutMs);
      this.#closeWaiters.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.ws.close();
    await this.waitClose().catch(() => {});
  }
}
