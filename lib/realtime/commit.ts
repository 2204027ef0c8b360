/**
 * One attempt to commit a batch of a shard's queue as one atomic write, in named steps: screen
 * the messages against the state read (lib/realtime/shard_cache.ts), run their prepare()s, give
 * each the next seq of its conversation, add the conversations' heads, the events and their
 * writes, and the fan-out log entries. Nothing is answered until the write committed.
 */
import { keys } from "../kv/keys.ts";
import { newId } from "../ids.ts";
import type { ConvHead } from "../chat/conversations.ts";
import type { Ack, Prepared } from "../chat/events.ts";
import { HttpError } from "../errors.ts";
import type { Message } from "../wire/protocol.ts";
import type { FanEvent } from "./fan_event.ts";
import { type Item, type MsgItem, pairKey } from "./batch.ts";
import type { ReadState } from "./shard_cache.ts";

const FAN_TTL_MS = 10 * 60_000;
/**
 * A commit's events go in as few fan-out log entries as fit: KV takes values up to 64 KiB (V8's
 * serialization: at most two bytes a character), so an entry holds events up to this estimate.
 */
const FAN_ENTRY_BYTES = 60_000;
const CLIENT_ID_TTL_MS = 7 * 24 * 3600_000;

/** A message that passed screening, with its prepare() started (the first of its cid only). */
interface Ready {
  it: MsgItem;
  dupKey: string;
  prep?: Promise<Prep>;
}

type Prep = { ok: Prepared } | { err: Error };

/** Answers an item once; a retried attempt skips what is answered. */
function refuse(it: MsgItem, err: Error): void {
  it.done = true;
  it.reject(err);
}

const notMember = (conv: string) =>
  new HttpError(403, "not_member", `Not a member of conversation "${conv}"`);

/**
 * Refuses what cannot commit (no such conversation, not a member, not admitted), answers a cid
 * committed before with its first ack, and starts prepare() for the rest. Prepares of one batch
 * run side by side; each reads the state before the batch either way.
 */
export function screen(msgs: MsgItem[], state: ReadState, now: number): Ready[] {
  const ready: Ready[] = [];
  const firstSeen = new Set<string>();
  for (let i = 0; i < msgs.length; i++) {
    const it = msgs[i];
    const inp = it.input;
    // The same answer as for a conversation one is not in: ids are not probed this way.
    if (!state.heads.get(inp.conv)!.value) {
      refuse(it, notMember(inp.conv));
      continue;
    }
    const prior = state.clientIds[i].value;
    if (prior) {
      it.done = true;
      const { seq, at, id } = prior;
      it.resolve({ conv: inp.conv, seq, at, id, cid: inp.cid, duplicate: true });
      continue;
    }
    if (inp.checkMember) {
      const member = state.members.get(pairKey(inp.conv, inp.sender))?.value;
      if (!member) {
        refuse(it, notMember(inp.conv));
        continue;
      }
      try {
        inp.admit?.(member, now);
      } catch (err) {
        refuse(it, err as Error);
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
  /** The last fan-out log entry this write adds (set by fanLog()). */
  #last: number;
  readonly events: FanEvent[] = [];
  readonly acks: [MsgItem, Ack][] = [];
  /** The new head seq of each conversation written to. */
  readonly #seqs = new Map<string, number>();
  readonly #lasts = new Map<string, ConvHead["last"]>();
  readonly #readUpTo = new Map<string, number>();
  readonly newHeads = new Map<string, ConvHead>();
  #writes = 0;

  constructor(kv: Deno.Kv, readonly state: ReadState, private readonly now: number) {
    this.op = kv.atomic().check(state.fanHead);
    for (const h of state.heads.values()) this.op.check(h);
    for (const m of state.members.values()) if (m.value) this.op.check(m);
    this.#last = state.fanHead.value ?? 0;
  }

  get empty(): boolean {
    return !this.events.length && !this.#writes;
  }

  /** The fan-out log entries this write adds (first..last), once fanLog() has run. */
  get entries(): [number, number] {
    return [(this.state.fanHead.value ?? 0) + 1, this.#last];
  }

  /**
   * Gives each screened message the next seq of its conversation and writes it with its client
   * id, its prepare()'s checks and writes, and an event. The same cid twice in one batch gets the
   * first one's ack; a failed prepare() refuses every message with its cid.
   */
  messages(ready: Ready[], preps: (Prep | undefined)[]): void {
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
        refuse(it, err);
        failedOf.set(dupKey, err);
        continue;
      }
      const ack = this.#message(it, prep && "ok" in prep ? prep.ok : null);
      firstOf.set(dupKey, ack);
      this.acks.push([it, ack]);
    }
    for (const [pair, seq] of this.#readUpTo) {
      this.op.max(keys.read(...(pair.split("\u0000") as [string, string])), BigInt(seq));
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
    if (extra) {
      for (const c of extra.checks) this.op.check(c);
      extra.apply(this.op, seq);
    }
    this.op.set(keys.msg(inp.conv, seq), msg);
    this.op.set(keys.msgClient(inp.conv, inp.sender, inp.cid), { seq, at: now, id: msg.id }, {
      expireIn: CLIENT_ID_TTL_MS,
    });
    // Whoever sends has read up to their message (the bot too, so its DM shows it as read);
    // one write per sender and conversation in the batch, for their last message.
    if (inp.kind !== "system") this.#readUpTo.set(pairKey(inp.conv, inp.sender), seq);
    // A message only its sender sees does not become everyone's list preview.
    if (!msg.only) {
      this.#lasts.set(inp.conv, {
        from: inp.sender,
        kind: inp.kind,
        text: inp.text.slice(0, 120),
        ...(inp.meta ? { meta: inp.meta } : {}),
      });
    }
    this.#event({ t: "msg", msg });
    return { conv: inp.conv, seq, at: now, id: msg.id, cid: inp.cid, duplicate: false };
  }

  #event(ev: FanEvent): void {
    this.events.push(ev);
  }

  /** The new head of every conversation that got a message. */
  heads(): void {
    for (const [conv, seq] of this.#seqs) {
      const prev = this.state.heads.get(conv)!.value!;
      const head: ConvHead = {
        seq,
        at: this.#lasts.has(conv) ? this.now : prev.at,
        last: this.#lasts.get(conv) ?? prev.last,
      };
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
   * The fan-out log entries and the shard's new head: what other isolates follow. One entry holds
   * as many of the commit's events as fit (usually all of them), so a batch of messages costs one
   * log write, not one per message.
   */
  fanLog(shard: number, origin: string): void {
    let n = this.state.fanHead.value ?? 0;
    let evs: FanEvent[] = [];
    let bytes = 0;
    const flush = () => {
      if (!evs.length) return;
      this.op.set(keys.fan(shard, ++n), { evs, origin }, { expireIn: FAN_TTL_MS });
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
    this.#last = n;
    this.op.set(keys.fanHead(shard), n);
  }
}
