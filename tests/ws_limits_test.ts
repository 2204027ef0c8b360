/** The protections of /ws: send rate, sockets per user, slow consumers, graceful shutdown. */
import assert from "node:assert/strict";
import {
  Client,
  friendsDm,
  friendsGroup,
  signUp,
  startTestServer,
  type TestServer,
  withServer,
} from "./helpers.ts";
import { WsClient } from "./ws_client.ts";
import { RawWs } from "./raw_ws.ts";
import { LIMITS_WS } from "../lib/realtime/conn.ts";
import { MAX_SOCKETS_PER_USER } from "../routes/ws.ts";
import {
  CLOSE,
  MAX_TEXT_CHARS,
  type Message,
  RESUME_MAX_PER_CONV,
  type ServerFrame,
} from "../lib/wire/protocol.ts";

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

function cookieOf(client: Client): string {
  return [...client.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
}

async function storedCount(server: TestServer, conv: string): Promise<number> {
  let n = 0;
  for await (const _ of server.kv.list({ prefix: ["msg", conv] })) n++;
  return n;
}

/** The ack or the error that answers the send with `cid` (taken off the socket's frames). */
async function answerTo(
  w: WsClient,
  cid: string,
): Promise<Extract<ServerFrame, { type: "ack" | "error" }>> {
  const match = (f: ServerFrame) => (f.type === "ack" || f.type === "error") && f.cid === cid;
  await until(() => w.frames.some(match), `an answer to "${cid}"`);
  const i = w.frames.findIndex(match);
  return w.frames.splice(i, 1)[0] as Extract<ServerFrame, { type: "ack" | "error" }>;
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await settle(10);
  }
}

Deno.test("sending past the per-user rate gets rate_limited, across all the user's tabs, and stores nothing extra", async () => {
  let frozen: number | null = null;
  await withServer({ now: () => frozen ?? Date.now() }, async (server) => {
    const [a, b] = [await signUp(server), await signUp(server)];
    const dm = (await friendsDm(server, a.userId, b.userId)).id;
    const tabs = [
      await WsClient.connect(server, a.client),
      await WsClient.connect(server, a.client),
    ];
    // Stop the server's clock: no tokens come back while the burst is spent.
    frozen = Date.now();
    const burst = LIMITS_WS.sendBurst;
    for (let i = 0; i < burst + 10; i++) {
      tabs[i % 2].send({ type: "send", conv: dm, cid: `r${i}`, text: `m${i}` });
    }
    const answers = await Promise.all(
      Array.from({ length: burst + 10 }, (_, i) => answerTo(tabs[i % 2], `r${i}`)),
    );
    const limited = answers.filter((f) => f.type === "error");
    assert.equal(
      answers.length - limited.length,
      burst,
      "one bucket for the user, not one per tab",
    );
    assert.ok(limited.every((f) => f.type === "error" && f.code === "rate_limited"));
    assert.equal(await storedCount(server, dm), burst, "a refused send stores nothing");
    // One second later, the rate's worth of tokens is back.
    frozen += 1000;
    for (let i = 0; i < LIMITS_WS.sendPerSec + 2; i++) {
      tabs[0].send({ type: "send", conv: dm, cid: `s${i}`, text: `s${i}` });
    }
    const later = await Promise.all(
      Array.from({ length: LIMITS_WS.sendPerSec + 2 }, (_, i) => answerTo(tabs[0], `s${i}`)),
    );
    assert.equal(later.filter((f) => f.type === "ack").length, LIMITS_WS.sendPerSec);
    assert.equal(await storedCount(server, dm), burst + LIMITS_WS.sendPerSec);
    await Promise.all(tabs.map((t) => t.close()));
  });
});

Deno.test(`a user's ${MAX_SOCKETS_PER_USER + 1}th socket is refused; closing one makes room; other users are unaffected`, async () => {
  await withServer(async (server) => {
    const [a, b] = [await signUp(server), await signUp(server)];
    const open: WsClient[] = [];
    for (let i = 0; i < MAX_SOCKETS_PER_USER; i++) open.push(await WsClient.open(server, a.client));
    await assert.rejects(WsClient.open(server, a.client));
    const refused = await RawWs.open(server.url("/ws"), {
      Cookie: cookieOf(a.client),
      Origin: server.origin,
    }).catch((e) => e as Error);
    assert.match(String(refused), /Upgrade refused: HTTP\/1.1 429/);
    const other = await WsClient.connect(server, b.client);
    await open.shift()!.close();
    await until(
      () => server.rt.hub.socketsOf(a.userId) < MAX_SOCKETS_PER_USER,
      "the closed socket to be dropped",
    );
    open.push(await WsClient.connect(server, a.client));
    await Promise.all([...open, other].map((w) => w.close()));
  });
});

/** Reads a raw socket's frames up to and including "resumed"; returns its messages. */
async function readUntil(
  raw: RawWs,
  stop: (f: ServerFrame) => boolean,
  msgs: Message[],
): Promise<number | null> {
  for (;;) {
    const f = await raw.next();
    if (!f) return null;
    if (f.opcode === 8) return (f.data[0] << 8) | f.data[1];
    if (f.opcode !== 1) continue;
    const frame = JSON.parse(new TextDecoder().decode(f.data)) as ServerFrame;
    if (frame.type === "msg") msgs.push(frame.msg);
    if (stop(frame)) return 0;
  }
}

Deno.test("a socket that stops reading is closed as a slow consumer; a reading tab is not; resuming gets every message once", async () => {
  const saved = { ...LIMITS_WS };
  // Smaller than the default so that the kernel's buffers plus this fill in a few MB.
  LIMITS_WS.maxBuffered = 2 * 1024 * 1024;
  // Without the connection guard: its relay's loopback sockets would take megabytes more before
  // this server's own send buffer fills (tests/attack_slow_client_test.ts runs through it).
  const server = await startTestServer({ env: { CONN_GUARD: "0" } });
  try {
    const [a, b] = [await signUp(server), await signUp(server)];
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) {
      groups.push((await friendsGroup(server, b.userId, `G${i}`, [a.userId])).id);
    }
    const reading = await WsClient.connect(server, a.client);
    const raw = await RawWs.open(server.url("/ws"), {
      Cookie: cookieOf(a.client),
      Origin: server.origin,
    });
    await raw.sendText(JSON.stringify({ type: "hello", v: 1 }));
    const got: Message[] = [];
    assert.equal(await readUntil(raw, (f) => f.type === "resumed", got), 0);
    // The raw client stops reading. Flood until the server gives up on it (the kernel's buffers
    // take a few MB first), staying under the resume bound per conversation.
    const text = "汉".repeat(MAX_TEXT_CHARS);
    let per = 0;
    while (server.rt.hub.socketsOf(a.userId) === 2) {
      assert.ok(per < RESUME_MAX_PER_CONV - 10, "the slow socket was never dropped");
      await Promise.all(
        groups.flatMap((id) =>
          Array.from({ length: 10 }, (_, i) =>
            server.rt.log.append({
              conv: id,
              sender: b.userId,
              cid: `f${per + i}`,
              kind: "text",
              text,
              checkMember: true,
            }))
        ),
      );
      per += 10;
      // A reading tab keeps up: it has this round before the next one starts. (The test's
      // client shares one event loop with the server, so without this pause a busy machine
      // can starve the reading tab too, which is a slow consumer of its own.)
      for (const id of groups) await reading.waitMsgs(id, per, 20_000);
    }
    // Reading again drains what was already on its way, then the close frame.
    assert.equal(await readUntil(raw, () => false, got), CLOSE.slowConsumer);
    raw.close();
    const resume: Record<string, number> = {};
    // Each group's seq 1 is its "created" message, from before the sockets: the flood is 2..last.
    const last = per + 1;
    for (const id of groups) {
      const seqs = got.filter((m) => m.conv === id).map((m) => m.seq);
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => i + 2),
        "what arrived arrived in order, without holes",
      );
      resume[id] = 1 + seqs.length;
    }
    assert.ok(Object.values(resume).some((n) => n < last), "the slow socket missed something");
    // The bound did its job; the resume below may send a lot at once.
    LIMITS_WS.maxBuffered = saved.maxBuffered * 16;
    const back = await WsClient.connect(server, a.client, resume);
    // Generous waits: the whole suite runs in parallel on two cores, and this is megabytes of text.
    for (const id of groups) await back.waitMsgs(id, last - resume[id], 20_000);
    // Every group, not only the last: the flood appends to the groups in parallel, so the last
    // group's messages can reach the reading tab before another group's.
    for (const id of groups) await reading.waitMsgs(id, per, 20_000);
    await settle();
    const floodSeqs = Array.from({ length: per }, (_, i) => i + 2);
    for (const id of groups) {
      const all = [...got.filter((m) => m.conv === id), ...back.msgs(id)].map((m) => m.seq);
      assert.deepEqual(all, floodSeqs, "every message exactly once");
      assert.deepEqual(
        reading.msgs(id).map((m) => m.seq),
        floodSeqs,
        "the reading tab got everything, in order",
      );
    }
    assert.equal(reading.closed, null, "a tab that reads is not a slow consumer");
    await Promise.all([back.close(), reading.close()]);
  } finally {
    Object.assign(LIMITS_WS, saved);
    await server.close();
  }
});

Deno.test("shutdown closes sockets with 4000 and every acked message is in history after a restart on the same KV", async () => {
  const dir = await Deno.makeTempDir();
  const env = { DENO_KV_PATH: `${dir}/kv.sqlite3` };
  let server = await startTestServer({ env });
  try {
    const [a, b] = [await signUp(server), await signUp(server)];
    const dm = (await friendsDm(server, a.userId, b.userId)).id;
    const [wa, wb] = [
      await WsClient.connect(server, a.client),
      await WsClient.connect(server, b.client),
    ];
    const acked = new Map<string, { seq: number; id: string }>();
    wa.ws.addEventListener("message", (e) => {
      const f = JSON.parse(e.data) as ServerFrame;
      if (f.type === "ack") acked.set(f.cid, { seq: f.seq, id: f.id });
    });
    // Sends are still in flight when the server stops.
    for (let i = 0; i < 25; i++) {
      wa.send({ type: "send", conv: dm, cid: `k${i}`, text: `kept ${i}` });
      if (i === 5) await wa.next("ack", (f) => f.cid === "k5");
    }
    const closing = server.close();
    assert.equal((await wa.waitClose()).code, CLOSE.shutdown);
    assert.equal((await wb.waitClose()).code, CLOSE.shutdown);
    await closing;
    assert.ok(acked.size >= 6, `acks before the close: ${acked.size}`);

    server = await startTestServer({ env });
    const again = new Client(server);
    again.cookies = new Map(a.client.cookies);
    const w = await WsClient.connect(server, again);
    w.send({ type: "history", conv: dm, limit: 100 });
    const h = await w.next("history");
    const stored = new Map(h.messages.map((m) => [m.cid!, { seq: m.seq, id: m.id }]));
    for (const [cid, ack] of acked) {
      assert.deepEqual(stored.get(cid), ack, `acked "${cid}" survived the restart`);
    }
    assert.deepEqual(
      h.messages.map((m) => m.seq),
      h.messages.map((_, i) => i + 1),
      "no holes, no duplicates",
    );
    await w.close();
  } finally {
    await server.close().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
