/** history, sync and resume with bounds at, below or past what the member may read. */
import assert from "node:assert/strict";
import { friendsDm, friendsGroup, signUp, startTestServer, storeTexts } from "./helpers.ts";
import { addMember } from "../lib/groups/join.ts";
import { WsClient } from "./ws_client.ts";
import { setLogSink } from "../lib/log.ts";
import type { ServerFrame } from "../lib/wire/protocol.ts";

Deno.test("history before the first readable seq is an empty last page; sync and resume with odd bounds never fail", async () => {
  const server = await startTestServer();
  const lines: string[] = [];
  const prev = setLogSink((line) => lines.push(line));
  try {
    const [a, b, c] = [await signUp(server), await signUp(server), await signUp(server)];
    const dm = (await friendsDm(server, a.userId, b.userId)).id;
    const group = (await friendsGroup(server, a.userId, "Late", [b.userId])).id;
    for (const conv of [dm, group]) {
      await storeTexts(
        server,
        conv,
        "x",
        Array.from({ length: 5 }, (_, i) => ({ from: a.userId, text: `before ${i}` })),
      );
    }
    // c joins after "created" and five messages: the join message is seq 7, c may read from it on.
    const joined = (await addMember(server.rt, group, c.userId, a.userId)).seq - 1;
    const wa = await WsClient.connect(server, a.client);
    const wc = await WsClient.connect(server, c.client);
    const empty = { messages: [], hasMore: false };

    for (const before of [0, 1]) {
      wa.send({ type: "history", rid: `a${before}`, conv: dm, before });
      const h = await wa.next("history", (f) => f.rid === `a${before}`);
      assert.deepEqual({ messages: h.messages, hasMore: h.hasMore }, empty, `dm before ${before}`);
    }
    for (const before of [0, 1, joined, joined + 1]) {
      wc.send({ type: "history", rid: `c${before}`, conv: group, before });
      const h = await wc.next("history", (f) => f.rid === `c${before}`);
      assert.deepEqual({ messages: h.messages, hasMore: h.hasMore }, empty, `before ${before}`);
    }
    wc.send({ type: "history", rid: "c-next", conv: group, before: joined + 2 });
    const first = await wc.next("history", (f) => f.rid === "c-next");
    assert.deepEqual(first.messages.map((m) => m.seq), [joined + 1]);
    assert.equal(first.hasMore, false);

    for (const after of [0, joined, 1000, Number.MAX_SAFE_INTEGER]) {
      wc.send({ type: "sync", rid: `s${after}`, conv: group, after });
      const h = await wc.next("history", (f) => f.rid === `s${after}`);
      const synced = await wc.next("synced", (f) => f.rid === `s${after}`);
      assert.ok(h.messages.every((m) => m.seq > joined), "nothing from before the join");
      assert.equal(synced.lastSeq, joined + 1);
    }

    const back = await WsClient.open(server, c.client);
    back.send({
      type: "hello",
      v: 1,
      resume: { [group]: Number.MAX_SAFE_INTEGER, [dm]: 0 },
    });
    await back.next("resumed");
    const errors = [...wa.frames, ...wc.frames, ...back.frames].filter((f: ServerFrame) =>
      f.type === "error"
    );
    assert.deepEqual(errors, [], "no error frames");
    assert.deepEqual(lines.filter((l) => /"level":"(error|warn)"/.test(l)), [], "nothing logged");
    await Promise.all([wa.close(), wc.close(), back.close()]);
  } finally {
    setLogSink(prev);
    await server.close();
  }
});
