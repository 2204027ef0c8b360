/**
 * Replaying the frames a socket received onto an old client state must equal a fresh load
 * (welcome + history pages from a new socket), for every conversation: DM, group and bot.
 */
import assert from "node:assert/strict";
import {
  type Client,
  friendsDm,
  friendsGroup,
  signUp,
  type TestServer,
  withServer,
} from "./helpers.ts";
import { addMember } from "../lib/groups/join.ts";
import { WsClient } from "./ws_client.ts";
import { type ChatState, emptyState, reduce } from "../lib/client/state.ts";
import type { ServerFrame } from "../lib/wire/protocol.ts";
import { block } from "../lib/social/friends.ts";
import { getUser } from "../lib/accounts/users.ts";

/** A socket whose every frame is kept in arrival order, as the browser client sees them. */
class Recorded {
  readonly log: ServerFrame[] = [];
  private constructor(readonly ws: WsClient) {
    ws.ws.addEventListener("message", (e) => this.log.push(JSON.parse(e.data)));
  }

  static async connect(
    server: TestServer,
    client: Client,
    resume?: Record<string, number>,
  ): Promise<Recorded> {
    const r = new Recorded(await WsClient.open(server, client));
    r.ws.send({ type: "hello", v: 1, resume });
    await r.ws.next("resumed");
    return r;
  }

  async waitFor(pred: (f: ServerFrame) => boolean, what: string): Promise<void> {
    const until = Date.now() + 5000;
    while (!this.log.some(pred)) {
      if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Asks for the newest page of every conversation not loaded yet in `s` (what opening it does). */
  async loadNewest(s: ChatState): Promise<void> {
    for (const c of Object.values(s.convs)) {
      if (c.loaded) continue;
      this.ws.send({ type: "history", conv: c.summary.id, rid: `n${c.summary.id}`, limit: 3 });
      await this.ws.next("history", (f) => f.rid === `n${c.summary.id}`);
    }
  }
}

function fold(frames: ServerFrame[], s: ChatState = emptyState()): ChatState {
  return frames.reduce((acc, f) => reduce(acc, f), s);
}

/** The client's resume points (islands/chat/client.ts): last loaded seq, else the summary's. */
function resumePoints(s: ChatState): Record<string, number> {
  return Object.fromEntries(
    Object.values(s.convs).map((
      c,
    ) => [c.summary.id, c.loaded ? c.messages.at(-1)?.seq ?? 0 : c.summary.lastSeq]),
  );
}

/** A new socket: welcome, then every history page back to the first message. */
async function freshLoad(server: TestServer, client: Client): Promise<ChatState> {
  const r = await Recorded.connect(server, client);
  let s = fold(r.log);
  for (const id of Object.keys(s.convs)) {
    for (let page = 0; !s.convs[id].loaded || s.convs[id].hasMore; page++) {
      assert.ok(page < 50, `paging "${id}" does not end`);
      r.ws.send({
        type: "history",
        conv: id,
        rid: `p${page}`,
        before: s.convs[id].messages[0]?.seq,
        limit: 4,
      });
      s = reduce(s, await r.ws.next("history", (f) => f.rid === `p${page}` && f.conv === id));
    }
  }
  await r.ws.close();
  return s;
}

/** What must agree: each conversation's summary fields and its loaded messages. */
function view(s: ChatState) {
  return Object.fromEntries(
    Object.values(s.convs).map((c) => {
      const { lastSeq, lastAt, readSeq, peerReadSeq, last } = c.summary;
      return [c.summary.id, {
        lastSeq,
        lastAt,
        readSeq,
        peerReadSeq,
        last,
        loaded: c.loaded,
        messages: c.messages,
      }];
    }),
  );
}

Deno.test("frames replayed onto an old client state give the same state as a fresh load", async () => {
  await withServer(async (server) => {
    const [a, b, c, d] = [
      await signUp(server),
      await signUp(server),
      await signUp(server),
      await signUp(server),
    ];
    const dmId = (await friendsDm(server, a.userId, b.userId)).id;
    // A watches on tab 1 (dropped at point X, then resumed) and acts on tab 2 (connected throughout).
    const tab1 = await Recorded.connect(server, a.client);
    const tab2 = await Recorded.connect(server, a.client);
    await tab1.loadNewest(fold(tab1.log));
    await tab2.loadNewest(fold(tab2.log));
    const [wb, wc] = await Promise.all([b, c].map((u) => WsClient.connect(server, u.client)));
    // B befriends C for it (A is a friend already); the group's seq 1 is its "created" message.
    const groupId = (await friendsGroup(server, b.userId, "Team", [a.userId, c.userId])).id;
    for (const t of [tab1, tab2]) {
      await t.waitFor((f) => f.type === "conv" && f.conv.id === groupId, "the group");
      await t.loadNewest(fold(t.log));
    }
    const botId = Object.values(fold(tab1.log).convs).find((x) =>
      x.summary.kind === "bot"
    )!.summary.id;

    let n = 0;
    /** Sends and waits until both of A's recording tabs (when open) have the message. */
    const say = async (ws: WsClient, conv: string, text: string, tabs: Recorded[]) => {
      const cid = `c${n++}`;
      ws.send({ type: "send", conv, cid, text });
      const ack = await ws.next("ack", (f) => f.cid === cid);
      for (const t of tabs) {
        await t.waitFor((f) => f.type === "msg" && f.msg.cid === cid, `message ${text}`);
      }
      return ack.seq;
    };
    const botReplyTo = (seq: number) => (f: ServerFrame) =>
      f.type === "msg" && f.msg.from === "bot" && f.msg.cid === `re-${seq}`;
    const read = async (
      ws: WsClient,
      user: string,
      conv: string,
      seq: number,
      tabs: Recorded[],
    ) => {
      ws.send({ type: "read", conv, seq });
      for (const t of tabs) {
        await t.waitFor(
          (f) => f.type === "read" && f.user === user && f.conv === conv && f.seq === seq,
          `read ${seq}`,
        );
      }
    };

    for (let i = 0; i < 5; i++) await say(wb, dmId, `b to a ${i}`, [tab1, tab2]);
    await say(tab2.ws, dmId, "a to b", [tab1, tab2]);
    await say(tab2.ws, groupId, "a in group", [tab1, tab2]);
    await say(wc, groupId, "c in group", [tab1, tab2]);
    const hi = await say(tab2.ws, botId, "hello bot", [tab1, tab2]);
    await tab1.waitFor(botReplyTo(hi), "the bot's reply");
    await tab2.waitFor(botReplyTo(hi), "the bot's reply");
    await read(wb, b.userId, dmId, 6, [tab1, tab2]);
    await read(tab2.ws, a.userId, groupId, 3, [tab1, tab2]);

    // Point X: tab 1's state so far; the tab drops while the others go on.
    const atX = fold(tab1.log);
    await tab1.ws.close();
    for (let i = 0; i < 4; i++) await say(wb, groupId, `b in group ${i}`, [tab2]);
    await say(wc, groupId, "c again", [tab2]);
    await read(wb, b.userId, groupId, 8, [tab2]);
    await addMember(server.rt, groupId, d.userId, b.userId);
    await say(wb, dmId, "b while a is away", [tab2]);
    await read(tab2.ws, a.userId, dmId, 7, [tab2]);
    const more = await say(tab2.ws, botId, "more bot", [tab2]);
    await tab2.waitFor(botReplyTo(more), "the second bot reply");
    // C befriends A for it: a new DM while tab 1 is away, too.
    const late = (await friendsGroup(server, c.userId, "Late", [a.userId])).id;
    await tab2.waitFor((f) => f.type === "conv" && f.conv.id === late, "the late group");
    await tab2.loadNewest(fold(tab2.log));

    // Tab 1 resumes from its old state and keeps going live.
    const back = await Recorded.connect(server, a.client, resumePoints(atX));
    let replayed = fold(back.log, atX);
    await back.loadNewest(replayed);
    await say(wc, late, "in late group", [back, tab2]);
    await say(wb, dmId, "b again", [back, tab2]);
    await say(tab2.ws, dmId, "a answers", [back, tab2]);
    await read(wb, b.userId, dmId, 9, [back, tab2]);
    replayed = fold(back.log, atX);

    const fresh = await freshLoad(server, a.client);
    assert.equal(Object.keys(fresh.convs).length, 5, "bot, DMs with B and C, both groups");
    assert.equal(fresh.convs[groupId].messages.length, 9, '"created", seven texts and the join');
    assert.deepEqual(view(replayed), view(fresh));
    assert.deepEqual(view(fold(tab2.log)), view(fresh), "the tab that never dropped agrees too");
    await Promise.all([back.ws.close(), tab2.ws.close(), wb.close(), wc.close()]);
  });
});

Deno.test("after a block, the blocker's live state equals a fresh load, and paging past hidden messages ends", async () => {
  await withServer(async (server) => {
    const [a, b] = [await signUp(server), await signUp(server)];
    const dm = (await friendsDm(server, a.userId, b.userId)).id;
    const tab = await Recorded.connect(server, a.client);
    await tab.loadNewest(fold(tab.log));
    const [wa, wb] = [
      await WsClient.connect(server, a.client),
      await WsClient.connect(server, b.client),
    ];
    const send = async (w: WsClient, cid: string) => {
      w.send({ type: "send", conv: dm, cid, text: cid });
      return (await w.next("ack", (f) => f.cid === cid)).seq;
    };
    for (const cid of ["b1", "b2"]) await send(wb, cid);
    await block(server.rt, (await getUser(server.kv, a.userId))!, b.userId);
    // b does not know: each send is acked, and a never gets them (more than a page of them).
    for (let i = 0; i < 9; i++) await send(wb, `hidden${i}`);
    await send(wa, "a1");
    for (let i = 9; i < 14; i++) await send(wb, `hidden${i}`);
    const last = await send(wa, "a2");
    wb.send({ type: "read", conv: dm, seq: last });
    await tab.waitFor(
      (f) => f.type === "read" && f.user === b.userId && f.seq === last,
      "b's read",
    );
    const live = fold(tab.log);
    assert.deepEqual(live.convs[dm].messages.map((m) => m.text), ["b1", "b2", "a1", "a2"]);
    const fresh = await freshLoad(server, a.client);
    assert.deepEqual(view(live), view(fresh));
    await Promise.all([tab.ws.close(), wa.close(), wb.close()]);
  });
});
