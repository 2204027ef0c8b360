/**
 * The WebSocket frame fuzzer: several sockets of three users send seeded streams of valid,
 * mutated and junk frames, with reconnects, to a real server; every answer is checked as it
 * arrives (socket.ts). Each socket sends in batches that stay under the per-second frame limit
 * (flooding is tested elsewhere), each batch ending with a ping and waiting for every answer.
 */
import fc from "fast-check";
import { LIMITS_WS } from "../../lib/realtime/conn.ts";
import { action } from "./frames.ts";
import type { Action } from "./symbols.ts";
import { render } from "./render.ts";
import { FuzzSocket } from "./socket.ts";
import type { World } from "./world.ts";

const ANSWER_MS = 20_000;

/** A socket's own action stream: a pure function of the seed and the socket's number. */
function* actions(seed: number, index: number): Generator<Action> {
  for (let chunk = 0;; chunk++) {
    const s = (seed ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(chunk + 1, 0x85ebca6b)) | 0;
    yield* fc.sample(action, { seed: s, numRuns: 200 });
  }
}

async function until(
  what: () => string,
  cond: () => boolean,
  world: World,
  ms = ANSWER_MS,
): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && !world.failure) {
    if (Date.now() > end) {
      world.fail(`timed out after ${ms} ms waiting for ${what()}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Sends one action's frame; returns false when the socket is about to close. */
function sendAction(s: FuzzSocket, act: Action): boolean | "deferred" {
  if (act.a === "binary") s.sendBinary(act.data);
  else {
    const text = act.a === "text"
      ? act.data
      : render((act as { body: unknown }).body, s.renderCtx());
    if (s.sendText(text) === "deferred") return "deferred";
  }
  return s.expectClose === null;
}

/** Closes (or, when predicted, waits for the server's close) and opens a fresh connection. */
async function reconnect(s: FuzzSocket, world: World, act?: Extract<Action, { a: "reconnect" }>) {
  if (s.expectClose !== null) {
    await s.waitClose(ANSWER_MS).catch((err) =>
      world.fail(`${(err as Error).message}: predicted ${s.expectClose}`)
    );
  } else await s.close();
  world.stats.reconnects++;
  if (act?.dropInHello) {
    // A connection that goes away while its hello is still being served must leave nothing.
    await s.connect();
    s.sendText(JSON.stringify({ type: "hello", v: 1 }));
    await s.close();
  }
  await s.connect();
  for (const pre of act ? [...act.pre, { a: "frame" as const, body: act.hello }] : []) {
    if (sendAction(s, pre) === false) return await reconnect(s, world);
  }
  if (!s.helloSent) s.sendText(JSON.stringify({ type: "hello", v: 1 }));
  if (s.expectClose !== null) return await reconnect(s, world);
}

/** Runs `budget` frames on one socket. */
export async function driveSocket(
  s: FuzzSocket,
  world: World,
  seed: number,
  index: number,
  budget: number,
) {
  const stream = actions(seed, index);
  // Never more than the limit in one second on one connection, with room for a reconnect's
  // frames (up to three before the hello, the hello, a second one) and the barrier ping.
  const perBatch = LIMITS_WS.framesPerSec - 8;
  let deferred: Action[] = [];
  await reconnect(s, world);
  while (s.frames < budget && !world.failure) {
    const later: Action[] = [];
    for (let n = 0; n < perBatch && !world.failure; n++) {
      const act = deferred.shift() ?? stream.next().value as Action;
      // A new connection has a frame counter of its own: the batch goes on there.
      if (act.a === "reconnect") {
        await settle(s, world);
        await reconnect(s, world, act);
        continue;
      }
      if (act.a === "burst") {
        // A batch of its own: its frames come one right after the other.
        if (n > 0) {
          deferred.unshift(act);
          break;
        }
        // Its frames are all valid (no close to expect) and fewer than a batch holds.
        for (const body of act.frames) {
          const f: Action = { a: "frame", body };
          if (sendAction(s, f) === "deferred") later.push(f);
        }
        break;
      }
      const r = sendAction(s, act);
      if (r === "deferred") later.push(act);
      if (r === false) await reconnect(s, world);
    }
    deferred = [...deferred, ...later];
    await settle(s, world);
    // The next batch starts in a new second of the server's frame counter.
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
  }
}

/** Ends a batch: a ping whose pong proves every frame before it was read, then every answer. */
async function settle(s: FuzzSocket, world: World) {
  if (s.expectClose !== null || s.closed) return;
  s.sendText(JSON.stringify({ type: "ping", rid: "barrier" }));
  await until(
    () => `the answers on ${s.name}: ${s.owedList()}`,
    () => s.owed() === 0 || s.closed !== null,
    world,
  );
  // Every frame has its answer: the rid-less errors held belong to the frames still open.
  if (s.owed() === 0) s.anon.settle();
}

export async function runSockets(
  world: World,
  opts: { frames: number; seed: number; perUser: number },
) {
  const sockets = world.users.flatMap((u) =>
    Array.from({ length: opts.perUser }, (_, i) => new FuzzSocket(world, u, `${u.name}${i}`))
  );
  const budget = Math.ceil(opts.frames / sockets.length);
  await Promise.all(sockets.map((s, i) => driveSocket(s, world, opts.seed, i, budget)));
  await Promise.all(sockets.map((s) => s.close().catch((err) => world.fail(String(err)))));
  return sockets;
}
