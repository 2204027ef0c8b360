/**
 * A client that says hello and then stops reading, while a busy group keeps talking: the server
 * must bound what it holds for it, close it as a slow consumer and let the connection go, while
 * every other member keeps receiving every message in order.
 */
import assert from "node:assert/strict";
import { type Client, friendsGroup, signUp, startTestServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";
import { RawWs } from "./raw_ws.ts";
import { type Conn, LIMITS_WS } from "../lib/realtime/conn.ts";
import { CLOSE, MAX_TEXT_CHARS, type Message, type ServerFrame } from "../lib/wire/protocol.ts";
import { keys } from "../lib/kv/keys.ts";

/** How long a closed slow consumer may keep its connection: Deno's ping timeout plus slack. */
const RELEASE_MS = 35_000;

function cookieOf(client: Client): string {
  return [...client.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends into `conv` from one socket, under its frame limit, until `more()` says stop. */
async function produce(w: WsClient, name: string, conv: string, more: () => boolean) {
  const text = "汉".repeat(MAX_TEXT_CHARS); // 12 KB of UTF-8 per message
  let n = 0;
  while (more()) {
    const second = Math.floor(Date.now() / 1000);
    // Within what one socket may have queued (past it: "busy"), and under half the frame rate:
    // on a loaded machine the server may read the end of one round in the next second, beside
    // all of the next round (32 + 32 frames there would be closed as a flood, 4003).
    const burst = Math.min(Math.floor(LIMITS_WS.framesPerSec / 2), LIMITS_WS.queuePerSocket);
    for (let i = 0; i < burst; i++) w.send({ type: "send", conv, cid: `${name}-${n++}`, text });
    await w.next("ack", (f) => f.cid === `${name}-${n - 1}`, 15_000).catch((err) => {
      const errors = w.frames.filter((f) => f.type === "error");
      throw new Error(
        `${name}: no ack for its send ${n - 1}; closed: ${JSON.stringify(w.closed)}; errors: ${
          JSON.stringify(errors).slice(0, 300)
        }; ${(err as Error).message.slice(0, 80)}`,
      );
    });
    w.frames = w.frames.filter((f) => f.type !== "ack");
    while (Math.floor(Date.now() / 1000) === second) await sleep(10);
  }
  return n;
}

/** `msgs` are exactly the seqs after `from`, `count` of them, in order. */
function assertInOrder(msgs: Message[], from: number, count: number, who: string) {
  const seqs = msgs.map((m) => m.seq);
  assert.equal(seqs.length, count, `${who} got ${seqs.length} of ${count} messages`);
  assert.deepEqual(seqs, Array.from({ length: count }, (_, i) => from + 1 + i), `${who}: in order`);
}

Deno.test("a client that stops reading is bounded, closed as a slow consumer and let go; the rest of a busy group gets everything in order", async () => {
  const saved = { ...LIMITS_WS };
  // The send rate is not what this is about: let a few sockets make a busy conversation.
  LIMITS_WS.sendPerSec = 100_000;
  LIMITS_WS.sendBurst = 100_000;
  const server = await startTestServer();
  const open: WsClient[] = [];
  let raw: RawWs | null = null;
  try {
    const [slow, b, c, d] = [
      await signUp(server),
      await signUp(server),
      await signUp(server),
      await signUp(server),
    ];
    const group = (await friendsGroup(server, b.userId, "Busy", [slow.userId, c.userId, d.userId]))
      .id;
    const rawWs = raw = await RawWs.open(server.url("/ws"), {
      Cookie: cookieOf(slow.client),
      Origin: server.origin,
    });
    await rawWs.sendText(JSON.stringify({ type: "hello", v: 1 }));
    for (;;) {
      const f = await rawWs.next();
      assert.ok(f, "the slow client's socket ended during its hello");
      if (f.opcode === 1 && new TextDecoder().decode(f.data).includes('"resumed"')) break;
    }
    const conn = [...server.rt.conns].find((x) => x.userId === slow.userId) as Conn;
    assert.ok(conn);
    const reader = await WsClient.connect(server, d.client);
    open.push(reader);
    const producers: WsClient[] = [];
    for (const u of [b, c, b, c, b, c]) producers.push(await WsClient.connect(server, u.client));
    open.push(...producers);
    // From here on the slow client reads nothing. Poll what the server holds for it.
    let maxBuffered = 0;
    const poll = setInterval(() => maxBuffered = Math.max(maxBuffered, conn.ws.bufferedAmount), 2);
    const limit = RELEASE_MS + Date.now();
    let closedAt = 0;
    let after = 0;
    // Keep the group busy until the slow socket is dropped, and a batch per producer more.
    const more = () => {
      if (!closedAt && server.rt.hub.socketsOf(slow.userId) === 0) closedAt = Date.now();
      assert.ok(Date.now() < limit, "the slow consumer was never closed");
      return !closedAt || after++ < producers.length;
    };
    const head = async () =>
      (await server.kv.get<{ seq: number }>(keys.convHead(group))).value?.seq ?? 0;
    const start = await head();
    const sent = await Promise.all(producers.map((w, i) => produce(w, `p${i}`, group, more)));
    const total = sent.reduce((x, y) => x + y);
    assert.equal(await head(), start + total, "every send was stored");
    clearInterval(poll);
    const frameBytes = JSON.stringify({ type: "msg", msg: reader.msgs(group)[0] }).length * 3;
    assert.ok(
      maxBuffered <= LIMITS_WS.maxBuffered + frameBytes,
      `the server buffered ${maxBuffered} bytes for a client that reads nothing`,
    );

    // Everyone else: every message, once, in order, and no one else was dropped.
    for (const [i, w] of [reader, ...producers].entries()) {
      await w.waitMsgs(group, total, 15_000);
      assertInOrder(w.msgs(group), start, total, `reader ${i}`);
      assert.equal(w.closed, null, `reader ${i} was closed`);
    }

    // Not kept: the connection goes even though the client still reads nothing.
    while (server.rt.conns.has(conn) && Date.now() < closedAt + RELEASE_MS) await sleep(50);
    assert.ok(
      !server.rt.conns.has(conn),
      `${
        (Date.now() - closedAt) / 1000
      } s after closing a slow consumer (${CLOSE.slowConsumer}) the server still holds its connection, in state ${conn.ws.readyState}`,
    );

    // What did reach the client is in order; a close frame, if it came, says 4002.
    const got: Message[] = [];
    let code: number | null = null;
    for (let f = await rawWs.next(); f; f = await rawWs.next()) {
      if (f.opcode === 8) {
        code = (f.data[0] << 8) | f.data[1];
        break;
      }
      const frame = JSON.parse(new TextDecoder().decode(f.data)) as ServerFrame;
      if (frame.type === "msg") got.push(frame.msg);
    }
    assertInOrder(got, start, got.length, "the slow client");
    assert.ok(got.length < total, "the slow client missed something");
    if (code !== null) assert.equal(code, CLOSE.slowConsumer);
  } finally {
    Object.assign(LIMITS_WS, saved);
    raw?.close();
    await Promise.all(open.map((w) => w.close()));
    await server.close();
  }
});
