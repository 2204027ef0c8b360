/**
 * The "Chats" tab's unread count (lib/http/app.ts, every page) reads three keys a conversation
 * where the chat list's summaries read seven: both must count the same. Counted here over what
 * changes a count: messages, the user's own read mark, recalls and reactions (not messages), a
 * group joined late (its earlier messages are not the joiner's), and a muted conversation.
 */
import assert from "node:assert/strict";
import { startTestServer } from "./helpers.ts";
import { befriend, call, newGroup, people } from "./groups_fixture.ts";
import { WsClient } from "./ws_client.ts";
import { listUserConvs } from "../lib/chat/conversations.ts";
import { summarize, unreadParts } from "../lib/chat/conv_list.ts";
import { mutedConvs } from "../lib/push/devices.ts";
import { unreadTotal } from "../lib/wire/protocol.ts";

Deno.test("the tab's unread count equals the chat list's, through reads, recalls, reactions, a late join and a mute", async () => {
  const server = await startTestServer();
  try {
    const { me, ann, bo } = await people(server, ["me", "ann", "bo"] as const);
    await befriend(server, ann, me, bo);
    const kv = server.kv;
    const both = async () => {
      const entries = await listUserConvs(kv, me.id);
      const muted = new Set(await mutedConvs(kv, me.id));
      const list = unreadTotal(await summarize(kv, me.id, entries, "en"), muted);
      const tab = unreadTotal(await unreadParts(kv, me.id, entries), muted);
      assert.equal(tab, list, "the tab and the list agree");
      // And the page says so.
      const html = await (await me.client.fetch("/settings")).text();
      const badge = html.match(/data-testid="tab-unread"[^>]*>([^<]*)</)?.[1] ?? "";
      assert.equal(badge, tab ? String(tab) : "", "the page's badge");
      return tab;
    };

    const wa = await WsClient.connect(server, ann.client);
    const wm = await WsClient.connect(server, me.client);
    const dm = (await listUserConvs(kv, me.id)).find((e) => e.peerId === ann.id)!.convId;
    const send = async (text: string, conv = dm) => {
      wa.send({ type: "send", conv, cid: crypto.randomUUID(), text });
      return (await wa.next("ack")).seq;
    };
    const start = await both();
    const one = await send("one");
    await send("two");
    assert.equal(await both(), start + 2);

    // Ann recalls "one" (it stays, as a "recalled" line) and reacts to "two": the two entries
    // these add are not messages, so still two, not four.
    wa.send({ type: "recall", rid: "r", conv: dm, seq: one });
    await wa.next("ack", (f) => f.rid === "r");
    wa.send({ type: "react", rid: "x", conv: dm, cid: "x1", seq: one + 1, emoji: "👍", on: true });
    await wa.next("ack", (f) => f.rid === "x");
    assert.equal(await both(), start + 2);

    // Read up to the newest entry: none left in the DM.
    const head = (await summarize(kv, me.id, await listUserConvs(kv, me.id), "en"))
      .find((s) => s.id === dm)!.lastSeq;
    wm.send({ type: "read", conv: dm, seq: head });
    const until = Date.now() + 5000;
    // (Polled without comparing: the mark may land between the two counts' reads.)
    const tabNow = async () =>
      unreadTotal(await unreadParts(kv, me.id, await listUserConvs(kv, me.id)), new Set());
    while (await tabNow() !== start && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(await both(), start);

    // A group Ann made with Bo, talked in, then added me to: only what came after counts.
    const group = (await newGroup(ann, "late", [bo])).id;
    await send("before you came", group);
    const added = await call(ann.client, "POST", `/api/groups/${group}/members`, {
      userIds: [me.id],
    });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    // The notice that Ann added me is mine to read; "before you came" is not.
    const afterJoin = await both();
    assert.equal(afterJoin, start + 1);
    await send("welcome", group);
    assert.equal(await both(), afterJoin + 1);

    // Muted: its messages leave the count, in both.
    assert.equal((await call(me.client, "PUT", `/api/push/mutes/${group}`)).status, 200);
    assert.equal(await both(), start);
    await Promise.all([wa.close(), wm.close()]);
  } finally {
    await server.close();
  }
});
