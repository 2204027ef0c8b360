import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CLIENT_FRAME_TYPES,
  type ClientFrame,
  CLOSE,
  type FrameError,
  HISTORY_PAGE_MAX,
  isFrameError,
  MAX_FRAME_BYTES,
  MAX_TEXT_CHARS,
  parseClientFrame,
  shouldReconnect,
} from "./protocol.ts";

const TYPES = CLIENT_FRAME_TYPES;

function parse(frame: unknown): ClientFrame | FrameError {
  return parseClientFrame(JSON.stringify(frame));
}

/** Asserts `frame` is refused, with a message that names `mentions` when given. */
function refused(frame: unknown, mentions?: RegExp): void {
  const r = typeof frame === "string" ? parseClientFrame(frame) : parse(frame);
  assert.ok(isFrameError(r), `accepted ${JSON.stringify(frame)}`);
  assert.equal(r.code, "bad_frame");
  if (mentions) assert.match(r.message, mentions);
}

Deno.test("parseClientFrame() refuses what is not a JSON object", () => {
  for (
    const raw of ["", "not json", "{", "null", "1", '"hello"', "[]", '[{"type":"ping"}]', "true"]
  ) refused(raw);
  refused("nope", /not valid JSON/);
  refused("[]", /JSON object/);
});

Deno.test("parseClientFrame() refuses unknown and non-string types without throwing", () => {
  refused({}, /type/);
  refused({ type: "nope" }, /Unknown frame type "nope"/);
  refused({ type: "PING" });
  refused({ type: "x".repeat(500) }, /^Unknown frame type "x{30}"$/);
  // An object whose conversion to a string throws must not take the server down.
  for (const type of [{ toString: 1 }, { toString: null, valueOf: null }, [], 1, null, true]) {
    refused({ type }, /"type" must be a string/);
  }
});

Deno.test("parseClientFrame() checks rid on every frame type", () => {
  assert.deepEqual(parse({ type: "ping", rid: "r-1_A" }), { type: "ping", rid: "r-1_A" });
  for (const rid of ["", "a b", "x".repeat(65), 5, null, {}, "é"]) {
    refused({ type: "ping", rid }, /"rid"/);
  }
});

Deno.test("parseClientFrame() hello: needs a numeric v and a valid resume map", () => {
  assert.deepEqual(parse({ type: "hello", v: 1 }), { type: "hello", v: 1, resume: undefined });
  assert.deepEqual(parse({ type: "hello", v: 1, resume: { abc: 0, z9: 42 } }), {
    type: "hello",
    v: 1,
    resume: { abc: 0, z9: 42 },
  });
  assert.deepEqual(
    parse({ type: "hello", v: 7 }),
    { type: "hello", v: 7, resume: undefined },
    "the version is checked by the server, not here",
  );
  refused({ type: "hello" }, /"v"/);
  refused({ type: "hello", v: "1" }, /"v"/);
  refused({ type: "hello", v: 1, resume: [] }, /"resume"/);
  refused({ type: "hello", v: 1, resume: 5 }, /"resume"/);
  refused({ type: "hello", v: 1, resume: { ABC: 1 } }, /Resume entry "ABC"/);
  refused({ type: "hello", v: 1, resume: { abc: -1 } }, /Resume entry/);
  refused({ type: "hello", v: 1, resume: { abc: 1.5 } }, /Resume entry/);
  refused({ type: "hello", v: 1, resume: { abc: "1" } }, /Resume entry/);
  refused({ type: "hello", v: 1, resume: { abc: 2 ** 53 } }, /Resume entry/);
  refused({ type: "hello", v: 1, resume: { ["a".repeat(41)]: 1 } }, /Resume entry/);
  const many = Object.fromEntries(Array.from({ length: 2001 }, (_, i) => [`c${i}`, 0]));
  refused({ type: "hello", v: 1, resume: many }, /too many/);
  assert.ok(
    !isFrameError(
      parse({ type: "hello", v: 1, resume: Object.fromEntries(Object.entries(many).slice(1)) }),
    ),
  );
});

Deno.test("parseClientFrame() send: conv, cid and text are checked; text is trimmed", () => {
  const ok = { type: "send", conv: "abc123", cid: "c_1-X", text: "  hi 你好  " };
  assert.deepEqual(parse(ok), {
    type: "send",
    rid: undefined,
    conv: "abc123",
    cid: "c_1-X",
    text: "hi 你好",
  });
  assert.deepEqual(parse({ ...ok, rid: "r1" }), {
    type: "send",
    rid: "r1",
    conv: "abc123",
    cid: "c_1-X",
    text: "hi 你好",
  });
  for (const conv of [undefined, "", "ABC", "a-b", "x".repeat(41), 1, null]) {
    refused({ ...ok, conv }, /"conv"/);
  }
  for (const cid of [undefined, "", "a b", "x".repeat(65), 3, "ü"]) {
    refused({ ...ok, cid }, /"cid"/);
  }
  for (const text of [undefined, 1, null, ["a"]]) refused({ ...ok, text }, /"text"/);
  for (const text of ["", "   ", "\n\t "]) refused({ ...ok, text }, /empty/);
  // The limit counts characters (code points), not UTF-16 units.
  assert.ok(!isFrameError(parse({ ...ok, text: "😀".repeat(MAX_TEXT_CHARS) })));
  refused({ ...ok, text: "a".repeat(MAX_TEXT_CHARS + 1) }, /longer than/);
});

Deno.test("parseClientFrame() history: before is a seq, limit is 1–max", () => {
  assert.deepEqual(parse({ type: "history", conv: "c1" }), {
    type: "history",
    rid: undefined,
    conv: "c1",
    before: undefined,
    limit: undefined,
  });
  assert.deepEqual(parse({ type: "history", conv: "c1", before: 0, limit: HISTORY_PAGE_MAX }), {
    type: "history",
    rid: undefined,
    conv: "c1",
    before: 0,
    limit: HISTORY_PAGE_MAX,
  });
  refused({ type: "history" }, /"conv"/);
  for (const before of [-1, 1.5, "3", null]) {
    refused({ type: "history", conv: "c1", before }, /"before"/);
  }
  for (const limit of [0, HISTORY_PAGE_MAX + 1, -5, 2.5, "10", null]) {
    refused({ type: "history", conv: "c1", limit }, /"limit"/);
  }
});

Deno.test("parseClientFrame() sync, read, typing, receipts, members each check their fields", () => {
  assert.deepEqual(parse({ type: "sync", conv: "c1", after: 0 }), {
    type: "sync",
    rid: undefined,
    conv: "c1",
    after: 0,
  });
  refused({ type: "sync", conv: "c1" }, /"after"/);
  refused({ type: "sync", conv: "c1", after: -1 }, /"after"/);
  refused({ type: "sync", after: 1 }, /"conv"/);
  assert.deepEqual(parse({ type: "read", conv: "c1", seq: 9 }), {
    type: "read",
    conv: "c1",
    seq: 9,
  });
  for (const seq of [undefined, -1, 0.5, "9", null]) {
    refused({ type: "read", conv: "c1", seq }, /"seq"/);
  }
  refused({ type: "read", conv: "C1", seq: 1 }, /"conv"/);
  assert.deepEqual(parse({ type: "typing", conv: "c1" }), { type: "typing", conv: "c1" });
  refused({ type: "typing" }, /"conv"/);
  for (const type of ["receipts", "members"] as const) {
    assert.deepEqual(parse({ type, conv: "c1", rid: "q" }), { type, rid: "q", conv: "c1" });
    refused({ type, conv: "" }, /"conv"/);
  }
  assert.deepEqual(parse({ type: "ping" }), { type: "ping", rid: undefined });
});

Deno.test("shouldReconnect() says reconnect for 4000–4499 and normal closes, not for 4500–4999", () => {
  for (
    const code of [1000, 1001, 1006, CLOSE.shutdown, CLOSE.idle, CLOSE.slowConsumer, CLOSE.flood]
  ) assert.ok(shouldReconnect(code), String(code));
  for (
    const code of [
      CLOSE.unauthorized,
      CLOSE.badVersion,
      CLOSE.badFrames,
      CLOSE.tooManySockets,
      CLOSE.frameTooLarge,
    ]
  ) {
    assert.ok(!shouldReconnect(code), String(code));
  }
});

// ---- properties ----

/** The result is either a well-formed frame of a known type or exactly a bad_frame error. */
function wellFormed(r: ClientFrame | FrameError): boolean {
  if (isFrameError(r)) {
    return Object.keys(r).sort().join() === "code,message" && typeof r.message === "string" &&
      r.message.length > 0;
  }
  return (TYPES as readonly string[]).includes(r.type);
}

const id = fc.stringMatching(/^[0-9a-z]{1,40}$/);
const cid = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const seq = fc.nat({ max: 2 ** 40 });
const rid = fc.option(cid, { nil: undefined });
/** Near-valid field values: mostly plausible, sometimes wrong in type or range. */
const fieldValue = fc.oneof(
  fc.jsonValue(),
  id,
  cid,
  seq,
  fc.integer(),
  fc.double(),
  fc.string({ unit: "grapheme" }),
  fc.constant({ toString: 1 }),
);

Deno.test("parseClientFrame() never throws on arbitrary strings", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme-ascii" })),
      (s) => wellFormed(parseClientFrame(s)),
    ),
    { numRuns: 2000 },
  );
});

Deno.test("parseClientFrame() never throws on arbitrary JSON values", () => {
  fc.assert(fc.property(fc.jsonValue(), (v) => wellFormed(parse(v))), { numRuns: 2000 });
});

Deno.test("parseClientFrame() never throws on objects of a known (or odd) type with arbitrary fields", () => {
  const fields = fc.record(
    {
      rid: fieldValue,
      conv: fieldValue,
      cid: fieldValue,
      text: fieldValue,
      seq: fieldValue,
      after: fieldValue,
      before: fieldValue,
      limit: fieldValue,
      v: fieldValue,
      resume: fc.oneof(fieldValue, fc.dictionary(fc.string(), fieldValue)),
    },
    { requiredKeys: [] },
  );
  const extra = fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 });
  fc.assert(
    fc.property(
      fc.oneof({ arbitrary: fc.constantFrom(...TYPES), weight: 5 }, fieldValue),
      fields,
      extra,
      (type, f, more) => wellFormed(parse({ ...more, ...f, type })),
    ),
    { numRuns: 3000 },
  );
});

const validFrame: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({
    type: fc.constant("hello"),
    v: fc.integer(),
    resume: fc.option(fc.dictionary(id, fc.nat(), { maxKeys: 5 }), { nil: undefined }),
  }, { requiredKeys: ["type", "v"] }),
  fc.record({
    type: fc.constant("send"),
    rid,
    conv: id,
    cid,
    text: fc.string({ minLength: 1, maxLength: 50 }).filter((t) => t.trim().length > 0),
  }, { requiredKeys: ["type", "conv", "cid", "text"] }),
  fc.record({
    type: fc.constant("history"),
    rid,
    conv: id,
    before: seq,
    limit: fc.integer({ min: 1, max: HISTORY_PAGE_MAX }),
  }, { requiredKeys: ["type", "conv"] }),
  fc.record({ type: fc.constant("sync"), rid, conv: id, after: seq }, {
    requiredKeys: ["type", "conv", "after"],
  }),
  fc.record({ type: fc.constant("read"), conv: id, seq }),
  fc.record({ type: fc.constant("typing"), conv: id }),
  fc.record({ type: fc.constantFrom("receipts", "members"), rid, conv: id }, {
    requiredKeys: ["type", "conv"],
  }),
  fc.record({ type: fc.constant("ping"), rid }, { requiredKeys: ["type"] }),
  fc.record({ type: fc.constant("recall"), rid, conv: id, seq: fc.integer({ min: 1 }) }, {
    requiredKeys: ["type", "conv", "seq"],
  }),
  fc.record({
    type: fc.constant("react"),
    rid,
    conv: id,
    cid,
    seq: fc.integer({ min: 1 }),
    emoji: fc.constantFrom("👍", "❤️", "👍🏽", "🇨🇳", "1️⃣", "👨‍👩‍👧‍👦"),
    on: fc.boolean(),
  }, { requiredKeys: ["type", "conv", "cid", "seq", "emoji", "on"] }),
);

Deno.test("valid frames are accepted with their fields, and the parsed frame round-trips through JSON", () => {
  fc.assert(
    fc.property(validFrame, (frame) => {
      const input = JSON.parse(JSON.stringify(frame)) as Record<string, unknown>;
      const r = parse(input);
      assert.ok(!isFrameError(r), `${JSON.stringify(input)} refused: ${(r as FrameError).message}`);
      assert.equal(r.type, input.type);
      for (
        const k of [
          "conv",
          "cid",
          "seq",
          "after",
          "before",
          "limit",
          "v",
          "resume",
          "emoji",
          "on",
        ] as const
      ) {
        if (k in input && input[k] !== undefined) {
          assert.deepEqual((r as Record<string, unknown>)[k], input[k], k);
        }
      }
      if (r.type === "send") assert.equal(r.text, (input.text as string).trim());
      // What the server accepted, serialized again, is accepted as exactly the same frame.
      assert.deepEqual(parseClientFrame(JSON.stringify(r)), r);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("the longest send frame fits under MAX_FRAME_BYTES however its text is escaped", () => {
  // The widest JSON for one code point: an emoji as two \uXXXX escapes, 12 bytes.
  const worstText = "\\ud83d\\ude00".repeat(MAX_TEXT_CHARS);
  const frame = `{"type":"send","rid":"${"r".repeat(64)}","conv":"${"c".repeat(40)}","cid":"${
    "i".repeat(64)
  }","text":"${worstText}"}`;
  assert.ok(new TextEncoder().encode(frame).length <= MAX_FRAME_BYTES);
  const parsed = parseClientFrame(frame);
  assert.ok(!isFrameError(parsed) && parsed.type === "send");
  assert.equal([...parsed.text].length, MAX_TEXT_CHARS);
});
