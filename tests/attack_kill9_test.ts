/**
 * Durability under kill -9: senders write as fast as acks come while the real server process, on
 * a KV file, is killed with SIGKILL at random moments and restarted on the same file. Clients
 * reconnect and resend what was not acked with the same client message id. In the end every acked
 * message is stored exactly once, where its ack said, in the order it was sent, and the log has
 * no holes. KILL_ROUNDS (default 5) and KILL_SEED change the run.
 */
import assert from "node:assert/strict";
import { rootPath, type ServerProcess, signUpOver, spawnServer } from "./process_server.ts";
import { WsClient } from "./ws_client.ts";
import { DurableSender } from "./durable_sender.ts";
import type { Message } from "../lib/wire/protocol.ts";

/** A small seeded generator (mulberry32): the kill moments repeat with the seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

async function allMessages(w: WsClient, conv: string): Promise<Message[]> {
  const out: Message[] = [];
  let before: number | undefined;
  for (let page = 0;; page++) {
    w.send({ type: "history", rid: `p${page}`, conv, before, limit: 100 });
    const h = await w.next("history", (f) => f.rid === `p${page}`, 10_000);
    out.unshift(...h.messages);
    if (!h.hasMore) return out;
    before = h.messages[0].seq;
  }
}

Deno.test("kill -9 at random moments while sending: every acked message survives once, in order", async () => {
  const rounds = Number(Deno.env.get("KILL_ROUNDS") ?? 5);
  const seed = Number(Deno.env.get("KILL_SEED") ?? 7_040_213);
  const rand = random(seed);
  const why = `KILL_SEED=${seed} KILL_ROUNDS=${rounds}`;
  await Deno.mkdir(`${rootPath}data`, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: `${rootPath}data`, prefix: "kill9-" });
  // The start task may write only under ./data: the path is given relative to the app's folder.
  const env = { DENO_KV_PATH: `./data/${dir.split("/").at(-1)}/kv.sqlite3` };
  let proc: ServerProcess = await spawnServer(env);
  const logs: string[] = [];
  let server = proc.asTestServer();
  try {
    // Several users: the send rate is limited per user, and many sends in flight make a kill
    // land between a commit and its ack more often (stored, not acked: resent, stored once).
    const users = [];
    for (let i = 0; i < 6; i++) users.push(await signUpOver(server, "kill"));
    const [a, b] = users;
    for (const other of users.slice(1)) {
      assert.equal(
        (await a.client.post("/api/friends/requests", { to: other.userId })).status,
        200,
      );
      const accepted = await other.client.post(`/api/friends/requests/${a.userId}/accept`, {});
      assert.equal(accepted.status, 200);
    }
    const friends = await a.client.json<{ friends: { user: { id: string }; dm: string }[] }>(
      "/api/friends",
    );
    const dm = friends.body.friends.find((f) => f.user.id === b.userId)!.dm;
    const made = await a.client.post("/api/groups", {
      title: "Durable",
      members: users.slice(1).map((u) => u.userId),
    });
    assert.equal(made.status, 201);
    const group = (made.body as { group: { id: string } }).group.id;
    const senders = users.map((u, i) =>
      new DurableSender(`s${i}`, u.client, group, () => server, 1 + i % 4)
    );
    senders.push(new DurableSender("dm", b.client, dm, () => server, 2));
    for (const s of senders) s.start();
    const acks = () => senders.reduce((n, s) => n + s.acks, 0);
    for (let round = 0; round < rounds; round++) {
      // Kill while sends are flowing: after some acks on the new process, at a random moment.
      const from = acks();
      const until = Date.now() + 15_000;
      while (acks() < from + 5) {
        assert.ok(Date.now() < until, `no acks after restart ${round} (${why})`);
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, rand() * 300));
      await proc.kill();
      logs.push(proc.logs());
      proc = await spawnServer(env);
      server = proc.asTestServer();
    }
    await Promise.all(senders.map((s) => s.drain(30_000)));
    const w = await WsClient.connect(server, a.client);
    const stored = new Map([[group, await allMessages(w, group)], [dm, await allMessages(w, dm)]]);
    await w.close();
    for (const [conv, msgs] of stored) {
      assert.deepEqual(
        msgs.map((m) => m.seq),
        msgs.map((_, i) => i + 1),
        `"${conv}" has holes (${why})`,
      );
    }
    for (const s of senders) {
      assert.deepEqual(
        s.failures,
        [],
        `${s.name}: errors other than rate_limited and busy (${why})`,
      );
      const mine = stored.get(s.conv)!.filter((m) => m.cid?.startsWith(`${s.name}-`));
      const bySeq = new Map(mine.map((m) => [m.seq, m]));
      assert.equal(
        new Set(mine.map((m) => m.cid)).size,
        mine.length,
        `${s.name}: a cid stored twice (${why})`,
      );
      assert.equal(
        mine.length,
        s.sent.length,
        `${s.name}: ${s.sent.length} sent and acked, ${mine.length} stored (${why})`,
      );
      for (const sent of s.sent) {
        const m = bySeq.get(sent.ack!.seq);
        assert.equal(
          m?.cid,
          sent.cid,
          `${s.name}: acked ${sent.cid} at seq ${sent.ack!.seq}, stored there: ${m?.cid} (${why})`,
        );
        assert.equal(m.id, sent.ack!.id);
        assert.ok(
          sent.ack!.seq > sent.after,
          `${s.name}: ${sent.cid} stored before a message acked earlier (${why})`,
        );
      }
    }
    const total = senders.reduce((n, s) => n + s.sent.length, 0);
    assert.ok(total >= rounds * 5, `only ${total} messages in ${rounds} rounds`);
    logs.push(proc.logs());
    assert.deepEqual(
      logs.join("").split("\n").filter((l) => /"level":"error"/.test(l)),
      [],
      `errors logged (${why})`,
    );
  } finally {
    await proc.kill();
    await Deno.remove(dir, { recursive: true });
  }
});
