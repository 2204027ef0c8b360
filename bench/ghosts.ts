/**
 * Ghost connections (issue 7): sockets that say hello and vanish at random points of it, 15,000
 * by default, against an in-process server; prints what the server still holds afterwards, who
 * is still online, and memory before and after.
 *
 *   deno run -A --v8-flags=--expose-gc bench/ghosts.ts [count=15000] [users=10] [lanes=8] [modes]
 *
 * Users sign up over HTTP, 10 at most per address and hour; each runs `lanes` sockets at a time.
 */
import { startTestServer } from "../tests/helpers.ts";
import {
  type GhostMode,
  ghostUsers,
  runGhosts,
  settleLeftovers,
  stillOnline,
} from "../tests/ghosts.ts";
import { LIMITS_WS } from "../lib/realtime/conn.ts";

const [count = 15_000, nUsers = 10, lanes = 8] = Deno.args.slice(0, 3).map(Number);
/** Comma-separated ghost kinds (tests/ghosts.ts GHOST_MODES); all of them by default. */
const modes = Deno.args[3]?.split(",") as GhostMode[] | undefined;
// Upgrades whose client vanished are forgotten after this (10 s in production).
Object.assign(LIMITS_WS, { openDeadlineMs: 2000, sweepMs: 500 });
const gc = (globalThis as { gc?: () => void }).gc;
const mib = (n: number) => Math.round(n / 2 ** 20);
function memory() {
  gc?.();
  const m = Deno.memoryUsage();
  return { rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed) };
}

const server = await startTestServer();
try {
  const users = await ghostUsers(server, nUsers);
  const before = memory();
  const run = await runGhosts(server, users, count, {
    maxDelayMs: 25,
    lanes,
    modes,
    // deno-lint-ignore no-console
    progress: (done) => console.error(`${done} ghosts, ${server.rt.hub.size} sockets in the hub`),
  });
  const left = await settleLeftovers(server, 20_000);
  const online = await stillOnline(server, users);
  // Deno's idle-ping timer of a socket that ended in an error holds it for up to half the idle
  // timeout (pingIdleSec) after it closed; memory is measured after that.
  await new Promise((r) => setTimeout(r, LIMITS_WS.pingIdleSec * 500 + 1000));
  const after = memory();
  // deno-lint-ignore no-console
  console.log(JSON.stringify(
    {
      ...run,
      users: nUsers,
      lanes,
      modes: modes ?? "all",
      leftovers: left,
      stillOnline: online.length,
      memoryBefore: before,
      memoryAfter: after,
      gc: Boolean(gc),
    },
    null,
    2,
  ));
} finally {
  await server.close();
}
