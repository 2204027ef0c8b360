/**
 * The symbolic values of fuzz frames (tests/fuzz/frames.ts): what depends on the state of the run
 * is named here and resolved when the frame goes out (tests/fuzz/render.ts).
 */

/** JSON text put into a frame as is: numbers JSON.stringify cannot write, deep nesting. */
export class Raw {
  constructor(readonly text: string) {}
}
/** An object written with these entries in this order, duplicate keys included. */
export class Entries {
  constructor(readonly entries: [string, unknown][]) {}
}
/** A conversation id: one of the user's, another user's, one that does not exist, or a literal. */
export class ConvRef {
  constructor(readonly which: "own" | "foreign" | "ghost", readonly i: number) {}
}
/** A seq around a boundary of the frame's conversation (its join seq, its newest seq…) plus d. */
export class SeqRef {
  constructor(readonly base: "zero" | "joined" | "last" | "max", readonly d: number) {}
}
/** A fresh id (unique on the socket), or one this socket used before (a retry). */
export class IdRef {
  constructor(readonly kind: "rid" | "cid", readonly reuse: boolean) {}
}
/** `resume` of a hello: conversation → seq, each entry resolved like the fields above. */
export class ResumeRef {
  constructor(readonly entries: [ConvRef | string, SeqRef | unknown][]) {}
}

export type Action =
  | { a: "frame"; body: unknown }
  | { a: "text"; data: string }
  | { a: "binary"; data: Uint8Array }
  /** Many commands at once, in a batch of their own: more than the socket's queue holds. */
  | { a: "burst"; frames: unknown[] }
  /** Close (or drop during the handshake) and open again: `pre` frames, then `hello`. */
  | { a: "reconnect"; pre: Action[]; hello: unknown; dropInHello: boolean };
