/** Test support for the engine's unit tests: isolates on one in-memory KV, and groups by lane. */
import { Realtime } from "./realtime.ts";
import { createGroup } from "../chat/conversations.ts";
import { laneOf } from "./fan_event.ts";

type Timing = ConstructorParameters<typeof Realtime>[2];

/**
 * Runs `fn` with `n` isolates (Realtimes) started in order on one in-memory KV, each seeing it
 * through `view` (default: as it is) with its `timing`; stops them all and closes the KV after.
 */
export async function withIsolates(
  n: number,
  fn: (kv: Deno.Kv, rts: Realtime[]) => Promise<void>,
  opts: { timing?: (i: number) => Timing; view?: (kv: Deno.Kv, i: number) => Deno.Kv } = {},
): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  const rts: Realtime[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const rt = new Realtime(opts.view?.(kv, i) ?? kv, Date.now, opts.timing?.(i));
      rts.push(rt);
      await rt.start();
    }
    await fn(kv, rts);
  } finally {
    for (const rt of rts) await rt.stop();
    kv.close();
  }
}

/** Ids of `n` new groups of `owner` (with `members`) whose messages take lane `lane`. */
export async function groupsInLane(
  kv: Deno.Kv,
  n: number,
  lane = 0,
  owner = "owner",
  members: string[] = [],
): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) {
    const g = await createGroup(kv, owner, "g", members);
    if (laneOf(g.id) === lane) out.push(g.id);
  }
  return out;
}
