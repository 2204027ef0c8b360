import assert from "node:assert/strict";
import fc from "fast-check";
import { WsMeter } from "./ws.ts";

/** A masked client frame as browsers send it. */
function frame(opcode: number, payload: number, fin = true): Uint8Array {
  const ext = payload < 126 ? 0 : payload < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + 4 + payload);
  out[0] = (fin ? 0x80 : 0) | opcode;
  out[1] = 0x80 | (ext === 0 ? payload : ext === 2 ? 126 : 127);
  if (ext === 2) out.set([payload >> 8, payload & 0xff], 2);
  if (ext === 8) new DataView(out.buffer).setUint32(6, payload);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

Deno.test("WsMeter: messages up to the cap pass, in any split of the byte stream", () => {
  const stream = concat([
    frame(1, 10),
    frame(9, 4), // ping
    frame(1, 300),
    frame(2, 1000, false),
    frame(10, 0), // pong between fragments
    frame(0, 24),
    frame(1, 1024),
  ]);
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 20 }),
      (cuts) => {
        const m = new WsMeter(1024);
        const points = [0, ...cuts.sort((a, b) => a - b), stream.length];
        for (let i = 1; i < points.length; i++) {
          assert.equal(m.feed(stream.subarray(points[i - 1], points[i])), true);
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("WsMeter: a frame or a fragmented message over the cap is refused from its header", () => {
  assert.equal(
    new WsMeter(1024).feed(frame(1, 1025).subarray(0, 8)),
    false,
    "known from the header",
  );
  const m = new WsMeter(1024);
  assert.equal(m.feed(frame(1, 600, false)), true);
  assert.equal(m.feed(frame(0, 425, true)), false, "600 + 425 > 1024");
  assert.equal(new WsMeter(1 << 20).feed(frame(2, 64 * 1024 * 1024 + 1).subarray(0, 14)), false);
  const huge = frame(2, 0);
  const h = new Uint8Array([0x82, 0xff, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]); // 2^56 bytes
  assert.equal(new WsMeter(1 << 20).feed(h), false);
  assert.equal(new WsMeter(10).feed(huge), true);
  const bigPing = new Uint8Array([0x89, 0x80 | 126, 0, 200, 1, 2, 3, 4]);
  assert.equal(new WsMeter(1 << 20).feed(bigPing), false, "control frames are at most 125 bytes");
});
