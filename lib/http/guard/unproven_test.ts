import assert from "node:assert/strict";
import { UnprovenIndex } from "./unproven.ts";

type C = { bucket: string; id: number };
const conn = (bucket: string, id: number): C => ({ bucket, id });

Deno.test("the heaviest bucket loses its oldest first; a lone client is taken last", () => {
  const ix = new UnprovenIndex<C>();
  const flood = Array.from({ length: 30 }, (_, i) => conn(`203.0.113.${i % 3}`, i + 1));
  for (const c of flood) ix.add(c);
  const lone = conn("10.0.0.1", 0); // a real client whose head has not been read yet
  ix.add(lone);
  assert.equal(ix.size, 31);
  const shed: C[] = [];
  for (let i = 0; i < 30; i++) {
    const t = ix.oldest(null)!;
    ix.delete(t);
    shed.push(t);
  }
  assert.equal(shed.includes(lone), false);
  assert.equal(new Set(shed).size, 30);
  // Heaviest first: the flood's addresses went down together, then (one each) oldest first.
  assert.deepEqual(shed.slice(-3).map((c) => c.id), [28, 29, 30]);
  assert.equal(ix.oldest(null), lone);
  assert.equal(ix.size, 1);
});

Deno.test("one bucket's oldest, counts, and a delete of what is not there", () => {
  const ix = new UnprovenIndex<C>();
  const a = [conn("a", 1), conn("a", 2), conn("b", 3)];
  for (const c of a) ix.add(c);
  ix.add(a[0]); // twice counts once
  assert.equal(ix.count("a"), 2);
  assert.equal(ix.oldest("a"), a[0]);
  assert.equal(ix.oldest("b"), a[2]);
  assert.equal(ix.oldest("c"), undefined);
  assert.equal(ix.delete(conn("a", 9)), false);
  assert.equal(ix.delete(a[0]), true);
  assert.equal(ix.delete(a[0]), false);
  assert.equal(ix.oldest("a"), a[1]);
  // Now a and b hold one each: the oldest of all goes first.
  assert.equal(ix.oldest(null), a[1]);
  ix.delete(a[1]);
  ix.delete(a[2]);
  assert.equal(ix.size, 0);
  assert.equal(ix.oldest(null), undefined);
});
