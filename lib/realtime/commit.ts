/**
 * One attempt to commit a batch of a lane's queue as one atomic write, in named steps: screen
 * the messages against the state read (lib/realtime/shard_cache.ts), run their prepare()s, give
 * each the next seq of its conversation, add the conversations' heads and the senders' records,
 * the events and their writes, and the entries of this lane's fan-out stream. Nothing is answered
 * until the write committed.
 *
 * What a message costs: the message itself, plus per conversation and commit its head, per sender
 * and conversation and commit the sender's record (the client ids that make a retry idempotent)
 * and read cursor, and per commit one stream entry and the stream's head. A batch of many
 * messages of few conversations costs about one write a message.
 */
import { keys } from "../kv/keys.ts";
import { newId } from "../ids.ts";
import { type ConvHead, HEAD_MENTIONS, HEAD_UPDATES } from "../chat/conversations.ts";
import type { Ack, Prepared } from "../chat/events.ts";
import { HttpError } from "../errors.ts";
import type { Message } from "../wire/protocol.ts";
import type { FanEvent, FanHead } from "./fan_event.ts";
import { type Item, type MsgItem, pairKey, splitPair } from "./batch.ts";
import type { ReadState, SentRecord } from "./shard_cache.ts";
import { FAN_TTL_MS } from "./watcher.ts";

/**
 * A commit's events go in as few fan-out log entries as fit: KV takes values up to 64 KiB (V8's
 * serialization: at most two bytes a character), so an entry holds events up to this estimate.
 */
const FAN_ENTRY_BYTES = 60_000;
/**
 * Client ids kept per sender and conversation: a retry of any of the sender's last this many
 * messages there is answered with its first ack. Clients resume before they send again and drop
 * what the log already has (islands/chat/client.ts), so a retry is of the last few at most.
 */
export const SENT_CIDS = 32;
/** Senders whose own last seq a conversation's head keeps (ConvHead.by). */
export const HEAD_SENDERS = 16;

/** A message that passed screening, with its prepare() started (the first of its cid only). */
interface Ready {
  it: MsgItem;
  dupKey: string;
  prep?: Promise<Prep>;
}

type Prep = { ok: Prepared } | { err: Error };

/**
 * The messages an attempt refuses. They are answered only once the attempt stands: a refusal that
 * rests on kept state (lib/realtime/shard_cache.ts) is checked against a fresh read first.
 */
export type Refusals = [MsgItem, Error][];

const notMember = (conv: string) =>
  new HttpError(403, "not_member", `Not a member of conversation "${conv}"`);

/**
 * Refuses what cannot commit (no such conversation, not a member, not admitted), answers a cid
 * committed before with its first ack, and starts prepare() for the rest. Prepares of one batch
 * run side by side; each reads the state before the batch either way.
 */
export function screen(
  msgs: MsgItem[],
  state: ReadState,
  now: number,
  refused: Refusals,
): Ready[] {
  const ready: Ready[] = [];
  const firstSeen = new Set<string>();
  for (let i = 0; i < msgs.length; i++) {
    const it = msgs[i];
    const inp = it.input;
    // The same answer as for a conversation one is not in: ids are not probed this way.
    if (!state.heads.get(inp.conv)!.value) {
      refused.push([it, notMember(inp.conv)]);
      continue;
    }
    const prior = state.sent.get(pairKey(inp.conv, inp.sender))!.value?.cids.find((c) =>
      c[0] === inp.cid
    );
    if (prior) {
      it.done = true;
      const [, seq, at, id] = prior;
      it.resolve({ conv: inp.conv, seq, at, id, cid: inp.cid, duplicate: true });
      continue;
    }
    if (inp.checkMember) {
      const member = state.members.get(pairKey(inp.conv, inp.sender))?.value;
      if (!member) {
        refused.push([it, notMember(inp.conv)]);
        continue;
      }
      try {
        inp.admit?.(member, now);
      } catch (err) {
        refused.push([it, err as Error]);
        continue;
      }
    }
    const dupKey = `${inp.conv}\u0000${inp.sender}\u0000${inp.cid}`;
    const prep = !firstSeen.has(dupKey) && inp.prepare
      ? Promise.resolve().then(() => inp.prepare!(state.reads[i])).then(
        (ok): Prep => ({ ok }),
        (err: Error): Prep => ({ err }),
      )
      : undefined;
    firstSeen.add(dupKey);
    ready.push({ it, dupKey, prep });
  }
  return ready;
}

/** The atomic write being built for one attempt, and what to answer once it commits. */
export class Draft {
  readonly op: Deno.AtomicOperation;
  readonly events: FanEvent[] = [];
  readonly acks: [MsgItem, Ack][] = [];
  /** The new head seq of each conversation written to. */
  readonly #seqs = new Map<string, number>();
  readonly #lasts = new Map<string, ConvHead["last"]>();
  readonly #readUpTo = new Map<string, number>();
  /** Per conversation, the seqs of this commit's update entries. */
  readonly #updates = new Map<string, number[]>();
  /** Per conversation, the @mentions of this commit's messages: [user or "all", seq]. */
  readonly #mentions = new Map<string, [string, number][]>();
  readonly newHeads = new Map<string, ConvHead>();
  /** The senders' records this write stores, by pairKey(conv, sender). */
  readonly newSent = new Map<string, SentRecord>();
  /** The stream head this write sets (by fanLog()), when it adds entries. */
  streamHead: FanHead | null = null;
  #writes = 0;

  constructor(kv: Deno.Kv, readonly state: ReadState, private readonly now: number) {
    this.op = kv.atomic();
    // The heads' checks cover the memberships too: every membership change is a system message
    // (lib/groups/groups.ts groupChange), so it moves the head in the write that changes it.
    for (const h of state.heads.values()) this.op.check(h);
  }

  get empty(): boolean {
    return !this.events.length && !this.#writes;
  }

  /**
   * Gives each screened message the next seq of its conversation and writes it with its client
   * id, its prepare()'s checks and writes, and an event. The same cid twice in one batch gets the
   * first one's ack; a failed prepare() refuses every message with its cid.
   */
  messages(ready: Ready[], preps: (Prep | undefined)[], refused: Refusals): void {
    const firstOf = new Map<string, Ack>();
    const failedOf = new Map<string, Error>();
    for (let j = 0; j < ready.length; j++) {
      const { it, dupKey } = ready[j];
      const first = firstOf.get(dupKey);
      if (first) {
        this.acks.push([it, { ...first, duplicate: true }]);
        continue;
      }
      const prep = preps[j];
      const err = prep && "err" in prep ? prep.err : failedOf.get(dupKey);
      if (err) {
        refused.push([it, err]);
        failedOf.set(dupKey, err);
        continue;
      }
      const ack = this.#message(it, prep && "ok" in prep ? prep.ok : null);
      firstOf.set(dupKey, ack);
      this.acks.push([it, ack]);
    }
    for (const [pair, rec] of this.newSent) {
      if (rec.cids.length > SENT_CIDS) rec.cids.splice(0, rec.cids.length - SENT_CIDS);
      this.op.set(keys.sent(...splitPair(pair)), rec);
    }
  }

  #message(it: MsgItem, extra: Prepared | null): Ack {
    const inp = it.input;
    const now = this.now;
    const head = this.state.heads.get(inp.conv)!.value!;
    const seq = (this.#seqs.get(inp.conv) ?? head.seq) + 1;
    this.#seqs.set(inp.conv, seq);
    const msg: Message = {
      conv: inp.conv,
      seq,
      id: newId(now),
      from: inp.sender,
      kind: inp.kind,
      text: inp.text,
      at: now,
      cid: inp.cid,
    };
    if (inp.meta) msg.meta = inp.meta;
    if (extra?.only) msg.only = extra.only;
    if (extra?.fields?.reply) msg.reply = extra.fields.reply;
    if (extra?.fields?.media) msg.media = extra.fields.media;
    if (extra?.fields?.mentions?.length) {
      msg.mentions = extra.fields.mentions;
      const list = listOf(this.#mentions, inp.conv);
      for (const u of msg.mentions) list.push([u, seq]);
    }
    if (extra) {
      for (const c of extra.checks) this.op.check(c);
      extra.apply(this.op, seq);
    }
    this.op.set(keys.msg(inp.conv, seq), msg);
    const pair = pairKey(inp.conv, inp.sender);
    let sent = this.newSent.get(pair);
    if (!sent) {
      sent = { cids: [...(this.state.sent.get(pair)?.value?.cids ?? [])] };
      this.newSent.set(pair, sent);
    }
    sent.cids.push([inp.cid, seq, now, msg.id]);
    // Whoever sends has read up to their message (the bot too, so its DM shows it as read);
    // one write per sender and conversation in the batch, for their last message.
    if (inp.kind !== "system") this.#readUpTo.set(pair, seq);
    if (inp.kind === "update") listOf(this.#updates, inp.conv).push(seq);
    // A message only its sender sees does not become everyone's list preview, and a reaction
    // does not either (nor move the conversation up the list); a recall does, as in WeChat.
    if (!msg.only && inp.meta?.event !== "react") {
      this.#lasts.set(inp.conv, {
        from: inp.sender,
        kind: inp.kind,
        text: inp.text.slice(0, 120),
        ...(inp.meta ? { meta: inp.meta } : {}),
        ...(msg.media ? { media: msg.media.kind } : {}),
      });
    }
    this.#event({ t: "msg", msg });
    return { conv: inp.conv, seq, at: now, id: msg.id, cid: inp.cid, duplicate: false };
  }

  #event(ev: FanEvent): void {
    this.events.push(ev);
  }

  /**
   * The new head of every conversation that got a message, with its latest senders' own last
   * seqs (`by`): a sender has read up to their own message, and the head is written anyway. A
   * sender who drops out of `by` gets that seq in their read cursor key instead.
   */
  heads(): void {
    const by = new Map<string, Record<string, number>>();
    for (const [pair, seq] of this.#readUpTo) {
      const [conv, user] = splitPair(pair);
      let rec = by.get(conv);
      if (!rec) by.set(conv, rec = { ...this.state.heads.get(conv)!.value!.by });
      delete rec[user]; // re-added last: the newest sender stays longest
      rec[user] = seq;
    }
    for (const [conv, seq] of this.#seqs) {
      const prev = this.state.heads.get(conv)!.value!;
      const head: ConvHead = {
        seq,
        at: this.#lasts.has(conv) ? this.now : prev.at,
        last: this.#lasts.get(conv) ?? prev.last,
      };
      const rec = by.get(conv) ?? prev.by;
      if (rec) {
        const users = Object.keys(rec);
        for (const user of users.slice(0, Math.max(0, users.length - HEAD_SENDERS))) {
          this.op.max(keys.read(conv, user), BigInt(rec[user]));
          delete rec[user];
        }
        head.by = rec;
      }
      const upd = this.#updates.get(conv);
      if (upd || prev.upd) head.upd = [...(prev.upd ?? []), ...(upd ?? [])].slice(-HEAD_UPDATES);
      const called = this.#mentions.get(conv);
      if (called || prev.ment || prev.mentAll) {
        const all = Math.max(
          prev.mentAll ?? 0,
          ...(called ?? []).filter(([u]) => u === "all").map(([, s]) => s),
        );
        // Newest last; one entry per user (their latest); the oldest go past HEAD_MENTIONS.
        const latest = new Map<string, number>();
        for (const [u, seq] of [...(prev.ment ?? []), ...(called ?? [])]) {
          if (u === "all") continue;
          latest.delete(u);
          latest.set(u, seq);
        }
        const ment = [...latest].slice(-HEAD_MENTIONS);
        if (ment.length) head.ment = ment;
        if (all) head.mentAll = all;
      }
      this.newHeads.set(conv, head);
      this.op.set(keys.convHead(conv), head);
    }
  }

  /** The published events and the small writes that ride along. */
  eventItems(items: Item[]): void {
    for (const it of items) {
      if (it.t !== "event" || it.done) continue;
      if (it.ev) this.#event(it.ev);
      for (const w of it.writes ?? []) {
        if (w.value === undefined) this.op.delete(w.key);
        else this.op.set(w.key, w.value, w.expireIn ? { expireIn: w.expireIn } : undefined);
        this.#writes++;
      }
    }
  }

  /**
   * This lane's stream entries after `head`, and its new head: what other isolates follow. One
   * entry holds as many of the commit's events as fit (usually all of them), so a batch costs one
   * stream write, not one per message. When that one entry is all, the head carries its events
   * too: a follower that sees every head (the usual case) reads nothing more (watcher.ts).
   * Returns the new head.
   */
  fanLog(isolate: string, lane: number, head: number): number {
    let n = head;
    let evs: FanEvent[] = [];
    let bytes = 0;
    let first: FanEvent[] | null = null;
    const flush = () => {
      if (!evs.length) return;
      this.op.set(keys.fan(isolate, lane, ++n), { evs }, { expireIn: FAN_TTL_MS });
      if (n === head + 1) first = evs;
      evs = [];
      bytes = 0;
    };
    for (const ev of this.events) {
      const size = JSON.stringify(ev).length * 2 + 64;
      if (bytes + size > FAN_ENTRY_BYTES) flush();
      evs.push(ev);
      bytes += size;
    }
    flush();
    if (n !== head) {
      const value: FanHead = n === head + 1 && first ? { n, evs: first } : { n };
      this.op.set(keys.fanHead(isolate, lane), value);
      this.streamHead = value;
    }
    return n;
  }
}

/** The list kept under `key`, made empty the first time. */
function listOf<T>(map: Map<string, T[]>, key: string): T[] {
  let list = map.get(key);
  if (!list) map.set(key, list = []);
  return list;
}
