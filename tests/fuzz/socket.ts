/**
 * One fuzzing socket: sends frames, predicts each answer (oracle.ts) and matches every frame that
 * arrives against those predictions. Anything the server sends that no frame asked for, an
 * answer of the wrong kind, a message out of order, or a close nobody predicted is a failure.
 */
import { LIMITS_WS } from "../../lib/ws_conn.ts";
import type { ServerFrame } from "../../lib/protocol.ts";
import { type Expect, expectKeys, onWire, predict, type Prediction } from "./oracle.ts";
import type { RenderCtx } from "./render.ts";
import type { UserModel, World } from "./world.ts";
import { HelloCheck } from "./hello_check.ts";
import { matchAnswer } from "./answers.ts";

export class FuzzSocket {
  ws: WebSocket | null = null;
  helloSent = false;
  hello = new HelloCheck(this);
  /** The close the last frame made certain, if any. */
  expectClose: number | null = null;
  closed: { code: number; reason: string } | null = null;
  open: Expect[] = [];
  readonly #keys = new Map<string, number>();
  #badQ: (string | undefined)[] = [];
  #pongQ: (string | undefined)[] = [];
  #bad = 0;
  #ids = 0;
  #cids: string[] = [];
  #clientClosing = false;
  #closeWaiters: (() => void)[] = [];
  /** Frames this socket object sent, over all its connections. */
  frames = 0;
  /** The last frames sent, for the failure report. */
  readonly recent: string[] = [];

  constructor(readonly world: World, readonly user: UserModel, readonly name: string) {}

  /** Opens a new connection for the user; the state of the previous one is dropped. */
  async connect(): Promise<void> {
    const server = this.world.server;
    const cookie = [...this.user.client.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const url = server.url("/ws").replace(/^http/, "ws");
    // @ts-ignore: Deno's WebSocket takes headers
    const ws = new WebSocket(url, { headers: { cookie, origin: server.origin } });
    this.ws = ws;
    Object.assign(this, { helloSent: false, expectClose: null, closed: null, open: [] });
    this.hello = new HelloCheck(this);
    this.#keys.clear();
    [this.#badQ, this.#pongQ, this.#bad, this.#clientClosing] = [[], [], 0, false];
    ws.onmessage = (e) => {
      if (ws !== this.ws) return;
      try {
        this.#receive(JSON.parse(e.data) as ServerFrame);
      } catch (err) {
        this.fail(`could not check ${String(e.data).slice(0, 200)}: ${(err as Error).stack}`);
      }
    };
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      this.closed = { code: e.code, reason: e.reason };
      this.world.stats.closes[e.code] = (this.world.stats.closes[e.code] ?? 0) + 1;
      if (!this.#clientClosing && this.expectClose === null) {
        // A close frame the client never read (it kept sending) arrives as 1006 or 0.
        this.fail(
          `the server closed the socket with ${e.code} "${e.reason}", nothing predicted it`,
        );
      } else if (!this.#clientClosing && e.code !== this.expectClose) {
        this.fail(`closed with ${e.code} "${e.reason}", ${this.expectClose} was predicted`);
      }
      for (const w of this.#closeWaiters.splice(0)) w();
    };
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener(
        "error",
        (e) => reject(new Error(`${this.name}: the upgrade failed: ${(e as ErrorEvent).message}`)),
        { once: true },
      );
    });
  }

  fail(message: string): void {
    let text = `${this.name} (user ${this.user.name}): ${message}\nlast frames sent:\n  ${
      this.recent.join("\n  ")
    }`;
    for (const [id, label] of this.world.labels) text = text.replaceAll(id, `${id} (${label})`);
    this.world.fail(text);
  }

  renderCtx(): RenderCtx {
    const u = this.user;
    return {
      own: u.own,
      foreign: u.foreign,
      joined: (c) => u.joined.get(c) ?? 0,
      last: (c) => this.world.last.get(c) ?? 0,
      fresh: (kind) => `${kind[0]}${this.name}x${++this.#ids}`,
      usedCid: () => this.#cids[this.#ids % Math.max(1, this.#cids.length)],
    };
  }

  /** Sends one text frame, unless an open request would make its answer ambiguous. */
  sendText(text: string): Prediction | "deferred" {
    const wire = onWire(text);
    const u = this.user;
    const pred = predict(wire, {
      helloSent: this.helloSent,
      welcomed: this.hello.welcomed,
      isMember: (c) => u.own.includes(c),
      joined: (c) => u.joined.get(c) ?? 0,
      last: (c) => this.world.last.get(c) ?? 0,
    });
    if (pred.p === "answer" && expectKeys(pred.expect).some((k) => this.#keys.has(k))) {
      return "deferred";
    }
    this.#note(text);
    this.ws!.send(text);
    this.#expect(pred);
    return pred;
  }

  sendBinary(data: Uint8Array): Prediction {
    this.#note(`<binary ${data.length} bytes>`);
    this.ws!.send(data);
    const pred: Prediction = { p: "bad", message: "Binary frames are not accepted" };
    this.#expect(pred);
    return pred;
  }

  #note(text: string): void {
    this.world.stats.frames++;
    this.frames++;
    // A long frame's size in UTF-16 units and in UTF-8 bytes: the frame limit counts the first.
    const size = () => `${text.length} units, ${new TextEncoder().encode(text).length} bytes`;
    this.recent.push(text.length > 300 ? `${text.slice(0, 300)}… (${size()})` : text);
    if (this.recent.length > 12) this.recent.shift();
  }

  #expect(pred: Prediction): void {
    const s = this.world.stats.byPrediction;
    const label = pred.p === "answer"
      ? `${pred.expect.k}${pred.expect.member ? "" : "/foreign"}`
      : pred.p;
    s[label] = (s[label] ?? 0) + 1;
    switch (pred.p) {
      case "bad":
        this.#badQ.push(pred.message);
        if (++this.#bad >= LIMITS_WS.badFramesBeforeClose) this.expectClose = 4502;
        return;
      case "close":
        this.expectClose = pred.code;
        return;
      case "hello":
        this.helloSent = true;
        this.hello.sent(pred.resume);
        return;
      case "pong":
        this.#pongQ.push(pred.rid);
        return;
      case "answer": {
        const e = pred.expect;
        this.open.push(e);
        for (const k of expectKeys(e)) this.#keys.set(k, (this.#keys.get(k) ?? 0) + 1);
        if (e.k === "send" && e.member) {
          this.world.sends.add(`${e.conv}\u0000${this.user.id}\u0000${e.cid}`);
          this.#cids.push(e.cid);
        }
      }
    }
  }

  /** Takes an open expectation off the list once its answer is complete. */
  done(e: Expect): void {
    this.open.splice(this.open.indexOf(e), 1);
    for (const k of expectKeys(e)) {
      const n = this.#keys.get(k)! - 1;
      if (n) this.#keys.set(k, n);
      else this.#keys.delete(k);
    }
  }

  /** Answers still owed: every frame but a member's `read` and `typing` gets one. */
  owed(): number {
    const must = this.open.filter((e) => !(e.k === "quiet" && e.member)).length;
    return must + this.#badQ.length + this.#pongQ.length + (this.hello.pending ? 1 : 0);
  }

  #receive(f: ServerFrame): void {
    const a = this.world.stats.answers;
    a[f.type] = (a[f.type] ?? 0) + 1;
    if (f.type === "error") {
      this.world.stats.errors[f.code] = (this.world.stats.errors[f.code] ?? 0) + 1;
      if (f.code === "bad_frame") {
        if (!this.#badQ.length) return this.fail(`bad_frame nobody expected: ${f.message}`);
        const want = this.#badQ.shift();
        if (want !== undefined && f.message !== want) {
          return this.fail(`bad_frame "${f.message}", expected "${want}"`);
        }
        if (f.rid !== undefined || f.cid !== undefined) this.fail("bad_frame with a rid or cid");
        return;
      }
    }
    if (f.type === "pong") {
      if (!this.#pongQ.length) return this.fail("pong nobody asked for");
      const rid = this.#pongQ.shift();
      if (f.rid !== rid) this.fail(`pong rid ${f.rid}, expected ${rid}`);
      return;
    }
    if (this.hello.receive(f)) return;
    const problem = matchAnswer(this, f);
    if (problem) this.fail(`${problem}\nthe frame: ${JSON.stringify(f).slice(0, 600)}`);
  }

  waitClose(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name}: no close within ${ms} ms`)), ms);
      this.#closeWaiters.push(() => (clearTimeout(t), resolve()));
    });
  }

  async close(): Promise<void> {
    if (!this.ws || this.closed) return;
    this.#clientClosing = true;
    this.ws.close();
    await this.waitClose(10_000);
  }
}
