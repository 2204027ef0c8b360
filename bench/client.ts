/**
 * The load generator's client: a real WebSocket speaking the HappyChat protocol with a real
 * session cookie. It keeps only what the benchmark checks: per conversation the seqs it has
 * seen (to count losses and doubles) and send→receive latency from the timestamp in the text.
 */
import type { ServerFrame } from "../lib/wire/protocol.ts";
import { Latencies, nowMs } from "./stats.ts";

/** What all clients of one scenario add to. */
export class Tally {
  latency = new Latencies();
  ackLatency = new Latencies();
  received = 0;
  doubled = 0;
  errors = new Map<string, number>();
  /** Only messages sent at or after this time count towards latency (skip warm-up). */
  measureFrom = 0;
  error(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}

let cidCounter = 0;

export class BenchClient {
  ws!: WebSocket;
  /** Seqs seen per conversation (for loss/double checks). */
  seen = new Map<string, Set<number>>();
  /** Highest seq seen per conversation: what a real client resumes from. */
  last = new Map<string, number>();
  convs: string[] = [];
  /** Acked sends per conversation. */
  acked = new Map<string, number>();
  closed = false;
  /** When the last hello was answered with "resumed". */
  readyAt = 0;
  #ready: (() => void) | null = null;
  #pendingAcks = new Map<string, number>();

  /** Marks this client's own messages, whose echo back to it is not counted as a latency sample. */
  readonly tag: string;

  constructor(
    readonly url: string,
    readonly headers: Record<string, string>,
    readonly tally: Tally,
    index = 0,
  ) {
    this.tag = `u${index}`;
  }

  /** Opens the socket and completes hello (with resume from what it has seen); resolves on "resumed". */
  connect(timeoutMs = 30_000): Promise<void> {
    this.closed = false;
    // @ts-ignore: Deno's WebSocket takes headers
    const ws = new WebSocket(this.url, { headers: this.headers });
    this.ws = ws;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("connect timed out")), timeoutMs);
      this.#ready = () => {
        clearTimeout(timer);
        resolve();
      };
      ws.onopen = () =>
        ws.send(JSON.stringify({ type: "hello", v: 1, resume: Object.fromEntries(this.last) }));
      ws.onerror = (e) => {
        clearTimeout(timer);
        reject(new Error(`WebSocket failed: ${(e as ErrorEvent).message}`));
      };
      ws.onclose = () => {
        this.closed = true;
        clearTimeout(timer);
        reject(new Error("closed before ready"));
      };
      ws.onmessage = (e) => this.#onFrame(JSON.parse(e.data as string) as ServerFrame);
    });
  }

  #onFrame(f: ServerFrame): void {
    switch (f.type) {
      case "msg": {
        const m = f.msg;
        let set = this.seen.get(m.conv);
        if (!set) this.seen.set(m.conv, set = new Set());
        if (set.has(m.seq)) this.tally.doubled++;
        else set.add(m.seq);
        if (m.seq > (this.last.get(m.conv) ?? 0)) this.last.set(m.conv, m.seq);
        this.tally.received++;
        const sp = m.text.indexOf(" ");
        if (sp > 0 && m.text.slice(0, sp) !== this.tag) {
          const sentAt = Number(m.text.slice(sp + 1));
          if (sentAt >= this.tally.measureFrom) this.tally.latency.add(nowMs() - sentAt);
        }
        break;
      }
      case "ack": {
        const t = this.#pendingAcks.get(f.cid);
        if (t !== undefined) {
          this.#pendingAcks.delete(f.cid);
          this.acked.set(f.conv, (this.acked.get(f.conv) ?? 0) + 1);
          if (t >= this.tally.measureFrom) this.tally.ackLatency.add(nowMs() - t);
        }
        break;
      }
      case "welcome":
        this.convs = f.convs.map((c) => c.id);
        for (const c of f.convs) if (!this.last.has(c.id)) this.last.set(c.id, c.lastSeq);
        break;
      case "resumed":
        this.readyAt = nowMs();
        this.#ready?.();
        this.#ready = null;
        this.ws.onclose = () => (this.closed = true);
        break;
      case "error":
        this.tally.error(f.code);
        if (f.cid) this.#pendingAcks.delete(f.cid);
        break;
    }
  }

  /** Sends a text message stamped with the send time. Returns the client message id. */
  send(conv: string): string {
    const cid = `c${(cidCounter++).toString(36)}`;
    const t = nowMs();
    this.#pendingAcks.set(cid, t);
    this.ws.send(JSON.stringify({ type: "send", conv, cid, text: `${this.tag} ${t.toFixed(3)}` }));
    return cid;
  }

  /** Acks still outstanding (sent, neither acked nor refused). */
  get unacked(): number {
    return this.#pendingAcks.size;
  }

  close(): Promise<void> {
    if (this.closed || this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 5000);
      this.ws.onclose = () => {
        this.closed = true;
        clearTimeout(timer);
        resolve();
      };
      this.ws.close();
    });
  }
}

/**
 * Connects clients with bounded concurrency. A failed attempt is retried after a short backoff,
 * as the real client does; returns how many attempts failed and how many clients never connected.
 */
export async function connectAll(
  clients: BenchClient[],
  concurrency = 200,
  retries = 3,
): Promise<{ failedAttempts: number; failed: number; firstError?: string }> {
  let next = 0;
  let failed = 0;
  let failedAttempts = 0;
  let firstError: string | undefined;
  await Promise.all(Array.from({ length: Math.min(concurrency, clients.length) }, async () => {
    while (next < clients.length) {
      const c = clients[next++];
      for (let attempt = 0;; attempt++) {
        try {
          await c.connect();
          break;
        } catch (err) {
          failedAttempts++;
          firstError ??= (err as Error).message;
          try {
            c.ws.close();
          } catch { /* never opened */ }
          if (attempt >= retries) {
            failed++;
            break;
          }
          await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
        }
      }
    }
  }));
  return { failedAttempts, failed, firstError };
}
