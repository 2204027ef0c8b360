/**
 * Fan-out across isolates: the real server process with WORKERS=2 (two isolates on one port and
 * one KV file). Two users whose sockets landed on different isolates chat in realtime; delivery
 * between them can only go through the KV fan-out log and `watch`.
 */
import assert from "node:assert/strict";
import { signUpOver, spawnServer } from "./process_server.ts";
import type { Client, TestServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";
import { ensureDm } from "../lib/chat/conversations.ts";
import { keys } from "../lib/kv/keys.ts";

/** Opens sockets for `client` until one lands on an isolate other than `avoid` (or on any). */
async function connectOn(server: TestServer, client: Client, want: (isolate: string) => boolean) {
  for (let i = 0; i < 40; i++) {
    const ws = await WsClient.open(server, client);
    ws.send({ type: "hello", v: 1 });
    const welcome = await ws.next("welcome");
    await ws.next("resumed");
    if (want(welcome.isolate)) return { ws, isolate: welcome.isolate };
    await ws.close();
  }
  throw new Error("could not reach the other isolate in 40 connections");
}

Deno.test("with two isolates, users on different isolates chat in realtime through KV watch", async () => {
  const file = `data/test-parallel-${crypto.randomUUID()}.sqlite3`;
  const proc = await spawnServer({ WORKERS: "2", DENO_KV_PATH: `./${file}` });
  try {
    const server = proc.asTestServer();
    const a = await signUpOver(server, "par");
    const b = await signUpOver(server, "par");
    const kv = await Deno.openKv(file);
    const conv = await ensureDm(kv, a.userId, b.userId);
    // Friends, so that the DM is open for sending (written directly: this process is not the server).
    for (const [x, y] of [[a.userId, b.userId], [b.userId, a.userId]]) {
      await kv.set(keys.friend(x, y), { since: Date.now(), remark: "", dm: conv.id });
    }
    kv.close();
    const wa = await connectOn(server, a.client, () => true);
    const wb = await connectOn(server, b.client, (iso) => iso !== wa.isolate);
    assert.notEqual(wa.isolate, wb.isolate);
    for (let i = 1; i <= 5; i++) {
      wa.ws.send({ type: "send", conv: conv.id, cid: `a${i}`, text: `from a ${i}` });
      wb.ws.send({ type: "send", conv: conv.id, cid: `b${i}`, text: `from b ${i}` });
    }
    const [ga, gb] = await Promise.all([
      wa.ws.waitMsgs(conv.id, 10, 5000),
      wb.ws.waitMsgs(conv.id, 10, 5000),
    ]);
    assert.deepEqual(ga.map((m) => m.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(
      gb.map((m) => m.id),
      ga.map((m) => m.id),
      "both isolates deliver the same order",
    );
    // Typing and read receipts cross isolates too.
    wb.ws.send({ type: "typing", conv: conv.id });
    assert.equal((await wa.ws.next("typing")).user, b.userId);
    wa.ws.send({ type: "send", conv: conv.id, cid: "a6", text: "read me" });
    await wb.ws.next("msg", (f) => f.msg.seq === 11);
    wb.ws.send({ type: "read", conv: conv.id, seq: 11 });
    assert.equal((await wa.ws.next("read", (f) => f.user === b.userId)).seq, 11);
    assert.doesNotMatch(proc.logs(), /"level":"error"/, "no errors logged");
    await Promise.all([wa.ws.close(), wb.ws.close()]);
  } finally {
    assert.equal(await proc.stop(), 0);
    for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(file + suffix).catch(() => {});
  }
});
