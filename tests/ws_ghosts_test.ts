/**
 * A socket closed at any point of its hello leaves nothing behind: not in the hub, not counted
 * online. GHOSTS sets how many sockets (2000 by default); bench/ghosts.ts runs 15,000.
 */
import assert from "node:assert/strict";
import { withServer } from "./helpers.ts";
import {
  GHOST_MODES,
  ghostUsers,
  leftovers,
  runGhosts,
  settleLeftovers,
  stillOnline,
} from "./ghosts.ts";
import { WsClient } from "./ws_client.ts";
import { LIMITS_WS } from "../lib/realtime/conn.ts";

const COUNT = Number(Deno.env.get("GHOSTS") ?? 2000);
// An upgrade whose client vanished never opens; the sweep forgets it after the open deadline.
// Shorter here so the test need not wait the production 10 s.
Object.assign(LIMITS_WS, { openDeadlineMs: 1000, sweepMs: 250 });

const zero = {
  sockets: 0,
  byUser: 0,
  byConv: 0,
  presenceSubs: 0,
  conns: 0,
  presenceLocal: 0,
};

Deno.test(`${COUNT} sockets that say hello and vanish at random points leave the hub empty and no one online`, async () => {
  await withServer(async (server) => {
    const users = await ghostUsers(server, 6);
    const run = await runGhosts(server, users, COUNT, { maxDelayMs: 25 });
    assert.equal(run.sockets, COUNT);
    assert.deepEqual(await settleLeftovers(server), zero);
    assert.deepEqual(await stillOnline(server, users), [], "no ghost is online");
    // The hub still works for a real socket afterwards, and forgets it when it goes.
    const w = await WsClient.connect(server, users[0].client);
    assert.equal(leftovers(server).sockets, 1);
    assert.deepEqual(await stillOnline(server, users.slice(1)), []);
    await w.close();
    assert.deepEqual(await settleLeftovers(server), zero);
  });
});

for (const mode of GHOST_MODES) {
  Deno.test(`ghosts of one kind ("${mode}"), closing right after hello, leave nothing`, async () => {
    await withServer(async (server) => {
      const users = await ghostUsers(server, 2);
      await runGhosts(server, users, Math.min(COUNT, 200), { modes: [mode], maxDelayMs: 5 });
      assert.deepEqual(await settleLeftovers(server), zero);
      assert.deepEqual(await stillOnline(server, users), []);
    });
  });
}
