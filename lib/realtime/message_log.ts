/**
 * The front of the durable log: appends messages and publishes events, each through the writer of
 * its lane in this isolate (lib/realtime/shard_writer.ts). Each committed message gets the next
 * per-conversation seq and, in the same atomic write, an entry in its lane's fan-out stream, a
 * stream only this isolate writes; this isolate delivers at once, the others follow the streams'
 * heads (lib/realtime/watcher.ts).
 */
import type { Ack, Events, MsgInput } from "../chat/events.ts";
import {
  type Dispatcher,
  type FanEvent,
  type FanHead,
  laneOf,
  LANES,
  type Write,
} from "./fan_event.ts";
import { ShardWriter } from "./shard_writer.ts";

export class MessageLog {
  #writers: ShardWriter[];

  /** @param isolate names this isolate's fan-out streams (a fresh id per start). */
  constructor(
    readonly kv: Deno.Kv,
    readonly isolate: string,
    local: Dispatcher,
    now: () => number = Date.now,
    readonly lanes = LANES,
  ) {
    this.#writers = Array.from(
      { length: lanes },
      (_, l) => new ShardWriter(l, kv, isolate, local, now),
    );
  }

  /** Told of every new stream head this isolate commits (lib/realtime/watcher.ts announces it). */
  set onHead(f: (lane: number, head: FanHead) => void) {
    for (const w of this.#writers) w.announce = f;
  }

  #writer(id: string): ShardWriter {
    return this.#writers[laneOf(id, this.lanes)];
  }

  /**
   * Another isolate's event, read from its stream: a message there means what this isolate kept of
   * the conversation is old (lib/realtime/shard_cache.ts).
   */
  observe(ev: FanEvent): void {
    if (ev.t === "msg") this.#writer(ev.msg.conv).cache.forgetConv(ev.msg.conv);
  }

  /** Appends a message; resolves with its ack once it is durable. A retried cid returns the first ack. */
  append(input: MsgInput): Promise<Ack> {
    return new Promise((resolve, reject) =>
      this.#writer(input.conv).push({ t: "msg", input, resolve, reject })
    );
  }

  /** Publishes an event to every isolate (conversation events by conversation, user events by user). */
  publish(ev: FanEvent, writes?: Write[]): Promise<void> {
    const id = ev.t === "msg" ? ev.msg.conv : ev.t === "conv" ? ev.conv : ev.user;
    return new Promise((resolve, reject) =>
      this.#writer(id).push({ t: "event", ev, writes, resolve, reject })
    );
  }

  /**
   * Commits small writes (e.g. presence keys) with the next batch of the lane of `route`: a burst
   * of them is a few commits instead of one each.
   */
  write(route: string, writes: Write[]): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#writer(route).push({ t: "event", ev: null, writes, resolve, reject })
    );
  }
}

/**
 * The domain's view of the log (lib/chat/events.ts). It looks `append` and `publish` up at each
 * call, so a test that wraps them on the log sees the domain's writes too.
 */
export function eventsOf(log: MessageLog): Events {
  return {
    commit: (input) => log.append(input),
    toUsers: async (users, { frame, control }) => {
      await Promise.all(
        users.map((user) =>
          log.publish({
            t: "user",
            user,
            ...(frame ? { frame } : {}),
            ...(control ? { control } : {}),
          })
        ),
      );
    },
    toConv: (conv, frame, except) =>
      log.publish({ t: "conv", conv, ...(except !== undefined ? { except } : {}), frame }),
  };
}
