/**
 * One user piling up work: every socket they may open asks for pages of 100 large messages as
 * fast as the frame limit allows. Shared by tests/ws_work_test.ts and bench/history_flood.ts; the client
 * is tests/flood_client.ts.
 */
import { type Client, friendsGroup, signUp, type TestServer } from "./helpers.ts";
import { MAX_SOCKETS_PER_USER } from "../routes/ws.ts";
import { HISTORY_PAGE_MAX, MAX_TEXT_CHARS } from "../lib/wire/protocol.ts";
import type { FloodAnswers, FloodPlan } from "./flood_client.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FloodSetup {
  client: Client;
  userId: string;
  conv: string;
  messages: number;
}

/** A user in a group holding `messages` messages of the longest Chinese text. */
export async function floodSetup(server: TestServer, messages = 120): Promise<FloodSetup> {
  const a = await signUp(server);
  const b = await signUp(server);
  const conv = (await friendsGroup(server, a.userId, "Big", [b.userId])).id;
  const text = "长".repeat(MAX_TEXT_CHARS);
  for (let i = 0; i < messages; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, messages - i) }, (_, k) =>
        server.rt.log.append({
          conv,
          sender: b.userId,
          cid: `big${i + k}`,
          kind: "text",
          text,
          checkMember: true,
        })),
    );
  }
  return { client: a.client, userId: a.userId, conv, messages };
}

export interface FloodResult extends FloodAnswers {
  sockets: number;
  /** The server's RSS (this process) before and at most during the flood. */
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /**
   * This isolate's V8 heap plus external buffers, before and at most. Unlike RSS, other test
   * modules running in the same process (deno test --parallel) do not count here.
   */
  isolateBeforeMiB: number;
  isolatePeakMiB: number;
  healthz: { n: number; failed: number; maxMs: number };
  seconds: number;
}

/**
 * Floods for `seconds` from a separate process (tests/flood_client.ts): each socket sends
 * `perTick` history requests every 200 ms (50 a second by default, under the 60 frames a second
 * that close a socket), then waits (bounded) for the answers. Meanwhile this process samples its
 * own RSS, probes /healthz and calls `onTick` every 100 ms.
 */
export async function historyFlood(
  server: TestServer,
  setup: FloodSetup,
  opts: { seconds?: number; perTick?: number; sockets?: number; onTick?: () => void } = {},
): Promise<FloodResult> {
  const plan: FloodPlan = {
    url: server.url("/ws").replace(/^http/, "ws"),
    cookie: [...setup.client.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
    origin: server.origin,
    conv: setup.conv,
    sockets: opts.sockets ?? MAX_SOCKETS_PER_USER,
    seconds: opts.seconds ?? 3,
    perTick: opts.perTick ?? 10,
    limit: HISTORY_PAGE_MAX,
  };
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      new URL("./flood_client.ts", import.meta.url).pathname,
      JSON.stringify(plan),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const m0 = Deno.memoryUsage();
  const rssBefore = m0.rss;
  const isolateBefore = m0.heapTotal + m0.external;
  let rssPeak = rssBefore;
  let isolatePeak = isolateBefore;
  const health = { n: 0, failed: 0, maxMs: 0 };
  let running = true;
  const t0 = performance.now();
  const sampler = (async () => {
    while (running) {
      const m = Deno.memoryUsage();
      rssPeak = Math.max(rssPeak, m.rss);
      isolatePeak = Math.max(isolatePeak, m.heapTotal + m.external);
      opts.onTick?.();
      await sleep(100);
    }
  })();
  const prober = (async () => {
    while (running) {
      const t = performance.now();
      const res = await fetch(server.url("/healthz")).catch(() => null);
      await res?.body?.cancel();
      health.n++;
      if (res?.status !== 200) health.failed++;
      health.maxMs = Math.max(health.maxMs, performance.now() - t);
      await sleep(250);
    }
  })();
  const out = await child.output();
  running = false;
  await Promise.all([sampler, prober]);
  if (!out.success) throw new Error(`The flood client failed (exit ${out.code})`);
  const answers = JSON.parse(new TextDecoder().decode(out.stdout)) as FloodAnswers;
  return {
    ...answers,
    sockets: plan.sockets,
    rssBeforeMiB: rssBefore / 2 ** 20,
    rssPeakMiB: rssPeak / 2 ** 20,
    isolateBeforeMiB: isolateBefore / 2 ** 20,
    isolatePeakMiB: isolatePeak / 2 ** 20,
    healthz: health,
    seconds: (performance.now() - t0) / 1000,
  };
}
