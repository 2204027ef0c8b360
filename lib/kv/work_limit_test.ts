import assert from "node:assert/strict";
import { WorkLimit, WorkLimitFull } from "./work_limit.ts";

function gate() {
  let open!: () => void;
  const closed = new Promise<void>((r) => open = r);
  return { closed, open };
}

Deno.test("WorkLimit runs at most `slots` at once, queues `queue` more and refuses the rest at once", async () => {
  const limit = new WorkLimit(2, 3);
  const g = gate();
  let active = 0;
  let most = 0;
  const task = async () => {
    active++;
    most = Math.max(most, active);
    await g.closed;
    active--;
    return "done";
  };
  const admitted = Array.from({ length: 5 }, () => limit.run(task));
  assert.deepEqual(limit.load, { running: 2, waiting: 3 });
  assert.equal(limit.full, true);
  await assert.rejects(limit.run(task), WorkLimitFull);
  g.open();
  assert.deepEqual(await Promise.all(admitted), ["done", "done", "done", "done", "done"]);
  assert.equal(most, 2);
  assert.deepEqual(limit.load, { running: 0, waiting: 0 });
  assert.equal(limit.full, false);
});

Deno.test("WorkLimit frees the slot of a task that throws", async () => {
  const limit = new WorkLimit(1, 0);
  await assert.rejects(limit.run(() => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await limit.run(() => Promise.resolve(7)), 7);
  assert.deepEqual(limit.load, { running: 0, waiting: 0 });
});

Deno.test("WorkLimit starts queued tasks in the order they came", async () => {
  const limit = new WorkLimit(1, 10);
  const g = gate();
  const order: number[] = [];
  const first = limit.run(() => g.closed);
  const rest = [1, 2, 3, 4].map((n) =>
    limit.run(() => {
      order.push(n);
      return Promise.resolve();
    })
  );
  g.open();
  await Promise.all([first, ...rest]);
  assert.deepEqual(order, [1, 2, 3, 4]);
});
