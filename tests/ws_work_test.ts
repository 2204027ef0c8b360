/**
 * Work in flight is bounded per socket and per user: a flood of heavy requests from one user's
 * sockets runs at most LIMITS_WS.runPerUser at once, queues a little, refuses the rest (`busy`,
 * `rate_limited`), keeps memory flat and the server answering. FLOOD_SECONDS sets its length.
 */
import assert from "node:assert/strict";
import { signUp, startTestServer, type TestServer, withServer } from "./helpers.ts";
import { type FloodResult, floodSetup, historyFlood } from "./flood.ts";
import { RawWs } from "./raw_ws.ts";
import { LIMITS_WS } from "../lib/realtime/conn.ts";
import { addMember } from "../lib/groups/join.ts";
import { HISTORY_PAGE_MAX, type ServerFrame } from "../lib/wire/protocol.ts";

const SECONDS = Number(Deno.env.get("FLOOD_SECONDS") ?? 3);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * History requests per socket every 200 ms: 25 a second, far over the heavy-command rate and still
 * under the frame limit (60) when a loaded server reads two seconds' worth in one. The bench's 10
 * a tick (50 a second) would be closed as a flood then: found by reading, it never failed here.
 */
const PER_TICK = 5;

/** The bounds that hold whatever the rates: checked after every flood. */
async function checkBounds(server: TestServer, r: FloodResult, allowed: string[]) {
  const g = server.rt.hub.commands.get("history")!;
  assert.ok(g.total > 0, "some history reads ran");
  assert.ok(
    g.peak <= LIMITS_WS.runPerUser,
    `at most ${LIMITS_WS.runPerUser} history reads at once, saw ${g.peak}`,
  );
  assert.deepEqual(r.closed, {}, "no socket was closed: the flood stayed under the frame limit");
  assert.equal(r.unanswered, 0, "every request got an answer");
  for (const k of Object.keys(r.answers)) {
    assert.ok(["history", ...allowed].includes(k), `unexpected answer ${k}`);
  }
  assert.ok(r.healthz.n > 0 && r.healthz.failed === 0, `/healthz: ${JSON.stringify(r.healthz)}`);
  // Nothing starts for sockets that are gone.
  const until = Date.now() + 10_000;
  while ((server.rt.hub.size || g.now) && Date.now() < until) await sleep(20);
  assert.equal(server.rt.hub.size, 0);
  assert.equal(g.now, 0);
  const total = g.total;
  await sleep(300);
  assert.equal(g.total, total, "no history read started after the sockets closed");
}

Deno.test(`one user's 10 sockets flooding history for ${SECONDS} s: bounded work, memory growth under 200 MB, /healthz answers`, async () => {
  await withServer(async (server) => {
    const r = await historyFlood(server, await floodSetup(server), {
      seconds: SECONDS,
      perTick: PER_TICK,
    });
    await checkBounds(server, r, ["error:busy", "error:rate_limited"]);
    // The server's own memory (this isolate) stays within 200 MB; the process's RSS too, with
    // room for the other test modules that share this process when tests run in parallel.
    const mib = (n: number) => n.toFixed(0);
    assert.ok(
      r.isolatePeakMiB - r.isolateBeforeMiB < 200,
      `heap + external grew from ${mib(r.isolateBeforeMiB)} to ${mib(r.isolatePeakMiB)} MiB`,
    );
    assert.ok(
      r.rssPeakMiB - r.rssBeforeMiB < 400,
      `RSS grew from ${mib(r.rssBeforeMiB)} to ${mib(r.rssPeakMiB)} MiB`,
    );
  });
});

Deno.test("without the rate limit on heavy commands, the bounds on work in flight alone hold", async () => {
  const saved = { ...LIMITS_WS };
  Object.assign(LIMITS_WS, { heavyPerSec: Infinity, heavyBurst: Infinity });
  const server = await startTestServer();
  try {
    const r = await historyFlood(server, await floodSetup(server), {
      seconds: SECONDS,
      perTick: PER_TICK,
    });
    await checkBounds(server, r, ["error:busy"]);
  } finally {
    Object.assign(LIMITS_WS, saved);
    await server.close();
  }
});

Deno.test("one socket's burst: every request answered once, past the queue with busy and its rid", async () => {
  const saved = { ...LIMITS_WS };
  Object.assign(LIMITS_WS, { heavyBurst: Infinity });
  const server = await startTestServer();
  try {
    const setup = await floodSetup(server, 10);
    const raw = await RawWs.open(server.url("/ws"), {
      Cookie: [...setup.client.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
      Origin: server.origin,
    });
    await raw.sendText(JSON.stringify({ type: "hello", v: 1 }));
    const n = LIMITS_WS.framesPerSec - 5;
    for (let i = 0; i < n; i++) {
      await raw.sendText(JSON.stringify({ type: "receipts", rid: `r${i}`, conv: setup.conv }));
    }
    const answers = new Map<string, string[]>();
    while (answers.size < n) {
      const f = await raw.next();
      assert.ok(f && f.opcode === 1, "the socket stays open");
      const frame = JSON.parse(new TextDecoder().decode(f.data)) as ServerFrame;
      if (frame.type !== "receipts" && frame.type !== "error") continue;
      const got = answers.get(frame.rid!) ?? [];
      answers.set(frame.rid!, [...got, frame.type === "error" ? frame.code : frame.type]);
    }
    const codes = [...answers.values()];
    assert.ok(codes.every((c) => c.length === 1), "one answer each");
    const busy = codes.filter(([c]) => c === "busy").length;
    // One runs (a socket runs one heavy command at a time) and the queue holds the next ones.
    assert.ok(busy >= 1 && busy <= n - 1 - LIMITS_WS.queuePerSocket, `${busy} refused`);
    assert.equal(codes.filter(([c]) => c === "receipts").length, n - busy);
    raw.close();
  } finally {
    Object.assign(LIMITS_WS, saved);
    await server.close();
  }
});

Deno.test("heavy commands wait for a socket that does not read: busy instead of more to send", async () => {
  const saved = { ...LIMITS_WS };
  // The slow-consumer close is not what this is about: only the heavy-command threshold acts.
  Object.assign(LIMITS_WS, { heavyMaxBuffered: 256 * 1024, maxBuffered: 1024 ** 3 });
  // Without the connection guard: its relay's two loopback sockets would buffer megabytes more
  // before this server's own send buffer fills, which is what this test is about.
  const server = await startTestServer({ env: { CONN_GUARD: "0" } });
  try {
    const setup = await floodSetup(server, 60);
    const b = await signUp(server);
    await addMember(server.rt, setup.conv, b.userId, setup.userId);
    const raw = await RawWs.open(server.url("/ws"), {
      Cookie: [...setup.client.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
      Origin: server.origin,
    });
    await raw.sendText(JSON.stringify({ type: "hello", v: 1 }));
    // Not reading: the kernel's buffers fill first, then the server's send buffer.
    const n = 25;
    for (let i = 0; i < n; i++) {
      await raw.sendText(JSON.stringify({
        type: "history",
        rid: `h${i}`,
        conv: setup.conv,
        limit: HISTORY_PAGE_MAX,
      }));
      await sleep(40);
    }
    await raw.sendText(JSON.stringify({ type: "ping", rid: "last" }));
    const answers = new Map<string, string>();
    for (;;) {
      const f = await raw.next();
      assert.ok(f && f.opcode === 1, "the socket stays open");
      const frame = JSON.parse(new TextDecoder().decode(f.data)) as ServerFrame;
      if (frame.type === "history") answers.set(frame.rid!, "history");
      if (frame.type === "error") answers.set(frame.rid!, frame.code);
      if (frame.type === "pong") break;
    }
    assert.equal(answers.size, n, "each request answered once");
    const codes = [...answers.values()];
    assert.ok(codes.includes("busy"), `some were refused: ${codes}`);
    assert.ok(codes.every((c) => c === "history" || c === "busy"));
    raw.close();
  } finally {
    Object.assign(LIMITS_WS, saved);
    await server.close();
  }
});
