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
} from "../../lib/protocol.ts";

/** A frame's answer still to come, and what it must look like. */
export type Expect =
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
  | { k: "quiet"; wire: string; conv: string; member: boolean; early?: boolean };

export type Prediction =
  | { p: "bad"; message?: string }
  | { p: "close"; code: number }
  | { p: "hello"; resume: Record<string, number> }
  | { p: "pong"; rid?: string }
  | { p: "answer"; expect: Expect };

/** The socket state the prediction depends on. */
export interface PredictCtx {
  helloSent: boolean;
  /** Whether the welcome came: `typing` is checked against the socket's list, loaded by then. */
  welcomed: boolean;
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
      return { p: "answer", expect: { k: "quiet", ...base } };
    case "typing":
      return { p: "answer", expect: { k: "quiet", ...base, early: !ctx.welcomed } };
  }
}

/**
 * The keys of an expectation that must be unique among a socket's open ones, so that each
 * answer has exactly one request it can belong to (answers to different frames may overtake
 * each other). A frame whose key is taken waits for the next batch.
 */
export function expectKeys(e: Expect): string[] {
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

/**
 * Codes a frame on one of the user's own conversations may get: the documented ones that are
 * about load (rate, contention, work in flight), not about the frame or the membership.
 */
export function loadCodes(documented: Set<string>): Set<string> {
  const specific = ["bad_frame", "internal", "not_member", "not_found", "not_friends", "muted"];
  return new Set([...documented].filter((c) => !specific.includes(c)));
}
