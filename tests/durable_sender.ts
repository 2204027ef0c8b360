/**
 * A client that sends as fast as acks come (a window of unacked messages), survives its server
 * dying: it reconnects to wherever the server is now, and resends every unacked message with the
 * same client id (docs/protocol.md, "What a client should do"). It records what it sent and what
 * was acked, for a durability test to compare with what the server stored.
 */
import type { Client, TestServer } from "./helpers.ts";
import type { ServerFrame } from "../lib/wire/protocol.ts";
import { WsClient } from "./ws_client.ts";

export interface Sent {
  cid: string;
  /** The highest seq acked to this sender when this message was first sent: it must come after. */
  after: number;
  ack?: { seq: number; id: string };
}

export class DurableSender {
  readonly sent: Sent[] = [];
  /** Codes of errors other than the retryable ones ("rate_limited", "busy"). */
  readonly failures: string[] = [];
  acks = 0;
  /**
   * Messages stored by a process that died before their ack reached the client: the resend on
   * the next connection got the first ack back. These are the ones that test "stored once".
   */
  recovered = 0;
  #stopNew = false;
  #done = false;
  #maxAckedSeq = 0;
  #loop: Promise<void> | null = null;
  #socket: WsClient | null = null;

  constructor(
    readonly name: string,
    readonly client: Client,
    readonly conv: string,
    readonly server: () => TestServer,
    readonly window = 1,
  ) {}

  start(): void {
    this.#loop = this.#run();
  }

  /** Stops sending new messages and waits until every sent one is acked. */
  async drain(timeoutMs: number): Promise<void> {
    this.#stopNew = true;
    const end = Date.now() + timeoutMs;
    while (this.sent.some((s) => !s.ack)) {
      if (Date.now() > end) {
        throw new Error(
          `${this.name}: ${this.sent.filter((s) => !s.ack).length} sends never acked`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    this.#done = true;
    this.#socket?.ws.close();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#done) {
      let w: WsClient;
      try {
        w = await WsClient.connect(this.server(), this.client);
      } catch {
        // The server is down or restarting: try again shortly, like a client's backoff.
        await new Promise((r) => setTimeout(r, 30));
        continue;
      }
      this.#socket = w;
      await this.#session(w);
    }
  }

  /** One connection's life: resend what is unacked, then keep the window full until it drops. */
  async #session(w: WsClient): Promise<void> {
    const inFlight = new Set<string>();
    const since = Date.now();
    const retryAt = new Map<string, number>();
    let wake = () => {};
    w.ws.addEventListener("message", (e) => {
      const f = JSON.parse(e.data) as ServerFrame;
      if (f.type === "ack" && inFlight.delete(f.cid)) {
        if (f.at < since) this.recovered++;
        this.#acked(f.cid, f.seq, f.id);
      }
      if (f.type === "error" && f.cid && inFlight.delete(f.cid)) {
        if (f.code !== "rate_limited" && f.code !== "busy") {
          this.failures.push(`${f.cid}: ${f.code}`);
        }
        retryAt.set(f.cid, Date.now() + (f.code === "rate_limited" ? 100 : 20));
      }
      wake();
    });
    w.ws.addEventListener("close", () => wake());
    while (!w.closed && !this.#done) {
      const now = Date.now();
      const pending = this.sent.filter((s) =>
        !s.ack && !inFlight.has(s.cid) &&
        (retryAt.get(s.cid) ?? 0) <= now
      );
      for (const s of pending) {
        if (inFlight.size >= this.window) break;
        this.#send(w, s.cid, inFlight);
      }
      while (
        inFlight.size < this.window && !this.#stopNew &&
        this.sent.every((s) => s.ack || inFlight.has(s.cid))
      ) {
        const cid = `${this.name}-${this.sent.length}`;
        this.sent.push({ cid, after: this.#maxAckedSeq });
        this.#send(w, cid, inFlight);
      }
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 25);
      });
    }
  }

  #send(w: WsClient, cid: string, inFlight: Set<string>): void {
    inFlight.add(cid);
    try {
      w.send({ type: "send", conv: this.conv, cid, text: `message ${cid}` });
    } catch {
      inFlight.delete(cid); // the socket is closing; the next connection resends it
    }
  }

  #acked(cid: string, seq: number, id: string): void {
    const s = this.sent.find((x) => x.cid === cid)!;
    if (s.ack && (s.ack.seq !== seq || s.ack.id !== id)) {
      this.failures.push(`${cid} acked twice differently: seq ${s.ack.seq} then ${seq}`);
    }
    s.ack = { seq, id };
    this.acks++;
    this.#maxAckedSeq = Math.max(this.#maxAckedSeq, seq);
  }
}
