/** Reading the log with odd bounds: nothing below the floor, nothing past the head, never a throw. */
import assert from "node:assert/strict";
import { withKv } from "../kv/_test_kv.ts";
import { keys } from "../kv/keys.ts";
import { pageBefore, range } from "./history.ts";
import type { Message } from "../wire/protocol.ts";

async function seed(kv: Deno.Kv, conv: string, n: number): Promise<void> {
  for (let seq = 1; seq <= n; seq++) {
    const m: Message = {
      conv,
      seq,
      id: `m${seq}`,
      from: "u1",
      kind: "text",
      text: `t${seq}`,
      at: seq,
    };
    await kv.set(keys.msg(conv, seq), m);
  }
}

const seqs = (ms: Message[]) => ms.map((m) => m.seq);

Deno.test("pageBefore with `before` at or below the floor is an empty last page", async () => {
  await withKv(async (kv) => {
    await seed(kv, "c1", 10);
    for (const floor of [0, 4]) {
      for (const viewer of [undefined, "u1"]) {
        for (const before of [0, 1, floor, floor + 1]) {
          const page = await pageBefore(kv, "c1", before, 30, floor, viewer);
          assert.deepEqual(
            page,
            { messages: [], hasMore: false },
            `before ${before}, floor ${floor}`,
          );
        }
        const next = await pageBefore(kv, "c1", floor + 2, 30, floor, viewer);
        assert.deepEqual(seqs(next.messages), [floor + 1]);
        assert.equal(next.hasMore, false);
      }
    }
    const huge = await pageBefore(kv, "c1", Number.MAX_SAFE_INTEGER, 3, 0);
    assert.deepEqual(seqs(huge.messages), [8, 9, 10]);
    assert.equal(huge.hasMore, true);
  });
});

Deno.test("range with empty, inverted or huge bounds returns what exists and never throws", async () => {
  await withKv(async (kv) => {
    await seed(kv, "c1", 5);
    assert.deepEqual(await range(kv, "c1", 3, 3, 10), []);
    assert.deepEqual(await range(kv, "c1", 4, 2, 10), []);
    assert.deepEqual(await range(kv, "c1", 5, Number.MAX_SAFE_INTEGER, 10), []);
    assert.deepEqual(seqs(await range(kv, "c1", 0, Number.MAX_SAFE_INTEGER, 10)), [1, 2, 3, 4, 5]);
    assert.deepEqual(seqs(await range(kv, "c1", 2, 4, 10)), [3, 4]);
    assert.deepEqual(await range(kv, "c1", 0, 5, 0), []);
    assert.deepEqual(
      await range(kv, "c1", Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 10),
      [],
    );
  });
});
