/**
 * What the WebSocket fuzzer sends, as fast-check arbitraries: valid frames of every client type,
 * the same frames with fields mutated, junk, and reconnects. Values that depend on the state of
 * the run (a conversation of this user, its newest seq, a fresh request id) stay symbolic here
 * and are resolved when the frame goes out (`tests/fuzz/render.ts`).
 */
import fc from "fast-check";
import {
  CLIENT_FRAME_TYPES,
  HISTORY_PAGE_MAX,
  MAX_FRAME_BYTES,
  MAX_TEXT_CHARS,
} from "../../lib/wire/protocol.ts";
import { LIMITS_WS } from "../../lib/realtime/limits.ts";
import { type Action, ConvRef, Entries, IdRef, Raw, ResumeRef, SeqRef } from "./symbols.ts";
import { CJK, EDGE_STRINGS, WEIRD } from "./values.ts";

/** The frame types the fuzz world models (tests/fuzz/oracle.ts predict()). */
const MODELLED_TYPES = CLIENT_FRAME_TYPES.filter((t) =>
  t !== "recall" && t !== "react" && t !== "search"
);

const FIELDS = [
  "type",
  "v",
  "resume",
  "conv",
  "cid",
  "text",
  "rid",
  "before",
  "after",
  "limit",
  "seq",
];

function pick<T>(values: readonly T[]): fc.Arbitrary<T> {
  return fc.constantFrom(...values);
}

export const convRef: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 14, arbitrary: fc.nat(9).map((i) => new ConvRef("own", i)) },
  { weight: 3, arbitrary: fc.nat(9).map((i) => new ConvRef("foreign", i)) },
  { weight: 2, arbitrary: fc.nat(9).map((i) => new ConvRef("ghost", i)) },
  { weight: 1, arbitrary: pick(["constructor", "0", "z".repeat(40), "bot", "system"]) },
);

export const seqRef: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(
      pick(["zero", "joined", "last", "max"] as const),
      fc.integer({ min: -2, max: 2 }),
    ).map(([b, d]) => new SeqRef(b, d)),
  },
  { weight: 2, arbitrary: fc.nat(400) },
);

const ridRef = fc.oneof(
  { weight: 12, arbitrary: fc.constant(new IdRef("rid", false)) },
  { weight: 1, arbitrary: pick(["-", "_", "R".repeat(64)]) },
);
const cidRef = fc.oneof(
  { weight: 8, arbitrary: fc.constant(new IdRef("cid", false)) },
  { weight: 3, arbitrary: fc.constant(new IdRef("cid", true)) },
  { weight: 1, arbitrary: pick(["-", "_", "C".repeat(64)]) },
);

export const messageText: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  { weight: 2, arbitrary: pick(EDGE_STRINGS) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(CJK, "😀", "a", " ").chain((ch) =>
      fc.integer({ min: MAX_TEXT_CHARS - 2, max: MAX_TEXT_CHARS + 2 }).map((n) => ch.repeat(n))
    ),
  },
);

const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 4 });
const strip = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export const resumeRef: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.array(fc.tuple(convRef, seqRef), { maxLength: 6 }).map((e) =>
      new ResumeRef(e as [ConvRef, SeqRef][])
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constant(
      new ResumeRef(Array.from({ length: 2001 }, (_, i) => [i.toString(36), 0])),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(convRef, pick(WEIRD)).map((e) => new ResumeRef([e as [ConvRef, unknown]])),
  },
  { weight: 1, arbitrary: pick(WEIRD) },
);

/** A well-formed frame of every client type (valid, unless a symbolic value lands out of range). */
export const validFrame: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({
    type: fc.constant("send"),
    conv: convRef,
    cid: cidRef,
    text: messageText,
    rid: opt(ridRef),
  }).map(strip),
  fc.record({
    type: fc.constant("history"),
    conv: convRef,
    before: opt(seqRef),
    limit: opt(
      fc.oneof(
        fc.integer({ min: 1, max: HISTORY_PAGE_MAX }),
        pick([0, 1, HISTORY_PAGE_MAX, HISTORY_PAGE_MAX + 1]),
      ),
    ),
    rid: opt(ridRef),
  }).map(strip),
  fc.record({ type: fc.constant("sync"), conv: convRef, after: seqRef, rid: opt(ridRef) }).map(
    strip,
  ),
  fc.record({ type: fc.constant("read"), conv: convRef, seq: seqRef }),
  fc.record({ type: fc.constant("typing"), conv: convRef }),
  fc.record({ type: fc.constantFrom("receipts", "members"), conv: convRef, rid: opt(ridRef) }).map(
    strip,
  ),
  fc.record({ type: fc.constant("ping"), rid: opt(ridRef) }).map(strip),
  fc.record({ type: fc.constant("hello"), v: fc.constant(1), resume: opt(resumeRef) }).map(strip),
);

const weirdValue = fc.oneof(
  { weight: 6, arbitrary: pick(WEIRD) },
  { weight: 2, arbitrary: seqRef },
  { weight: 2, arbitrary: convRef },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

type Mutation = (f: Record<string, unknown>) => unknown;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(pick(FIELDS), weirdValue).map(([k, v]): Mutation => (f) => ({
      ...f,
      [k]: v,
    })),
  },
  {
    weight: 2,
    arbitrary: pick(FIELDS).map((k): Mutation => (f) => strip({ ...f, [k]: undefined })),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(pick(["pad", "__proto__", "constructor", "extra", "v"]), weirdValue).map(
      ([k, v]): Mutation => (f) => new Entries([...Object.entries(f), [k, v]]),
    ),
  },
  {
    weight: 1,
    // Not into a recall, a reaction or a search: their answers and log entries are outside the
    // model (tests/ws_rich_test.ts covers them; lib/wire/protocol_test.ts fuzzes their parsing).
    arbitrary: pick([...MODELLED_TYPES, "PING", " ping"]).map((t): Mutation => (f) => ({
      ...f,
      type: t,
    })),
  },
  // Duplicate keys: JSON.parse keeps the last one.
  {
    weight: 1,
    arbitrary: weirdValue.map((v): Mutation => (f) =>
      new Entries([["type", v], ...Object.entries(f)])
    ),
  },
  { weight: 1, arbitrary: fc.constant<Mutation>((f) => [f]) },
  {
    weight: 1,
    arbitrary: fc.constant<Mutation>((f) => new Raw(JSON.stringify(JSON.stringify(f)))),
  },
);

/** A valid frame with one to three mutations applied in turn. */
export const mutatedFrame: fc.Arbitrary<unknown> = fc.tuple(
  validFrame,
  fc.array(mutation, { minLength: 1, maxLength: 3 }),
).map(([f, ms]) => {
  let out: unknown = f;
  for (const m of ms) {
    if (
      typeof out === "object" && out !== null && !Array.isArray(out) && !(out instanceof Entries) &&
      !(out instanceof Raw)
    ) out = m(out as Record<string, unknown>);
  }
  return out;
});

/** Text frames that are not frames at all, or are too big. */
export const junkText: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  pick([
    "",
    "null",
    "[]",
    '{"type":"ping"',
    '\ufeff{"type":"ping"}',
    '{"type":"ping"}\u0000',
    "x".repeat(MAX_FRAME_BYTES + 1),
    JSON.stringify({ type: "ping", pad: "x".repeat(MAX_FRAME_BYTES - 30) }),
    // Under the limit in UTF-16 units, over it in UTF-8 bytes (docs/protocol.md counts units).
    JSON.stringify({ type: "ping", pad: CJK.repeat(6000) }),
    JSON.stringify({ type: "ping", pad: "😀".repeat(4000) }),
  ]),
);

/**
 * More commands at once than the socket's queue holds: two or more heavy ones first (one runs,
 * the next waits at the head of the queue and holds up the rest), then commands that reach the
 * queue (none is refused as bad, none by a rate) and mostly get an answer. The last ones may be
 * refused `busy`.
 */
const burst: fc.Arbitrary<Action> = fc.tuple(
  fc.array(
    fc.record({
      type: fc.constantFrom("history", "sync", "members"),
      conv: convRef,
      limit: fc.constant(HISTORY_PAGE_MAX),
      after: fc.constant(new SeqRef("joined", 0)),
      rid: fc.constant(new IdRef("rid", false)),
    }),
    { minLength: 2, maxLength: 4 },
  ),
  fc.array(
    fc.oneof(
      fc.record({ type: fc.constant("read"), conv: convRef, seq: fc.nat(9) }),
      fc.record({ type: fc.constant("typing"), conv: convRef }),
    ),
    { minLength: LIMITS_WS.queuePerSocket + 4, maxLength: LIMITS_WS.framesPerSec - 14 },
  ),
).map(([heavy, rest]): Action => ({ a: "burst", frames: [...heavy, ...rest] }));

export const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 160, arbitrary: validFrame.map((body): Action => ({ a: "frame", body })) },
  { weight: 160, arbitrary: mutatedFrame.map((body): Action => ({ a: "frame", body })) },
  { weight: 24, arbitrary: junkText.map((data): Action => ({ a: "text", data })) },
  {
    weight: 4,
    arbitrary: fc.uint8Array({ maxLength: 30 }).map((data): Action => ({ a: "binary", data })),
  },
  { weight: 1, arbitrary: burst },
  {
    weight: 4,
    arbitrary: fc.record({
      pre: fc.array(
        fc.oneof(
          validFrame.map((body): Action => ({ a: "frame", body })),
          junkText.map((data): Action => ({ a: "text", data })),
        ),
        { maxLength: 3 },
      ),
      hello: fc.oneof(
        {
          weight: 12,
          arbitrary: fc.record({
            type: fc.constant("hello"),
            v: fc.constant(1),
            resume: opt(resumeRef),
          }).map(strip),
        },
        {
          weight: 1,
          arbitrary: fc.record({ type: fc.constant("hello"), v: pick([0, 2, 1.5, -1]) }),
        },
        { weight: 2, arbitrary: mutation.map((m) => m({ type: "hello", v: 1 })) },
      ),
      dropInHello: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, {
        weight: 1,
        arbitrary: fc.constant(true),
      }),
    }).map((r): Action => ({ a: "reconnect", ...r })),
  },
);
