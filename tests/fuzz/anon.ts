/**
 * Errors that carry neither rid nor cid: those about `read` and `typing`, and about commands sent
 * without a rid. Nothing in them names their frame but the conversation of a `not_member`, and
 * answers overtake one another (refusals on arrival, commands that wait in the queue). So each
 * one waits here with the frames it may answer: it is paired with a frame once no other pairing
 * is possible, and there must always be a way to give every such error a frame of its own.
 * Answers on arrival (pongs, bad_frame, refusals) come in the order of their frames, which
 * narrows down the frames a refusal may answer.
 */
import type { ServerFrame } from "../../lib/wire/protocol.ts";
import { errorMismatch, type Expect, onlyOnArrival } from "./oracle.ts";

type ErrorFrame = Extract<ServerFrame, { type: "error" }>;

/** The part of a fuzz socket (socket.ts) this needs: its open frames. */
export interface OpenFrames {
  open: Expect[];
  done(e: Expect, how: "ran" | "refused" | "either"): void;
}

interface Pending {
  f: ErrorFrame;
  /** The frame last answered on arrival before this error came: a refusal is about a later one. */
  after: number;
  /** The first frame answered on arrival after this error came: a refusal is about an earlier one. */
  before: number;
}

export class AnonErrors {
  pending: Pending[] = [];
  /** The last frame whose answer on arrival came. */
  #cursor = 0;

  constructor(readonly s: OpenFrames) {}

  /** Whether error `p` may answer `e`. */
  #fits(p: Pending, e: Expect): boolean {
    if (e.k === "send" || e.rid !== undefined || (e.k === "sync" && e.got)) return false;
    if (errorMismatch(e, p.f.code, p.f.message) !== null) return false;
    return !onlyOnArrival(e, p.f.code) || (e.n > p.after && e.n < p.before);
  }

  #candidates(p: Pending): Expect[] {
    return this.s.open.filter((e) => this.#fits(p, e));
  }

  /** A rid-less error came. */
  add(f: ErrorFrame): string | null {
    this.pending.push({ f, after: this.#cursor, before: Infinity });
    return this.resolve();
  }

  /** The answer on arrival to frame `n` (a pong, a bad_frame, a refusal naming it) came. */
  arrived(n: number): string | null {
    if (n < this.#cursor) return `frame ${n} answered on arrival after frame ${this.#cursor}`;
    this.#cursor = n;
    for (const p of this.pending) p.before = Math.min(p.before, n);
    return this.resolve();
  }

  /**
   * Pairs each error that can answer only one open frame with it, then checks that the others
   * can still each have one of their own. Call again whenever an open frame got its answer.
   */
  resolve(): string | null {
    for (let again = true; again;) {
      again = false;
      for (const p of [...this.pending]) {
        const c = this.#candidates(p);
        if (c.length !== 1) continue;
        this.#pair(p, c[0], true);
        again = true;
      }
    }
    const m = this.#matching();
    if (m instanceof Map) return null;
    // Either no frame could ever have it, or each one it could answer has had its answer.
    return `an error no open request can have caused (after frame ${m.after} of this connection)`;
  }

  /**
   * Every open frame has its answer (socket.owed() is 0): each error is paired for good. One of
   * several possible pairings is taken, so it tells the queue model nothing.
   */
  settle(): void {
    const m = this.#matching();
    if (!(m instanceof Map)) return;
    for (const [e, p] of m) this.#pair(p, e, false);
  }

  /** `forced`: the only pairing left, so what the error says about its frame is certain. */
  #pair(p: Pending, e: Expect, forced: boolean): void {
    this.pending.splice(this.pending.indexOf(p), 1);
    const code = p.f.code;
    const how = !forced || code === "busy" ? "either" : code === "not_member" ? "ran" : "refused";
    this.s.done(e, how);
  }

  /** A frame for every error (Kuhn's augmenting paths), or an error that cannot have one. */
  #matching(): Map<Expect, Pending> | Pending {
    const owner = new Map<Expect, Pending>();
    const place = (p: Pending, seen: Set<Expect>): boolean => {
      for (const e of this.#candidates(p)) {
        if (seen.has(e)) continue;
        seen.add(e);
        const o = owner.get(e);
        if (!o || place(o, seen)) {
          owner.set(e, p);
          return true;
        }
      }
      return false;
    };
    for (const p of this.pending) if (!place(p, new Set())) return p;
    return owner;
  }
}
