/** Search over real sockets: Chinese and English words, one conversation or all, and only what the user may read. */
import assert from "node:assert/strict";
import { friendsDm, friendsGroup, signUp, withServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";
import { getUser } from "../lib/accounts/users.ts";
import { inviteFriends } from "../lib/groups/join.ts";

Deno.test("search finds older messages by a Chinese or an English word, in one conversation and in all, never what the user may not read", async () => {
  await withServer(async (server) => {
    const a = await signUp(server);
    const b = await signUp(server);
    const late = await signUp(server);
    const stranger = await signUp(server);
    const dm = await friendsDm(server, a.userId, b.userId);
    const g = await friendsGroup(server, a.userId, "Trip", [b.userId]);
    const wa = await WsClient.connect(server, a.client);
    const say = async (conv: string, cid: string, text: string) => {
      wa.send({ type: "send", conv, cid, text });
      return (await wa.next("ack", (f) => f.cid === cid)).seq;
    };
    const lakeDm = await say(dm.id, "d1", "我们周末去湖边吧");
    for (let i = 0; i < 15; i++) await say(dm.id, `f${i}`, `filler ${i}`);
    const lakeGroup = await say(g.id, "g1", "Meet at the LAKE house, ＬＡＫＥ side");
    const secret = await say(g.id, "g2", "lake plan B (to be recalled)");
    wa.send({ type: "recall", rid: "r", conv: g.id, seq: secret });
    await wa.next("ack", (f) => f.rid === "r");
    // Someone who joins the group later cannot find what came before.
    await friendsDm(server, a.userId, late.userId);
    await inviteFriends(server.rt, (await getUser(server.kv, a.userId))!, g.id, [late.userId]);
    await say(g.id, "g3", "welcome, the lake is nice");

    const wb = await WsClient.connect(server, b.client);
    const ask = async (w: WsClient, rid: string, q: string, conv?: string) => {
      w.send({ type: "search", rid, q, ...(conv ? { conv } : {}) });
      return await w.next("search", (f) => f.rid === rid);
    };
    assert.deepEqual((await ask(wb, "s1", "湖边", dm.id)).hits.map((m) => m.seq), [lakeDm]);
    const all = await ask(wb, "s2", "lake");
    assert.deepEqual(
      all.hits.map((m) => m.text),
      ["welcome, the lake is nice", "Meet at the LAKE house, ＬＡＫＥ side"],
      "newest first, case and width folded, the recalled one not found",
    );
    assert.deepEqual((await ask(wb, "s3", "lake side", g.id)).hits.map((m) => m.seq), [lakeGroup]);
    assert.deepEqual((await ask(wb, "s4", "湖边 lake")).hits, [], "every word must be there");

    const wl = await WsClient.connect(server, late.client);
    assert.deepEqual(
      (await ask(wl, "l1", "lake", g.id)).hits.map((m) => m.text),
      ["welcome, the lake is nice"],
      "nothing from before they joined",
    );
    const ws = await WsClient.connect(server, stranger.client);
    ws.send({ type: "search", rid: "x", q: "湖边", conv: dm.id });
    assert.equal((await ws.next("error", (f) => f.rid === "x")).code, "not_member");
    assert.deepEqual((await ask(ws, "x2", "湖边")).hits, [], "nothing of others' conversations");
    ws.send({ type: "search", rid: "bad", q: "   " });
    assert.equal((await ws.next("error")).code, "bad_frame");
    await Promise.all([wa.close(), wb.close(), wl.close(), ws.close()]);
  });
});
