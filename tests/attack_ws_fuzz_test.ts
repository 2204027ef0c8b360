/**
 * The WebSocket frame fuzzer (tests/fuzz/) in every test run: 10^4 frames by default (FUZZ_FRAMES
 * to change), a fixed seed (FUZZ_SEED to change) so that a failure repeats. `deno task fuzz` runs
 * 10^5 with a random seed.
 */
import assert from "node:assert/strict";
import { runFuzz } from "./fuzz/main.ts";

Deno.test("fuzzed, mutated and valid frames on many sockets with reconnects: every answer as documented, never internal, the server unharmed", async () => {
  const frames = Number(Deno.env.get("FUZZ_FRAMES") ?? 10_000);
  const seed = Number(Deno.env.get("FUZZ_SEED") ?? 20_260_507);
  const r = await runFuzz({ frames, seed });
  assert.equal(r.failure, null, `FUZZ_SEED=${seed} repeats this run\n${r.summary}\n${r.failure}`);
});
