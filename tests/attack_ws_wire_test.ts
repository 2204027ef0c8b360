/**
 * Below the JSON: WebSocket frames that break RFC 6455 (reserved opcodes and bits, lone
 * continuations, bad UTF-8, oversized or fragmented control frames, absurd lengths) and valid
 * but unusual ones (fragments, control frames between them). A broken frame ends that connection
 * and nothing else; a valid one is answered; the server logs no error and keeps no connection.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Client, signUp, startTestServer, type TestServer } from "./helpers.ts";
import { RawWs } from "./raw_ws.ts";
import { setLogSink } from "../lib/log.ts";

type Frame = Parameters<RawWs["sendFrame"]>[0];
type Outcome = "alive" | "ends";

const enc = (s: string) => new TextEncoder().encode(s);
const ping = enc(JSON.stringify({ type: "ping", rid: "x" }));

/** Each case: the frames, and what the connection must do (null: either is fine). */
const CASES: [string, Frame[], Outcome | null][] = [
  ["control ping", [{ opcode: 9, payload: enc("hey") }], "alive"],
  ["unsolicited pong", [{ opcode: 10, payload: enc("x") }], "alive"],
  ["text in three fragments", [
    { opcode: 1, payload: ping.slice(0, 5), fin: false },
    { opcode: 0, payload: ping.slice(5, 9), fin: false },
    { opcode: 0, payload: ping.slice(9) },
  ], "alive"],
  ["a ping between fragments", [
    { opcode: 1, payload: ping.slice(0, 5), fin: false },
    { opcode: 9, payload: enc("p") },
    { opcode: 0, payload: ping.slice(5) },
  ], "alive"],
  [
    "one byte per fragment",
    [...ping].map((b, i) => ({
      opcode: i ? 0 : 1,
      payload: new Uint8Array([b]),
      fin: i === ping.length - 1,
    })),
    "alive",
  ],
  ["empty text frame", [{ opcode: 1 }], "alive"],
  ["unmasked client frame", [{ opcode: 1, payload: ping, masked: false }], null],
  ["reserved data opcode 3", [{ opcode: 3, payload: ping }], "ends"],
  ["reserved control opcode 11", [{ opcode: 11 }], "ends"],
  ["RSV1 without an extension", [{ opcode: 1, payload: ping, rsv: 4 }], "ends"],
  ["continuation with nothing to continue", [{ opcode: 0, payload: ping }], "ends"],
  ["a new text frame inside a fragmented one", [
    { opcode: 1, payload: ping.slice(0, 5), fin: false },
    { opcode: 1, payload: ping },
  ], "ends"],
  ["invalid UTF-8", [{ opcode: 1, payload: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) }], "ends"],
  ["a control frame over 125 bytes", [{ opcode: 9, payload: new Uint8Array(200) }], "ends"],
  ["a fragmented control frame", [{ opcode: 9, payload: enc("a"), fin: false }], "ends"],
  ["close with an invalid code", [{ opcode: 8, payload: new Uint8Array([0, 5]) }], "ends"],
  ["close with a one-byte body", [{ opcode: 8, payload: new Uint8Array([3]) }], "ends"],
  [
    "close with a bad UTF-8 reason",
    [{ opcode: 8, payload: new Uint8Array([3, 232, 0xff]) }],
    "ends",
  ],
  ["a length of 2^53 - 1", [{ opcode: 1, claim: 2 ** 53 - 1 }], "ends"],
];

const anyFrame: fc.Arbitrary<Frame> = fc.record({
  opcode: fc.integer({ min: 0, max: 15 }),
  payload: fc.oneof(fc.uint8Array({ maxLength: 140 }), fc.constant(ping)),
  fin: fc.boolean(),
  rsv: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(7) }),
  masked: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, {
    weight: 1,
    arbitrary: fc.constant(false),
  }),
});

async function connect(server: TestServer, client: Client): Promise<RawWs> {
  const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  const r = await RawWs.open(server.url("/ws"), { Cookie: cookie, Origin: server.origin });
  await r.sendText(JSON.stringify({ type: "hello", v: 1 }));
  for (;;) {
    const f = await r.next();
    assert.ok(f, "the connection ended during hello");
    if (f.opcode === 1 && new TextDecoder().decode(f.data).includes('"resumed"')) return r;
  }
}

/** Sends the frames, then a JSON ping: "alive" when its pong comes, "ends" when the connection does. */
async function outcome(r: RawWs, frames: Frame[]): Promise<Outcome | "silent"> {
  try {
    for (const f of frames) await r.sendFrame(f);
    await r.sendText(JSON.stringify({ type: "ping", rid: "after" }));
  } catch { /* the server already hung up */ }
  let silent = false;
  const timer = setTimeout(() => (silent = true, r.close()), 5000);
  try {
    for (let f = await r.next(); f; f = await r.next()) {
      if (f.opcode === 1 && new TextDecoder().decode(f.data).includes('"after"')) return "alive";
    }
    return silent ? "silent" : "ends";
  } finally {
    clearTimeout(timer);
    r.close();
  }
}

Deno.test("malformed and unusual WebSocket frames end only their own connection and leave nothing behind", async () => {
  const server = await startTestServer();
  const lines: string[] = [];
  const prev = setLogSink((l) => lines.push(l));
  try {
    const { client, userId } = await signUp(server);
    for (const [name, frames, want] of CASES) {
      const got = await outcome(await connect(server, client), frames);
      assert.notEqual(got, "silent", `${name}: neither answered nor closed`);
      if (want) assert.equal(got, want, name);
    }
    const seed = Number(Deno.env.get("WIRE_SEED") ?? 424_242);
    const runs = fc.sample(fc.array(anyFrame, { minLength: 1, maxLength: 4 }), {
      seed,
      numRuns: 150,
    });
    for (const frames of runs) {
      const got = await outcome(await connect(server, client), frames);
      assert.notEqual(
        got,
        "silent",
        `WIRE_SEED=${seed}: no answer and no close after ${JSON.stringify(frames)}`,
      );
    }
    const until = Date.now() + 5000;
    while (server.rt.conns.size && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.equal(server.rt.conns.size, 0, "a connection was kept after its client left");
    assert.equal(server.rt.hub.socketsOf(userId), 0);
    const health = await fetch(server.url("/healthz"));
    assert.equal(health.status, 200);
    await health.body?.cancel();
    assert.deepEqual(lines.filter((l) => /"level":"error"/.test(l)), [], "no error logged");
  } finally {
    setLogSink(prev);
    await server.close();
  }
});
