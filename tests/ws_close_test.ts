/**
 * How sockets end: a client the server closes for flooding or for invalid frames receives the
 * close code and reason (not 1006), and what keeps a socket open or closes a silent one.
 */
import assert from "node:assert/strict";
import { type Client, signUp, startTestServer, type TestServer, withServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";
import { type RawFrame, RawWs } from "./raw_ws.ts";
import { LIMITS_WS } from "../lib/realtime/conn.ts";
import { CLOSE, type ServerFrame } from "../lib/wire/protocol.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROUNDS = 5;

Deno.test(`a burst over the frame limit reaches the client as 4003 with its reason (${ROUNDS} rounds)`, async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    for (let round = 0; round < ROUNDS; round++) {
      const w = await WsClient.connect(server, client);
      for (let i = 0; i < 200; i++) w.send({ type: "ping", rid: `p${i}` });
      assert.deepEqual(await w.waitClose(5000), { code: CLOSE.flood, reason: "Too many frames" });
    }
  });
});

Deno.test("a client flooding for a while, then pausing, gets 4003; so does a burst of invalid frames get 4502", async () => {
  // The close waits for 100 ms of quiet; a loaded machine can pause this client that long in the
  // middle of its flood, and the frames after the close would drop it (1006).
  const saved = LIMITS_WS.closeQuietMs;
  LIMITS_WS.closeQuietMs = 500;
  await withServer(async (server) => {
    const { client } = await signUp(server);
    const w = await WsClient.connect(server, client);
    const until = performance.now() + 300;
    while (performance.now() < until && !w.closed) {
      for (let i = 0; i < 5; i++) w.send({ type: "ping" });
      await sleep(1);
    }
    assert.deepEqual(await w.waitClose(5000), { code: CLOSE.flood, reason: "Too many frames" });

    const bad = await WsClient.connect(server, client);
    for (let i = 0; i < LIMITS_WS.badFramesBeforeClose + 10; i++) bad.raw("not json");
    assert.deepEqual(await bad.waitClose(5000), {
      code: CLOSE.badFrames,
      reason: "Too many invalid frames",
    });
    assert.equal(server.rt.hub.size, 0);
  }).finally(() => LIMITS_WS.closeQuietMs = saved);
});

function cookieOf(client: Client): string {
  return [...client.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
}

/** A raw socket past its hello ("resumed"). It never answers pings unless told to. */
async function rawHello(server: TestServer, client: Client): Promise<RawWs> {
  const raw = await RawWs.open(server.url("/ws"), {
    Cookie: cookieOf(client),
    Origin: server.origin,
  });
  await raw.sendText(JSON.stringify({ type: "hello", v: 1 }));
  for (;;) {
    const f = await raw.next();
    assert.ok(f, "open until resumed");
    if (f.opcode !== 1) continue;
    if ((JSON.parse(new TextDecoder().decode(f.data)) as ServerFrame).type === "resumed") {
      return raw;
    }
  }
}

/** Reads frames until the close frame (or the end); returns every opcode seen and the close code. */
async function readToClose(raw: RawWs, onFrame?: (f: RawFrame) => Promise<void>) {
  const seen: number[] = [];
  for (;;) {
    const f = await raw.next();
    if (!f) return { seen, code: null };
    seen.push(f.opcode);
    if (f.opcode === 8) return { seen, code: (f.data[0] << 8) | f.data[1] };
    await onFrame?.(f);
  }
}

Deno.test("liveness: a silent peer that never answers pings is closed by Deno (1001); frames from the peer are what counts", async () => {
  const saved = { ...LIMITS_WS };
  // Seconds instead of the production 30 s: a ping after 1 s of silence, the close 1 s later.
  Object.assign(LIMITS_WS, { pingIdleSec: 2 });
  const server = await startTestServer();
  try {
    const { client } = await signUp(server);
    const silent = await rawHello(server, client);
    const end = await readToClose(silent);
    assert.deepEqual(end, { seen: [9, 8], code: 1001 }, "one ping, then the close");
    silent.close();

    // Sending app pings but never a pong: every frame from the peer resets Deno's timer, so no
    // ping is even sent, and the socket stays open for as long as the peer keeps sending.
    const chatty = await rawHello(server, client);
    const seen = new Set<number>();
    const reader = readToClose(chatty, (f) => (seen.add(f.opcode), Promise.resolve()));
    for (let i = 0; i < 20; i++) {
      await chatty.sendText(JSON.stringify({ type: "ping", rid: `a${i}` }));
      await sleep(300);
    }
    assert.equal(server.rt.hub.size, 1, "still open after 3 × the idle timeout");
    assert.deepEqual([...seen], [1], "only text frames (pongs): Deno never pinged");
    chatty.close();
    await reader;
  } finally {
    Object.assign(LIMITS_WS, saved);
    await server.close();
  }
});

Deno.test("liveness: a peer that answers pings but sends no frame is closed by the app's idle timeout (4001)", async () => {
  const saved = { ...LIMITS_WS };
  // Deno pings after 2 s of silence and gives the pong 2 s; the app's close comes at 3–3.25 s,
  // between two pings. With 1 s for the pong (pingIdleSec 2) one CI run on a loaded machine
  // ended with no close frame at all (not reproduced since; a pong held back 1.2 s gets Deno's
  // own 1001 instead). The wider margins keep the app's close away from Deno's ping and close.
  Object.assign(LIMITS_WS, { pingIdleSec: 4, idleMs: 3000, sweepMs: 250 });
  const server = await startTestServer();
  try {
    const { client } = await signUp(server);
    const raw = await rawHello(server, client);
    let pings = 0;
    const end = await readToClose(raw, async (f) => {
      if (f.opcode !== 9) return;
      pings++;
      await raw.sendFrame({ opcode: 0xa, payload: f.data });
    });
    assert.equal(end.code, CLOSE.idle);
    assert.ok(pings >= 1, "Deno pinged and got its pongs");
    raw.close();
  } finally {
    Object.assign(LIMITS_WS, saved);
    await server.close();
  }
});
