/**
 * The history flood of issue 7, in-process: one user's 10 sockets ask for pages of 100 of the
 * longest Chinese messages as fast as the frame limit allows; prints what the server ran at once,
 * the answers, RSS and /healthz latency.
 *
 *   deno run -A bench/history_flood.ts [seconds=10] [--no-rate] [--unbounded]
 *
 * --no-rate lifts the per-user rate of heavy commands, leaving the bounds on work in flight alone
 * to hold; --unbounded lifts those too (what the server did before them), for comparison.
 */
import { startTestServer } from "../tests/helpers.ts";
import { floodSetup, historyFlood } from "../tests/flood.ts";
import { LIMITS_WS } from "../lib/realtime/conn.ts";

const seconds = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 10);
if (Deno.args.includes("--no-rate") || Deno.args.includes("--unbounded")) {
  Object.assign(LIMITS_WS, { heavyPerSec: Infinity, heavyBurst: Infinity });
}
if (Deno.args.includes("--unbounded")) {
  Object.assign(LIMITS_WS, {
    runPerSocket: Infinity,
    runPerUser: Infinity,
    queuePerSocket: Infinity,
    heavyMaxBuffered: Infinity,
  });
}
const server = await startTestServer();
try {
  const setup = await floodSetup(server);
  const r = await historyFlood(server, setup, { seconds });
  const g = server.rt.hub.commands.get("history");
  const out = {
    limits: {
      runPerSocket: LIMITS_WS.runPerSocket,
      runPerUser: LIMITS_WS.runPerUser,
      queuePerSocket: LIMITS_WS.queuePerSocket,
      heavyPerSec: LIMITS_WS.heavyPerSec,
    },
    ...r,
    historyRunningPeak: g?.peak,
    historyReads: g?.total,
    rssGrowthMiB: Math.round(r.rssPeakMiB - r.rssBeforeMiB),
  };
  // deno-lint-ignore no-console
  console.log(JSON.stringify(out, null, 2));
} finally {
  await server.close();
}
