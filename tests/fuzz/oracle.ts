/**
 * What the server must answer to one frame, from docs/protocol.md: the fuzzer's model of the
 * protocol. `predict()` says what kind of answer a frame gets; `FuzzSocket` (socket.ts) matches
 * what arrives against it.
 */
import {
  type ClientFrame,
  CLOSE,
  type FrameError,
  isFrameError,
  MAX_FRAME_BYTES,
  parseClientFrame,
  PROTOCOL_VERSION,
} from "../../lib/wire/protocol.ts";

/** What a frame's answer must look like, from the frame alone (`predict()`). */
export type ExpectBody =
  | { k: "send"; wire: string; conv: string; cid: string; rid?: string; member: boolean }
  | {
    k: "history";
    wire: string;
    conv: string;
    rid?: string;
    member: boolean;
    before?: number;
    limit: number;
    floor: number;
    /** The newest seq already seen when the frame went out: the answer reads at least that far. */
    seen: number;
  }
  | {
    k: "sync";
    wire: string;
    conv: string;
    rid?: string;
    member: boolean;
    after: number;
    floor: number;
    seen: number;
    /** The `history` part of the answer, once it came. */
    got?: number[];
  }
  | { k: "receipts" | "members"; wire: string; conv: string; rid?: string; member: boolean }
  /** `read` and `typing`: no answer to the sender, except an error. */
  | { k: "quiet"; wire: string; conv: string; member: boolean; rid?: undefined };

/** Where a command stands among the socket's frames: what may answer it depends on it. */
export interface Placed {
  /** Its place among the frames sent on the connection (answers on arrival come in this order). */
  n: number;
  /** Its place among the connection's commands (they start in this order). */
  q: number;
  /** Whether the socket's queue may have been full when it arrived: then `busy` may refuse it. */
  mayBusy: boolean;
}

/** A frame's answer still to come. */
export type Expect = ExpectBody & Placed;

/** The commands that run one at a time per socket and share the heavy-command rate. */
export function isHeavy(e: { k: string }): boolean {
  return e.k === "history" || e.k === "sync" || e.k === "receipts" || e.k === "members";
}

export type Prediction =
  | { p: "bad"; message?: string }
  | { p: "close"; code: number }
  | { p: "hello"; resume: Record<string, number> }
  | { p: "pong"; rid?: string }
  | { p: "answer"; expect: ExpectBody };

/** The socket state the prediction depends on. */
export interface PredictCtx {
  helloSent: boolean;
  isMember(conv: string): boolean;
  joined(conv: string): number;
  last(conv: string): number;
}

/**
 * The frame size limit as docs/protocol.md states it: "16,384 UTF-16 code units, the JavaScript
 * length of the received text".
 */
export function tooLarge(wire: string): boolean {
  return wire.length > MAX_FRAME_BYTES;
}

/** The text the server receives: text crosses the wire as UTF-8, so lone surrogates become U+FFFD. */
export function onWire(text: string): string {
  // ignoreBOM keeps a leading U+FEFF, as the server receives it.
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(new TextEncoder().encode(text));
}

export function predict(wire: string | null, ctx: PredictCtx): Prediction {
  if (wire === null) return { p: "bad" };
  if (tooLarge(wire)) return { p: "close", code: CLOSE.frameTooLarge };
  const f: ClientFrame | FrameError = parseClientFrame(wire);
  if (isFrameError(f)) return { p: "bad", message: f.message };
  if (f.type === "hello") {
    if (ctx.helloSent) return { p: "bad" };
    if (f.v !== PROTOCOL_VERSION) return { p: "close", code: CLOSE.badVersion };
    return { p: "hello", resume: f.resume ?? {} };
  }
  if (!ctx.helloSent) return { p: "bad" };
  if (f.type === "ping") return { p: "pong", rid: f.rid };
  if (f.type === "recall" || f.type === "react" || f.type === "search") {
    // The generator makes none (tests/fuzz/frames.ts MODELLED_TYPES).
    throw new Error(`the fuzz world does not model "${f.type}" frames`);
  }
  const member = ctx.isMember(f.conv);
  const base = { wire, conv: f.conv, member };
  const seen = ctx.last(f.conv);
  switch (f.type) {
    case "send":
      return { p: "answer", expect: { k: "send", ...base, cid: f.cid, rid: f.rid } };
    case "history":
      return {
        p: "answer",
        expect: {
          k: "history",
          ...base,
          rid: f.rid,
          before: f.before,
          limit: f.limit ?? 30,
          floor: ctx.joined(f.conv),
          seen,
        },
      };
    case "sync":
      return {
        p: "answer",
        expect: { k: "sync", ...base, rid: f.rid, after: f.after, floor: ctx.joined(f.conv), seen },
      };
    case "receipts":
    case "members":
      return { p: "answer", expect: { k: f.type, ...base, rid: f.rid } };
    case "read":
    case "typing":
      // hello runs alone: `typing` is checked against the list it loaded, whatever came first.
      return { p: "answer", expect: { k: "quiet", ...base } };
  }
}

/**
 * The keys of an expectation that must be unique among a socket's open ones, so that each
 * answer has exactly one request it can belong to (answers to different frames may overtake
 * each other). A frame whose key is taken waits for the next batch.
 */
export function expectKeys(e: ExpectBody): string[] {
  const out: string[] = [];
  if (e.k === "send") out.push(`cid:${e.cid}`);
  else if (e.k === "history" || e.k === "sync") out.push(`hs:${e.conv}`);
  else if (e.k !== "quiet") out.push(`${e.k}:${e.conv}`);
  if ("rid" in e && e.rid !== undefined) out.push(`rid:${e.rid}`);
  return out;
}

/** Error codes docs/protocol.md lists, read from its "Errors" table. */
export async function documentedErrorCodes(): Promise<Set<string>> {
  const doc = await Deno.readTextFile(new URL("../../docs/protocol.md", import.meta.url));
  const section = doc.split(/^## Errors$/m)[1]?.split(/^## /m)[0] ?? "";
  const codes = [...section.matchAll(/^\| `([a-z_]+)`/gm)].map((m) => m[1]);
  if (codes.length < 3) throw new Error('docs/protocol.md has no "Errors" table to read');
  return new Set(codes);
}

/** The codes the model below gives out; each must be in the doc's table (World.create checks). */
export const MODEL_CODES = ["not_member", "rate_limited", "busy"];

/** The conversation a `not_member` error names in its message. */
export function namedConv(message: string): string | undefined {
  return /^Not a member of conversation "([^"]*)"$/.exec(message)?.[1];
}

/**
 * Why an error with `code` cannot answer `e`, or null when it may (docs/protocol.md "Errors"
 * and "Limits"). The fuzz world has no blocks, mutes or ended friendships, so nothing else may.
 */
export function errorMismatch(e: Expect, code: string, message: string): string | null {
  switch (code) {
    case "not_member": {
      if (e.member) return `"not_member" for the user's own conversation`;
      const named = namedConv(message);
      return named === e.conv ? null : `"not_member" naming "${named}" for a frame on "${e.conv}"`;
    }
    case "rate_limited":
      return e.k === "send" || isHeavy(e) ? null : `"rate_limited" for a ${e.k} frame`;
    case "busy":
      // A full queue refuses any command; a heavy one also waits for earlier answers to go out,
      // and a send for its conversation's log.
      return e.mayBusy || e.k === "send" || isHeavy(e)
        ? null
        : `"busy" for a ${e.k} frame, though the socket's queue cannot have been full`;
    default:
      return `"${code}"`;
  }
}

/**
 * Whether an error with `code` can only have been sent on the frame's arrival (then answers on
 * arrival place it among the frames) rather than when the command ran.
 */
export function onlyOnArrival(e: Expect, code: string): boolean {
  return code === "rate_limited" || (code === "busy" && e.k === "quiet");
}
