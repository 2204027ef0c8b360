/**
 * Durable send throughput, in one process: appends through lib/realtime/message_log.ts MessageLog (per-shard
 * writers that commit whatever has queued up as one atomic op) against a plain loop doing one
 * atomic write per message with the same records. A message counts once its commit resolved.
 */
import { MessageLog } from "../lib/realtime/message_log.ts";
import { type ConvHead, createGroup } from "../lib/chat/conversations.ts";
import { keys } from "../lib/kv/keys.ts";
import { newId } from "../lib/ids.ts";
import type { Message } from "../lib/wire/protocol.ts";
import { pool } from "./seed.ts";
import { cpuSeconds, nowMs } from "./stats.ts";

export interface ThroughputResult {
  path: string;
  messages: number;
  inFlight: number;
  seconds: number;
  perSec: number;
  cpuS: number;
  failed: number;
}

interface Conv {
  id: string;
  members: [string, string];
}

/** Two-member conversations (the member records are what the send path checks). */
export async function seedConvs(kv: Deno.Kv, n: number): Promise<Conv[]> {
  return await pool(Array.from({ length: n }, (_, i) => i), 32, async () => {
    const members: [string, string] = [newId(), newId()];
    const conv = await createGroup(kv, members[0], "bench", [members[1]]);
    return { id: conv.id, members };
  });
}

async function measure(
  path: string,
  messages: number,
  inFlight: number,
  fn: (i: number) => Promise<void>,
): Promise<ThroughputResult> {
  let failed = 0;
  const cpu0 = cpuSeconds("self");
  const t0 = nowMs();
  await pool(
    Array.from({ length: messages }, (_, i) => i),
    inFlight,
    (i) => fn(i).catch(() => void failed++),
  );
  const seconds = (nowMs() - t0) / 1000;
  return {
    path,
    messages,
    inFlight,
    seconds,
    perSec: (messages - failed) / seconds,
    cpuS: cpuSeconds("self") - cpu0,
    failed,
  };
}

/** The real send path: MessageLog.append with membership check, idempotency key, seq, fan-out event. */
export function batched(
  kv: Deno.Kv,
  convs: Conv[],
  messages: number,
  inFlight: number,
): Promise<ThroughputResult> {
  const log = new MessageLog(kv, newId(), { dispatch() {} });
  const run = newId();
  return measure("MessageLog.append (batched commits)", messages, inFlight, async (i) => {
    const c = convs[i % convs.length];
    await log.append({
      conv: c.id,
      sender: c.members[i & 1],
      cid: `${run}${i}`,
      kind: "text",
      text: `message ${i}`,
      checkMember: true,
    });
  });
}

/**
 * One atomic op per message: read head, membership and idempotency key, then check the head and
 * write message, idempotency key, head and read cursor. The same records, no fan-out log.
 */
export function onePerMessage(
  kv: Deno.Kv,
  convs: Conv[],
  messages: number,
  inFlight: number,
): Promise<ThroughputResult> {
  const run = newId();
  return measure("one atomic write per message", messages, inFlight, async (i) => {
    const c = convs[i % convs.length];
    const sender = c.members[i & 1];
    const cid = `${run}${i}`;
    for (let attempt = 0; attempt < 50; attempt++) {
      const [head, member, prior] = await kv.getMany<[ConvHead, unknown, unknown]>([
        keys.convHead(c.id),
        keys.member(c.id, sender),
        ["bench_client", c.id, sender, cid],
      ]);
      if (!head.value || !member.value) throw new Error("not a member");
      if (prior.value) return;
      const now = Date.now();
      const seq = head.value.seq + 1;
      const msg: Message = {
        conv: c.id,
        seq,
        id: newId(now),
        from: sender,
        kind: "text",
        text: `message ${i}`,
        at: now,
        cid,
      };
      const res = await kv.atomic().check(head).check(member)
        .set(keys.msg(c.id, seq), msg)
        .set(["bench_client", c.id, sender, cid], { seq, at: now, id: msg.id }, {
          expireIn: 7 * 24 * 3600_000,
        })
        .max(keys.read(c.id, sender), BigInt(seq))
        .set(
          keys.convHead(c.id),
          { seq, at: now, last: { from: sender, kind: "text", text: msg.text } } satisfies ConvHead,
        )
        .commit();
      if (res.ok) return;
    }
    throw new Error("gave up after 50 conflicts");
  });
}

/**
 * The KV store's own write rate, no app logic: atomic ops of 100 sets of message-sized values,
 * keys spread over `spread` conversations (1: one conversation's log, appended in order).
 */
export async function rawSets(
  kv: Deno.Kv,
  spread: number,
  sets: number,
): Promise<ThroughputResult> {
  const run = newId();
  const value = {
    conv: run,
    seq: 0,
    id: run,
    from: run,
    kind: "text",
    text: "message 12345",
    at: Date.now(),
    cid: run,
  };
  let n = 0;
  const cpu0 = cpuSeconds("self");
  const t0 = nowMs();
  while (n < sets) {
    const op = kv.atomic();
    for (let i = 0; i < 100; i++, n++) {
      op.set(["bench_raw", run, `c${n % spread}`, n], { ...value, seq: n });
    }
    await op.commit();
  }
  const seconds = (nowMs() - t0) / 1000;
  const path = spread === 1
    ? "raw KV sets, one conversation (in order)"
    : `raw KV sets, spread over ${spread} conversations`;
  return {
    path,
    messages: n,
    inFlight: 1,
    seconds,
    perSec: n / seconds,
    cpuS: cpuSeconds("self") - cpu0,
    failed: 0,
  };
}
