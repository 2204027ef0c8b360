/**
 * One fuzzing socket: sends frames, predicts each answer (oracle.ts) and matches every frame that
 * arrives against those predictions. Anything the server sends that no frame asked for, an
 * answer of the wrong kind, a message out of order, or a close nobody predicted is a failure.
 */
import { LIMITS_WS } from "../../lib/realtime/conn.ts";
import type { ServerFrame } from "../../lib/wire/protocol.ts";
import {
  type Expect,
  type ExpectBody,
  expectKeys,
  onWire,
  predict,
  type Prediction,
} from "./oracle.ts";
import type { RenderCtx } from "./render.ts";
import type { UserModel, World } from "./world.ts";
import { HelloCheck } from "./hello_check.ts";
import { matchAnswer } from "./answers.ts";
import { AnonErrors } from "./anon.ts";
import { QueueModel } from "./queue_model.ts";

export class FuzzSocket {
  ws: WebSocket | null = null;
  helloSent = false;
  hello = new HelloCheck(this);
  /** The close the last frame made certain, if any. */
  expectClose: number | null = null;
  closed: { code: number; reason: string } | null = null;
  /** Frames whose answer is still to come (a member's `read` and `typing` get none). */
  open: Expect[] = [];
  anon = new AnonErrors(this);
  queue = new QueueModel();
  readonly #keys = new Map<string, number>();
  /** Answers given on arrival, in the order of their frames (`n`). */
  #badQ: { n: number; message?: string }[] = [];
  #pongQ: { n: number; rid?: string }[] = [];
  #helloQ = 0;
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
    this.traced("+", "connect");
    Object.assign(this, { helloSent: false, expectClose: null, closed: null, open: [] });
    this.hello = new HelloCheck(this);
    [this.anon, this.queue] = [new AnonErrors(this), new QueueModel()];
    this.#keys.clear();
    [this.#badQ, this.#pongQ, this.#bad, this.#clientClosing] = [[], [], 0, false];
    ws.onmessage = (e) => {
      if (ws !== this.ws) return;
      this.traced("←", String(e.data));
      try {
        this.#receive(JSON.parse(e.data) as ServerFrame);
      } catch (err) {
        this.fail(`could not check ${String(e.data).slice(0, 200)}: ${(err as Error).stack}`);
      }
    };
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      this.traced("×", `closed ${e.code} ${e.reason}`);
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
      isMember: (c) => u.own.includes(c),
      joined: (c) => u.joined.get(c) ?? 0,
      last: (c) => this.world.last.get(c) ?? 0,
    });
    if (pred.p === "answer" && expectKeys(pred.expect).some((k) => this.#keys.has(k))) {
      return "deferred";
    }
    // A member's read or typing gets no answer, or `busy` on a full queue: nothing would tell
    // that refusal from one of a command sent without a rid.
    const quiet = pred.p === "answer" && pred.expect.k === "quiet" && pred.expect.member;
    if (quiet && this.queue.mayBeFull()) return "deferred";
    this.#note(text);
    this.queue.nextFrame();
    this.ws!.send(text);
    this.#expect(pred);
    return pred;
  }

  sendBinary(data: Uint8Array): Prediction {
    this.#note(`<binary ${data.length} bytes>`);
    this.queue.nextFrame();
    this.ws!.send(data);
    const pred: Prediction = { p: "bad", message: "Binary frames are not accepted" };
    this.#expect(pred);
    return pred;
  }

  #note(text: string): void {
    this.traced("→", text);
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
        this.#badQ.push({ n: this.queue.frames, message: pred.message });
        if (++this.#bad >= LIMITS_WS.badFramesBeforeClose) this.expectClose = 4502;
        return;
      case "close":
        this.expectClose = pred.code;
        return;
      case "hello":
        this.#helloQ = this.queue.nextCommand();
        this.helloSent = true;
        this.hello.sent(pred.resume);
        return;
      case "pong":
        this.#pongQ.push({ n: this.queue.frames, rid: pred.rid });
        return;
      case "answer":
        return this.#expectAnswer(pred.expect);
    }
  }

  #expectAnswer(body: ExpectBody): void {
    const mayBusy = this.queue.mayBeFull();
    const e: Expect = { ...body, n: this.queue.frames, q: this.queue.nextCommand(), mayBusy };
    if (mayBusy) this.world.stats.mayBusy++;
    if (e.k === "quiet" && e.member) return;
    this.open.push(e);
    for (const k of expectKeys(e)) this.#keys.set(k, (this.#keys.get(k) ?? 0) + 1);
    if (e.k === "send" && e.member) {
      this.world.sends.add(`${e.conv}\u0000${this.user.id}\u0000${e.cid}`);
      this.#cids.push(e.cid);
    }
  }

  /**
   * Takes an open expectation off the list once its answer is complete: one given when the
   * command ran, a refusal on arrival, or a `busy` that may be either.
   */
  done(e: Expect, how: "ran" | "refused" | "either"): void {
    if (how === "ran") this.queue.ran(e.q);
    if (how === "refused") this.queue.refused(e.q);
    this.open.splice(this.open.indexOf(e), 1);
    for (const k of expectKeys(e)) {
      const n = this.#keys.get(k)! - 1;
      if (n) this.#keys.set(k, n);
      else this.#keys.delete(k);
    }
  }

  /** Answers still owed: every open frame gets one; the rid-less errors held count for theirs. */
  owed(): number {
    const must = this.open.length - this.anon.pending.length;
    return must + this.#badQ.length + this.#pongQ.length + (this.hello.pending ? 1 : 0);
  }

  /** Adds a line to the run's transcript (FUZZ_TRACE). */
  traced(dir: string, text: string): void {
    this.world.trace?.push(
      `${performance.now().toFixed(1)} ${this.name} ${dir} ${text.slice(0, 400)}`,
    );
  }

  /** What is still owed, for a timeout's report. */
  owedList(): string {
    const open = this.open.map((e) => `  ${e.wire.slice(0, 200)}`);
    const errors = this.anon.pending.map((p) => `  held: ${JSON.stringify(p.f)}`);
    const queues = `${this.#badQ.length} bad_frame, ${this.#pongQ.length} pong`;
    const hello = this.hello.pending ? ", the hello's answer" : "";
    return [`${queues}${hello}, ${this.open.length} frames:`, ...open, ...errors].join("\n");
  }

  #receive(f: ServerFrame): void {
    const a = this.world.stats.answers;
    a[f.type] = (a[f.type] ?? 0) + 1;
    if (f.type === "error") {
      this.world.stats.errors[f.code] = (this.world.stats.errors[f.code] ?? 0) + 1;
      if (f.code === "bad_frame") {
        if (!this.#badQ.length) return this.fail(`bad_frame nobody expected: ${f.message}`);
        const want = this.#badQ.shift()!;
        if (want.message !== undefined && f.message !== want.message) {
          return this.fail(`bad_frame "${f.message}", expected "${want.message}"`);
        }
        if (f.rid !== undefined || f.cid !== undefined) this.fail("bad_frame with a rid or cid");
        return this.#check(this.anon.arrived(want.n), f);
      }
    }
    if (f.type === "pong") {
      if (!this.#pongQ.length) return this.fail("pong nobody asked for");
      const want = this.#pongQ.shift()!;
      if (f.rid !== want.rid) this.fail(`pong rid ${f.rid}, expected ${want.rid}`);
      return this.#check(this.anon.arrived(want.n), f);
    }
    if (f.type === "welcome") this.queue.ran(this.#helloQ);
    if (this.hello.receive(f)) return;
    this.#check(matchAnswer(this, f), f);
  }

  #check(problem: string | null, f: ServerFrame): void {
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
