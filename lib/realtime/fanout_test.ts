/**
 * Fan-out across isolates on one KV: each isolate writes only its own streams, follows the
 * others' from the registry, reads out a dead one's stream and lets it go, and answers a retried
 * client id from any isolate with the first ack.
 */
import assert from "node:assert/strict";
import { Realtime } from "./realtime.ts";
import { createGroup, ensureDm } from "../chat/conversations.ts";
import { keys } from "../kv/keys.ts";
import { textMessage } from "../chat/send_rules.ts";
import type { FanEvent } from "./fan_event.ts";
import { groupsInLane, withIsolates } from "./_fixture.ts";

const FAST = { ttlMs: 400, heartbeatMs: 100, refreshMs: 50 };

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** What one isolate's hub is handed (messages by conversation). */
function tap(rt: Realtime): Map<string, number[]> {
  const got = new Map<string, number[]>();
  const dispatch = rt.hub.dispatch.bind(rt.hub);
  rt.hub.dispatch = (ev: FanEvent) => {
    if (ev.t === "msg") got.set(ev.msg.conv, [...(got.get(ev.msg.conv) ?? []), ev.msg.seq]);
    dispatch(ev);
  };
  return got;
}

/** A KV whose atomic writes record the keys they write and check, per writer. */
function recording(kv: Deno.Kv, writes: Set<string>): Deno.Kv {
  // An atomic op whose writing calls note their key; chained calls keep noting.
  const noting = (op: Deno.AtomicOperation): Deno.AtomicOperation =>
    new Proxy(op, {
      get(o, p) {
        const f = Reflect.get(o, p, o);
        if (typeof f !== "function") return f;
        return (...args: unknown[]) => {
          if (["set", "max", "sum", "delete"].includes(p as string)) {
            writes.add(JSON.stringify(args[0]));
          }
          const r = f.apply(o, args);
          return r === o ? noting(o) : r;
        };
      },
    });
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") return () => noting(target.atomic());
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** A KV whose watch streams never report anything (as for another process's writes). */
function deafTo(kv: Deno.Kv): Deno.Kv {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "watch") return () => new ReadableStream({ start() {} });
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

const text = (conv: string, sender: string, cid: string) => ({
  conv,
  sender,
  cid,
  kind: "text" as const,
  text: cid,
  checkMember: true,
});

Deno.test("two isolates sending to different conversations write no key in common", async () => {
  const [wa, wb] = [new Set<string>(), new Set<string>()];
  const view = (kv: Deno.Kv, i: number) => recording(kv, i ? wb : wa);
  await withIsolates(2, async (kv, [a, b]) => {
    const groups = await Promise.all(
      Array.from({ length: 16 }, () => createGroup(kv, "owner", "g", ["bob"])),
    );
    wa.clear();
    wb.clear();
    await Promise.all(
      groups.flatMap((g, i) =>
        Array.from(
          { length: 10 },
          (_, j) => (i % 2 ? b : a).log.append(text(g.id, j % 2 ? "bob" : "owner", `c${j}`)),
        )
      ),
    );
    const shared = [...wa].filter((k) => wb.has(k));
    assert.deepEqual(shared, [], "keys both isolates wrote");
    assert.ok(wa.size > 16 && wb.size > 16);
  }, { timing: () => FAST, view });
});

Deno.test("an isolate that starts later is followed from its first commit, and its messages arrive once, in order", async () => {
  const kv = await Deno.openKv(":memory:");
  const a = new Realtime(kv, Date.now, FAST);
  await a.start();
  const got = tap(a);
  const b = new Realtime(kv, Date.now, FAST);
  try {
    const g = await createGroup(kv, "owner", "g", ["bob"]);
    a.hub.subscribe(g.id, {
      userId: "bob",
      sessionId: "s",
      deliverMsg() {},
      send() {},
      control() {},
      pump() {},
    });
    await b.start();
    // Committed at once, before A can have looked at the registry again.
    const acks = [];
    for (let i = 0; i < 20; i++) acks.push(await b.log.append(text(g.id, "owner", `c${i}`)));
    await until(() => (got.get(g.id)?.length ?? 0) >= 20);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(got.get(g.id), acks.map((x) => x.seq));
    assert.deepEqual(a.following, [b.isolate]);
  } finally {
    await a.stop();
    await b.stop();
    kv.close();
  }
});

Deno.test("a dead isolate's last commits still arrive, then its registration lapses and it is let go", async () => {
  await withIsolates(2, async (kv, [a, dead]) => {
    const got = tap(a);
    const g = await createGroup(kv, "owner", "g", ["bob"]);
    await until(() => a.following.includes(dead.isolate));
    // It stops renewing (as a killed process does) right after committing.
    const acks = await Promise.all(
      Array.from({ length: 30 }, (_, i) => dead.log.append(text(g.id, "owner", `c${i}`))),
    );
    dead.registry.stopHeartbeat();
    await until(() => !a.following.includes(dead.isolate), 5000);
    assert.deepEqual(got.get(g.id), acks.map((x) => x.seq).sort((x, y) => x - y));
    // What the survivor commits next takes the next seq, with nothing lost in between.
    const next = await a.log.append(text(g.id, "owner", "after"));
    assert.equal(next.seq, 31);
  }, { timing: () => FAST });
});

Deno.test("a retried client id gets its first ack from any isolate, and is stored once", async () => {
  await withIsolates(2, async (kv, [a, b]) => {
    const g = await createGroup(kv, "owner", "g", ["bob"]);
    const first = await a.log.append(text(g.id, "bob", "same"));
    await b.log.append(text(g.id, "owner", "other"));
    // Retried on the other isolate, and twice at once on the first one.
    const again = await Promise.all([
      b.log.append(text(g.id, "bob", "same")),
      a.log.append(text(g.id, "bob", "same")),
      a.log.append(text(g.id, "bob", "same")),
    ]);
    for (const x of again) {
      assert.deepEqual({ ...x, duplicate: false }, first);
      assert.equal(x.duplicate, true);
    }
    const stored = await Array.fromAsync(kv.list({ prefix: keys.msgs(g.id) }));
    assert.equal(stored.length, 2);
  }, { timing: () => FAST });
});

Deno.test("a refusal read from what a lane kept is checked again: friends made elsewhere can chat at once", async () => {
  await withIsolates(1, async (kv, [rt]) => {
    const dm = await ensureDm(kv, "ann", "ben");
    const send = (cid: string) =>
      rt.log.append(textMessage({ conv: dm.id, sender: "ann", cid, text: cid }, "ben"));
    await assert.rejects(send("1"), /not friends/);
    // Made friends outside the writer (as the friends API does): the kept "no friendship" is old.
    await kv.atomic()
      .set(keys.friend("ann", "ben"), { since: 1 })
      .set(keys.friend("ben", "ann"), { since: 1 })
      .commit();
    assert.equal((await send("2")).seq, 1);
    // And the other way round: a friendship deleted elsewhere is seen by the next send.
    await kv.atomic().delete(keys.friend("ann", "ben")).delete(keys.friend("ben", "ann")).commit();
    await assert.rejects(send("3"), /not friends/);
  }, { timing: () => FAST });
});

Deno.test("refusals in one batch, some resting on kept state and some read fresh, are all answered", async () => {
  await withIsolates(1, async (kv, [rt]) => {
    const groups = await groupsInLane(kv, 3);
    // A refusal keeps the conversation's head and the missing membership (of the first only).
    await assert.rejects(rt.log.append(text(groups[0], "eve", "warm")), /Not a member/);
    // Now all at once, so they share a batch: one resting on what the lane kept, two read fresh
    // (and kept for the next attempt). The lane is busy with the owner's message meanwhile, so the three queue up together.
    const busy = rt.log.append(text(groups[0], "owner", "busy"));
    const results = await Promise.allSettled(
      groups.map((g, i) => rt.log.append(text(g, "eve", `x${i}`))),
    );
    await busy;
    for (const r of results) {
      assert.equal(r.status, "rejected");
      assert.match(String((r as PromiseRejectedResult).reason), /Not a member/);
    }
  }, { timing: () => FAST });
});

Deno.test("when watch reports nothing (another process on one local file), polling the heads still delivers", async () => {
  // A (started second) sees KV through watch streams that never say anything, as for another
  // process's writes.
  await withIsolates(2, async (kv, [b, a]) => {
    const got = tap(a);
    const g = await createGroup(kv, "owner", "g", ["bob"]);
    assert.deepEqual(a.following, [b.isolate]);
    const acks = [];
    for (let i = 0; i < 5; i++) acks.push(await b.log.append(text(g.id, "owner", `c${i}`)));
    await until(() => (got.get(g.id)?.length ?? 0) >= 5, 4000);
    assert.deepEqual(got.get(g.id), acks.map((x) => x.seq));
  }, { timing: (i) => i ? { ...FAST, hear: false } : FAST, view: (kv, i) => i ? deafTo(kv) : kv });
});

Deno.test("isolates of one process hear each other's commits at once, without waiting for watch", async () => {
  await withIsolates(2, async (kv, [b, a]) => {
    const got = tap(a);
    const g = await createGroup(kv, "owner", "g", ["bob"]);
    // Spread out, so that the once-a-second poll cannot be what brings them in time.
    for (let i = 0; i < 5; i++) {
      const ack = await b.log.append(text(g.id, "owner", `c${i}`));
      await until(() => got.get(g.id)?.includes(ack.seq) ?? false, 100);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, { timing: () => FAST, view: (kv, i) => i ? deafTo(kv) : kv });
});
