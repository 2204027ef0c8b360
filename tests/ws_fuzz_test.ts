/** Fuzzing /ws with generated frames against a real server: every bad frame gets an answer, nothing is stored. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Client,
  friendsDm,
  friendsGroup,
  signUp,
  startTestServer,
  storeTexts,
  type TestServer,
  withServer,
} from "./helpers.ts";
import { addMember } from "../lib/groups/join.ts";
import { WsClient } from "./ws_client.ts";
import {
  type ClientFrame,
  CLOSE,
  type FrameError,
  HISTORY_PAGE_MAX,
  isFrameError,
  MAX_FRAME_BYTES,
  MAX_TEXT_CHARS,
  parseClientFrame,
  type ServerFrame,
} from "../lib/wire/protocol.ts";
import { LIMITS_WS } from "../lib/realtime/conn.ts";
import { setLogSink } from "../lib/log.ts";

type Fuzz = { kind: "text"; data: string } | { kind: "binary"; data: Uint8Array };

const FIELDS = [
  "type",
  "conv",
  "cid",
  "text",
  "seq",
  "after",
  "before",
  "limit",
  "rid",
  "v",
  "resume",
] as const;
const BAD: Record<(typeof FIELDS)[number], unknown[]> = {
  type: [undefined, "nope", "PING", 5, null, { toString: 1 }, ["send"]],
  conv: [undefined, "", "UPPER", "a-b", "x".repeat(41), 1, null, {}, []],
  cid: [undefined, "", "a b", "x".repeat(65), 7, null],
  text: [undefined, "", "  \n ", 5, null, "a".repeat(MAX_TEXT_CHARS + 1)],
  seq: [undefined, -1, 1.5, "3", null, 2 ** 53],
  after: [undefined, -1, "0", null],
  before: [-1, "x", 0.5],
  limit: [0, HISTORY_PAGE_MAX + 1, -1, "5"],
  rid: ["", "a b", 3, "x".repeat(65), { toString: 1 }],
  v: [undefined, "1", null],
  resume: [[], 5, { ABC: 1 }, { abc: -1 }],
};

/** Frames that are one field away from valid, for conversations the user is in. */
function nearValid(own: string[]): fc.Arbitrary<Fuzz> {
  const template = fc.constantFrom(...own).chain((conv) =>
    fc.constantFrom<Record<string, unknown>>(
      { type: "hello", v: 1, resume: { [conv]: 0 } },
      { type: "send", conv, cid: "c1", text: "hi", rid: "r1" },
      { type: "history", conv, before: 5, limit: 10 },
      { type: "sync", conv, after: 0 },
      { type: "read", conv, seq: 1 },
      { type: "typing", conv },
      { type: "receipts", conv },
      { type: "members", conv, rid: "m" },
    )
  );
  return fc.tuple(template, fc.constantFrom(...FIELDS), fc.nat()).map(([t, field, i]) => {
    const frame = { ...t };
    if (field === "rid" || field in frame) frame[field] = BAD[field][i % BAD[field].length];
    if (t.type === "hello" && field !== "rid" && field !== "type") frame.v = "1";
    return { kind: "text" as const, data: JSON.stringify(frame) };
  }).filter((f) => isFrameError(parseClientFrame(f.data)));
}

/** Well-formed frames for conversations the user is not in (or that do not exist). */
function foreignValid(foreign: string[]): fc.Arbitrary<Fuzz> {
  const conv = fc.constantFrom(...foreign);
  const rid = fc.option(fc.stringMatching(/^[a-z0-9]{1,8}$/), { nil: undefined });
  return fc.oneof(
    fc.record({
      type: fc.constant("send"),
      conv,
      cid: fc.stringMatching(/^[a-z0-9]{1,10}$/),
      text: fc.constant("intrude"),
      rid,
    }),
    fc.record({ type: fc.constantFrom("history", "receipts", "members", "typing"), conv, rid }),
    fc.record({ type: fc.constant("sync"), conv, after: fc.nat(50) }),
    fc.record({ type: fc.constant("read"), conv, seq: fc.nat(50) }),
    fc.record({ type: fc.constant("ping"), rid }),
    fc.record({ type: fc.constant("hello"), v: fc.integer({ min: 0, max: 2 }) }),
  ).map((f) => ({ kind: "text" as const, data: JSON.stringify(f) }));
}

function fuzzFrames(own: string[], foreign: string[]): fc.Arbitrary<Fuzz> {
  const text = (a: fc.Arbitrary<string>) => a.map((data): Fuzz => ({ kind: "text", data }));
  return fc.oneof(
    { arbitrary: text(fc.string()), weight: 2 },
    { arbitrary: text(fc.string({ unit: "binary", maxLength: 40 })), weight: 1 },
    { arbitrary: text(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v))), weight: 2 },
    { arbitrary: nearValid(own), weight: 6 },
    { arbitrary: foreignValid(foreign), weight: 3 },
    {
      arbitrary: fc.uint8Array({ maxLength: 20 }).map((data): Fuzz => ({ kind: "binary", data })),
      weight: 1,
    },
    {
      arbitrary: text(
        fc.constant(JSON.stringify({ type: "ping", pad: "x".repeat(MAX_FRAME_BYTES) })),
      ),
      weight: 1,
    },
  );
}

async function nextFrame(w: WsClient): Promise<ServerFrame | null> {
  const until = Date.now() + 3000;
  while (!w.frames.length && !w.closed) {
    if (Date.now() > until) throw new Error("No answer to a frame");
    await new Promise((r) => setTimeout(r, 2));
  }
  return w.frames.shift() ?? null;
}

/** Sends each frame on one socket (reopened as needed) and checks the answer the protocol promises. */
async function drive(server: TestServer, client: Client, frames: Fuzz[]): Promise<number> {
  const open = async () => {
    const ws = await WsClient.connect(server, client);
    ws.frames.length = 0; // the welcome
    return ws;
  };
  let w = await open();
  let badSeen = 0;
  let answered = 0;
  const reopen = async (code: number) => {
    assert.equal((await w.waitClose()).code, code);
    w = await open();
    badSeen = 0;
  };
  for (const f of frames) {
    // What the server receives: text crosses the wire as UTF-8, so lone surrogates become U+FFFD.
    const wire = f.kind === "text"
      ? new TextDecoder().decode(new TextEncoder().encode(f.data))
      : null;
    w.ws.send(f.data);
    if (wire !== null && wire.length > MAX_FRAME_BYTES) {
      await reopen(CLOSE.frameTooLarge);
      continue;
    }
    const parsed: ClientFrame | FrameError = wire === null
      ? { code: "bad_frame", message: "Binary frames are not accepted" }
      : parseClientFrame(wire);
    const got = await nextFrame(w);
    assert.ok(got, `socket closed instead of answering ${wire}: ${JSON.stringify(w.closed)}`);
    answered++;
    if (isFrameError(parsed) || parsed.type === "hello") {
      assert.equal(got.type, "error", wire ?? "binary");
      assert.equal(got.code, "bad_frame");
      if (isFrameError(parsed)) assert.equal(got.message, parsed.message);
      if (++badSeen === LIMITS_WS.badFramesBeforeClose) await reopen(CLOSE.badFrames);
    } else if (parsed.type === "ping") {
      assert.equal(got.type, "pong");
      assert.equal(got.rid, parsed.rid);
    } else {
      assert.equal(got.type, "error", wire!);
      assert.ok(
        ["not_member", "not_found", "rate_limited"].includes(got.code),
        `${wire} → ${got.code}`,
      );
      if ("rid" in parsed && parsed.rid) assert.equal(got.rid, parsed.rid);
      if (parsed.type === "send") assert.equal(got.cid, parsed.cid);
    }
    // Stay under the frames-per-second limit: flooding is not what this test is about.
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(w.frames, [], "one answer per frame, nothing extra");
  await w.close();
  return answered;
}

Deno.test("fuzzed frames after hello each get an answer, never crash the server and store nothing", async () => {
  const server = await startTestServer();
  const lines: string[] = [];
  const prevSink = setLogSink((line) => lines.push(line));
  try {
    const [a, b, c] = [await signUp(server), await signUp(server), await signUp(server)];
    const dm = (await friendsDm(server, a.userId, b.userId)).id;
    const group = (await friendsGroup(server, a.userId, "Team", [b.userId])).id;
    const theirs = (await friendsGroup(server, b.userId, "Not A's", [c.userId])).id;
    const probe = await WsClient.connect(server, a.client);
    const own = (await probe.next("welcome").catch(() => null))?.convs.map((x) => x.id) ??
      [dm, group];
    await probe.close();
    const storedNow = async () => {
      const out: unknown[] = [];
      for await (const e of server.kv.list({ prefix: ["msg"] })) out.push(e.value);
      return out;
    };
    const before = await storedNow(); // the bot's greetings
    const workers = 4;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fuzzFrames(own, [theirs, "nosuchconv", "x"]), { minLength: 300, maxLength: 300 }),
        async (frames) => {
          const parts = Array.from(
            { length: workers },
            (_, i) => frames.filter((_, j) => j % workers === i),
          );
          const answered = await Promise.all(parts.map((p) => drive(server, a.client, p)));
          assert.ok(
            answered.reduce((x, y) => x + y) >= 250,
            "almost every frame got an answer frame",
          );
        },
      ),
      { numRuns: 1, endOnFailure: true },
    );
    assert.deepEqual(await storedNow(), before, "no frame stored a message");
    // The server is still fine: HTTP answers, and a new socket can chat.
    const health = await fetch(server.url("/healthz"));
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const [wa, wb] = [
      await WsClient.connect(server, a.client),
      await WsClient.connect(server, b.client),
    ];
    wa.send({ type: "send", conv: dm, cid: "after", text: "still works" });
    assert.equal((await wa.next("ack")).seq, 1);
    assert.equal((await wb.next("msg")).msg.text, "still works");
    await Promise.all([wa.close(), wb.close()]);
    assert.deepEqual(
      lines.filter((l) => /"level":"error"/.test(l)),
      [],
      "no internal error was logged",
    );
  } finally {
    setLogSink(prevSink);
    await server.close();
  }
});

Deno.test("before hello, every frame but a hello of the right version is refused with an error", async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    const frames = fc.sample(
      fc.oneof(
        fc.string(),
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.constant('{"type":"ping"}'),
        fc.constant('{"type":"send","conv":"abc","cid":"c","text":"x"}'),
      ),
      15,
    );
    const w = await WsClient.open(server, client);
    for (const f of frames) {
      w.raw(f);
      const got = await nextFrame(w);
      assert.equal(got?.type, "error", f);
      assert.equal(got.code, "bad_frame");
      await new Promise((r) => setTimeout(r, 20));
    }
    w.send({ type: "hello", v: 1 });
    await w.next("resumed");
    await w.close();
    const v = await WsClient.open(server, client);
    v.send({ type: "hello", v: 2 });
    assert.equal((await v.waitClose()).code, CLOSE.badVersion);
  });
});

Deno.test("a resume cursor from before joining a group never replays messages from before the join", async () => {
  await withServer(async (server) => {
    const [a, b, d] = [await signUp(server), await signUp(server), await signUp(server)];
    const group = (await friendsGroup(server, a.userId, "Team", [b.userId])).id;
    await storeTexts(
      server,
      group,
      "early",
      Array.from({ length: 6 }, (_, i) => ({ from: a.userId, text: `secret ${i}` })),
    );
    const joined = await addMember(server.rt, group, d.userId, a.userId);
    await storeTexts(server, group, "late", [{ from: b.userId, text: "hello d" }]);
    for (let from = 0; from <= joined.seq + 1; from++) {
      const w = await WsClient.open(server, d.client);
      w.send({ type: "hello", v: 1, resume: { [group]: from } });
      await w.next("resumed");
      const seqs = w.msgs(group).map((m) => m.seq);
      assert.ok(seqs.every((s) => s >= joined.seq), `resume from ${from} replayed ${seqs}`);
      assert.deepEqual(
        seqs,
        Array.from(
          { length: joined.seq + 1 - Math.max(from, joined.seq - 1) },
          (_, i) => Math.max(from, joined.seq - 1) + 1 + i,
        ),
      );
      await w.close();
    }
  });
});
