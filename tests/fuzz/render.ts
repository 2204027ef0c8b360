/** Turns a symbolic fuzz frame (tests/fuzz/frames.ts) into the JSON text that goes on the wire. */
import { ConvRef, Entries, IdRef, Raw, ResumeRef, SeqRef } from "./symbols.ts";

/** What the symbolic values resolve against: the user's world as this socket sees it now. */
export interface RenderCtx {
  own: readonly string[];
  foreign: readonly string[];
  /** The seq this user joined `conv` at (0 when not a member). */
  joined(conv: string): number;
  /** The newest seq of `conv` seen so far in the run. */
  last(conv: string): number;
  /** A fresh id, unique on this socket. */
  fresh(kind: "rid" | "cid"): string;
  /** A client message id this socket sent before (a retry), if any. */
  usedCid(): string | undefined;
}

function convOf(ref: ConvRef, ctx: RenderCtx): string {
  if (ref.which === "ghost") return `ghost${ref.i}`;
  const list = ref.which === "own" ? ctx.own : ctx.foreign;
  return list[ref.i % list.length];
}

function seqOf(ref: SeqRef, conv: unknown, ctx: RenderCtx): number {
  const c = typeof conv === "string" ? conv : "";
  const base = {
    zero: 0,
    joined: ctx.joined(c),
    last: ctx.last(c),
    max: Number.MAX_SAFE_INTEGER,
  }[ref.base];
  return base + ref.d;
}

/** Resolves the frame's own conversation first: its seq fields are relative to it. */
function frameConv(body: unknown, ctx: RenderCtx): unknown {
  const entries = body instanceof Entries
    ? body.entries
    : typeof body === "object" && body !== null && !Array.isArray(body)
    ? Object.entries(body)
    : [];
  const conv = entries.findLast(([k]) => k === "conv")?.[1];
  return conv instanceof ConvRef ? convOf(conv, ctx) : conv;
}

export function render(body: unknown, ctx: RenderCtx): string {
  const conv = frameConv(body, ctx);
  const ser = (v: unknown, c: unknown): string => {
    if (v instanceof Raw) return v.text;
    if (v instanceof ConvRef) return JSON.stringify(convOf(v, ctx));
    if (v instanceof SeqRef) return JSON.stringify(seqOf(v, c, ctx));
    if (v instanceof IdRef) {
      const id = v.reuse ? ctx.usedCid() ?? ctx.fresh(v.kind) : ctx.fresh(v.kind);
      return JSON.stringify(id);
    }
    if (v instanceof ResumeRef) {
      return "{" + v.entries.map(([k, s]) => {
        const key = k instanceof ConvRef ? convOf(k, ctx) : String(k);
        return `${JSON.stringify(key)}:${ser(s, key)}`;
      }).join(",") + "}";
    }
    if (v instanceof Entries) return obj(v.entries, c);
    if (Array.isArray(v)) {
      return "[" + v.map((x) => x === undefined ? "null" : ser(x, c)).join(",") + "]";
    }
    if (typeof v === "object" && v !== null) return obj(Object.entries(v), c);
    return JSON.stringify(v) ?? "null";
  };
  const obj = (entries: [string, unknown][], c: unknown) =>
    "{" + entries.filter(([, x]) =>
      x !== undefined
    ).map(([k, x]) => `${JSON.stringify(k)}:${ser(x, c)}`).join(",") + "}";
  return ser(body, conv);
}
