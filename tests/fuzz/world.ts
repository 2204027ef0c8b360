/**
 * The fuzz world: three users with real conversations (a DM between friends with a long log, a
 * group one of them joined late, each one's bot chat, a group of the other two) on a real server,
 * and what the run has seen of it.
 */
import { type Client, friendsDm, friendsGroup, signUp, type TestServer } from "../helpers.ts";
import { addMember } from "../../lib/groups/join.ts";
import { getMember, listMembers, listUserConvs } from "../../lib/chat/conversations.ts";
import { keys } from "../../lib/kv/keys.ts";
import { documentedErrorCodes, MODEL_CODES } from "./oracle.ts";

export interface UserModel {
  id: string;
  name: string;
  client: Client;
  own: string[];
  foreign: string[];
  joined: Map<string, number>;
  /** DM partners: whose presence this user hears about. */
  peers: Set<string>;
}

export interface Stats {
  frames: number;
  byPrediction: Record<string, number>;
  answers: Record<string, number>;
  errors: Record<string, number>;
  closes: Record<string, number>;
  reconnects: number;
  acks: number;
  /** Commands sent while the socket's queue may have been full. */
  mayBusy: number;
}

export class World {
  readonly users: UserModel[] = [];
  readonly members = new Map<string, Set<string>>();
  readonly last = new Map<string, number>();
  /** conv, user, cid → the first ack: every later ack of that triple must be the same. */
  readonly acks = new Map<string, { seq: number; id: string; at: number }>();
  /** conv, user, cid of every well-formed send to a conversation of the sender. */
  readonly sends = new Set<string>();
  readonly stats: Stats = {
    frames: 0,
    byPrediction: {},
    answers: {},
    errors: {},
    closes: {},
    reconnects: 0,
    acks: 0,
    mayBusy: 0,
  };
  failure: string | null = null;
  /** Checks against the store, run after the fuzz (what a range of the log holds never changes). */
  readonly laterChecks: ((kv: Deno.Kv) => Promise<string | null>)[] = [];
  /** Every frame each way, with the time, when FUZZ_TRACE names a file to write it to. */
  readonly trace: string[] | null = Deno.env.get("FUZZ_TRACE") ? [] : null;
  /** Conversation id → a readable name, for failure reports. */
  readonly labels = new Map<string, string>();

  /** The error codes docs/protocol.md lists. */
  private constructor(readonly server: TestServer, readonly documented: Set<string>) {}

  /** The first failure wins; later ones are usually its consequences. */
  fail(message: string): void {
    this.failure ??= message;
  }

  later(check: (kv: Deno.Kv) => Promise<string | null>): void {
    this.laterChecks.push(check);
  }

  seen(conv: string, seq: number): void {
    if (seq > (this.last.get(conv) ?? 0)) this.last.set(conv, seq);
  }

  static async create(server: TestServer): Promise<World> {
    const documented = await documentedErrorCodes();
    const missing = MODEL_CODES.filter((c) => !documented.has(c));
    if (missing.length) throw new Error(`docs/protocol.md does not list ${missing.join(", ")}`);
    const world = new World(server, documented);
    const [a, b, c] = [await signUp(server), await signUp(server), await signUp(server)];
    const rt = server.rt;
    const dm = (await friendsDm(server, a.userId, b.userId)).id;
    // Longer than the resume bound, so that sync and resume can answer with a gap.
    await Promise.all(Array.from({ length: 230 }, (_, i) =>
      rt.log.append({
        conv: dm,
        sender: i % 2 ? a.userId : b.userId,
        cid: `pre${i}`,
        kind: "text",
        text: `before the fuzz ${i}`,
        checkMember: true,
      })));
    const late = (await friendsGroup(server, b.userId, "Late join", [c.userId])).id;
    for (let i = 0; i < 4; i++) {
      await rt.log.append({
        conv: late,
        sender: c.userId,
        cid: `early${i}`,
        kind: "text",
        text: `before a joined ${i}`,
        checkMember: true,
      });
    }
    await friendsDm(server, c.userId, a.userId);
    await addMember(rt, late, a.userId, b.userId);
    await friendsGroup(server, c.userId, "Without a", [b.userId]);
    const named = { [dm]: "DM A-B", [late]: "group joined late by A" };
    const all = new Set<string>();
    const byUser = new Map<string, string[]>();
    for (const u of [a, b, c]) {
      const convs = (await listUserConvs(server.kv, u.userId)).map((e) => e.convId);
      byUser.set(u.userId, convs);
      for (const id of convs) all.add(id);
    }
    for (const id of all) {
      world.members.set(id, new Set((await listMembers(server.kv, id)).map((m) => m.userId)));
    }
    for (const [i, u] of [a, b, c].entries()) {
      const own = byUser.get(u.userId)!;
      const joined = new Map<string, number>();
      for (const id of own) joined.set(id, (await getMember(server.kv, id, u.userId))!.joinedSeq);
      const peers = new Set<string>();
      for (const e of await listUserConvs(server.kv, u.userId)) if (e.peerId) peers.add(e.peerId);
      world.users.push({
        id: u.userId,
        name: "ABC"[i],
        client: u.client,
        own,
        foreign: [...all].filter((id) => !own.includes(id)),
        joined,
        peers,
      });
    }
    const ids = [a, b, c].map((u) => u.userId);
    for (const [i, u] of [a, b, c].entries()) {
      for (const e of await listUserConvs(server.kv, u.userId)) {
        const pair = [u.userId, e.peerId].map((id) => "ABC"[ids.indexOf(id!)] ?? id).join("-");
        world.labels.set(
          e.convId,
          named[e.convId] ?? (e.peerId ? `${e.kind} ${pair}` : `${e.kind} of ${"ABC"[i]}`),
        );
      }
    }
    for (const id of all) {
      const head = (await server.kv.get<{ seq: number }>(keys.convHead(id))).value?.seq ?? 0;
      world.seen(id, head);
    }
    return world;
  }
}
