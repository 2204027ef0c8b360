/**
 * What a fuzz socket knows of its connection's command queue (docs/protocol.md "Commands wait
 * their turn"): commands start in arrival order, so an answer given when a command ran proves
 * that every command before it left the queue. What has not provably left it may still wait
 * there; only while that can reach the queue's size may a command be refused `busy` on arrival.
 */
import { LIMITS_WS } from "../../lib/realtime/limits.ts";

export class QueueModel {
  /** Frames sent on the connection. */
  frames = 0;
  /** Commands sent on the connection (every frame that is not a ping and not refused as bad). */
  #commands = 0;
  /** The last command known to have started. */
  #started = 0;
  /** Commands known to have been refused on arrival: they never waited. */
  readonly #refused = new Set<number>();

  nextFrame(): number {
    return ++this.frames;
  }

  nextCommand(): number {
    return ++this.#commands;
  }

  /** How many commands sent so far may still wait in the server's queue. */
  waiting(): number {
    let n = this.#commands - this.#started;
    for (const q of this.#refused) if (q > this.#started) n--;
    return n;
  }

  /** Whether the next command may find the queue full. */
  mayBeFull(): boolean {
    return this.waiting() >= LIMITS_WS.queuePerSocket;
  }

  /** Command `q` ran (its answer says so): it and every command before it left the queue. */
  ran(q: number): void {
    if (q <= this.#started) return;
    this.#started = q;
    for (const r of this.#refused) if (r <= q) this.#refused.delete(r);
  }

  /** Command `q` was refused on arrival. */
  refused(q: number): void {
    if (q > this.#started) this.#refused.add(q);
  }
}
