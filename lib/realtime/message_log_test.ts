import assert from "node:assert/strict";
import { laneOf, LANES } from "./fan_event.ts";
import { groupsInLane, withIsolates } from "./_fixture.ts";
import { keys } from "../kv/keys.ts";
import { Realtime } from "./realtime.ts";
import { createGroup } from "../chat/conversations.ts";
import { Conn } from "./conn.ts";
import { kick } from "../groups/moderation.ts";
import type { User } from "../accounts/users.ts";
import type { ServerFrame } from "../wire/protocol.ts";

function user(id: string): User {
  return {
    id,
    username: id,
    email: `${id}@example.com`,
    passwordHash: "x",
    nickname: id,
    avatar: null,
    gender: "unspecified",
    region: "",
    bio: "",
    website: "",
    locale: "en",
    createdAt: 0,
    activatedAt: 1,
  };
}

/** A stand-in WebSocket that records what the server sends. */
function fakeSocket() {
  const frames: ServerFrame[] = [];
  const ws = {
    readyState: WebSocket.OPEN as number,
    bufferedAmount: 0,
    send: (s: string) => frames.push(JSON.parse(s)),
    close: () => {
      ws.readyState = WebSocket.CLOSED;
    },
    onmessage: null as ((e: MessageEvent) => void) | null,
    onclose: null as (() => void) | null,
    onerror: null as (() => void) | null,
  };
  return {
    ws,
    frames,
    say: (f: unknown) => ws.onmessage!(new MessageEvent("message", { data: JSON.stringify(f) })),
  };
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Two isolates on one KV, as two Realtimes with their own watchers; both stopped after `fn`. */
function twoIsolates(fn: (kv: Deno.Kv, a: Realtime, b: Realtime) => Promise<void>) {
  return withIsolates(2, (kv, [a, b]) => fn(kv, a, b));
}

/** Bob's socket on `rt`, past its hello; `frames` is what it was sent. */
async function bobOn(rt: Realtime) {
  const { ws, frames, say } = fakeSocket();
  const conn = new Conn(ws as unknown as WebSocket, user("bob"), "s1", "en", rt.connDeps());
  conn.attach();
  say({ type: "hello", v: 1 });
  await until(() => frames.some((f) => f.type === "resumed"));
  return { conn, frames };
}

Deno.test("MessageLog.append() commits many conversations of one lane at once within KV's check limit", async () => {
  await withIsolates(1, async (kv, [rt]) => {
    const convs = await groupsInLane(kv, 70);
    assert.ok(LANES > 1);
    const acks = await Promise.all(
      convs.map((conv, i) =>
        rt.log.append({
          conv,
          sender: "owner",
          cid: `c${i}`,
          kind: "text",
          text: "hi",
          checkMember: true,
        })
      ),
    );
    assert.deepEqual(acks.map((a) => a.seq), convs.map(() => 1));
  });
});

Deno.test("a member removed on one isolate gets nothing more from another isolate, even when it fills a gap", async () => {
  await twoIsolates(async (kv, rtA, rtB) => {
    for (let round = 0; round < 10; round++) {
      const group = await createGroup(kv, "owner", "g", ["bob"]);
      const { conn, frames } = await bobOn(rtB);
      // The removal commits on A; at once B commits the next message and delivers it locally.
      const removal = await kick(rtA, user("owner"), group.id, "bob");
      const next = await rtB.log.append({
        conv: group.id,
        sender: "owner",
        cid: "after",
        kind: "text",
        text: "after",
        checkMember: true,
      });
      assert.equal(next.seq, removal.seq + 1);
      await until(() => frames.some((f) => f.type === "conv_removed"));
      await new Promise((r) => setTimeout(r, 30));
      const seqs = frames.flatMap((
        f,
      ) => (f.type === "msg" && f.msg.conv === group.id ? [f.msg.seq] : []));
      assert.deepEqual(
        seqs,
        [removal.seq],
        `round ${round}: only the removal notice, nothing after it`,
      );
      conn.close(4000, "done");
    }
  });
});

Deno.test("a batch's events go to other isolates in a few fan-out entries, every message once, in order", async () => {
  await twoIsolates(async (kv, rtA, rtB) => {
    const group = await createGroup(kv, "owner", "g", ["bob"]);
    const { conn, frames } = await bobOn(rtB);
    // Sent at once on A: they commit in a few batches. Long texts make a batch's events
    // outgrow one entry (KV values stop at 64 KiB), short ones share one.
    const texts = Array.from({ length: 60 }, (_, i) => (i % 3 ? `m${i}` : "长".repeat(4000)));
    const acks = await Promise.all(texts.map((text, i) =>
      rtA.log.append({
        conv: group.id,
        sender: "owner",
        cid: `c${i}`,
        kind: "text",
        text,
        checkMember: true,
      })
    ));
    const last = Math.max(...acks.map((a) => a.seq));
    await until(() => frames.some((f) => f.type === "msg" && f.msg.seq === last));
    await new Promise((r) => setTimeout(r, 30));
    const seqs = frames.flatMap((f) =>
      f.type === "msg" && f.msg.conv === group.id ? [f.msg.seq] : []
    );
    assert.deepEqual(seqs, [...acks.map((a) => a.seq)].sort((a, b) => a - b));
    const entries = await Array.fromAsync(
      kv.list({ prefix: keys.fanStream(rtA.isolate, laneOf(group.id)) }),
    );
    assert.ok(entries.length < texts.length / 2, `${entries.length} entries for ${texts.length}`);
    conn.close(4000, "done");
  });
});
