/** The realtime parts of one isolate: hub of sockets, the log writer, the fan-out watcher, presence. */
import { Hub } from "./hub.ts";
import { eventsOf, MessageLog } from "./message_log.ts";
import { FanoutWatcher } from "./watcher.ts";
import { Presence } from "./presence.ts";
import { newId } from "../ids.ts";
import { CLOSE } from "../wire/protocol.ts";
import { Conn } from "./conn.ts";
import {
  createGroup,
  ensureDm,
  getConversation,
  type Member,
  type UserConv,
} from "../chat/conversations.ts";
import type { Conversation } from "../chat/conversations.ts";
import { keys } from "../kv/keys.ts";
import { HttpError } from "../errors.ts";
import type { Ack, DomainDeps, Events } from "../chat/events.ts";

/** Also what the domain runs with (DomainDeps): the KV, the clock and the narrow `events`. */
export class Realtime implements DomainDeps {
  readonly isolate = newId();
  readonly hub = new Hub();
  readonly log: MessageLog;
  /** The log as the domain sees it: commit with its writes, notify users (lib/chat/events.ts). */
  readonly events: Events;
  readonly presence: Presence;
  readonly #watcher: FanoutWatcher;
  readonly conns = new Set<Conn>();

  constructor(readonly kv: Deno.Kv, readonly now: () => number = Date.now) {
    this.log = new MessageLog(kv, this.isolate, this.hub, now);
    this.events = eventsOf(this.log);
    this.presence = new Presence(kv, this.isolate, this.log, now);
    this.#watcher = new FanoutWatcher(kv, this.isolate, this.hub, this.log);
  }

  async start(): Promise<void> {
    await this.#watcher.start();
    this.presence.start();
  }

  /**
   * Tells every client to reconnect (they resume elsewhere), waits a little for the close
   * handshakes (the server must not stop under them, or clients see an abnormal close instead of
   * the shutdown code), then stops following the log.
   */
  async stop(graceMs = 2000): Promise<void> {
    const conns = [...this.conns];
    const closed = conns.map((c) =>
      new Promise<void>((resolve) => {
        if (c.ws.readyState === WebSocket.CLOSED) return resolve();
        c.ws.addEventListener("close", () => resolve(), { once: true });
      })
    );
    for (const c of conns) c.close(CLOSE.shutdown, "Server restarting");
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(closed), new Promise((r) => timer = setTimeout(r, graceMs))]);
    clearTimeout(timer);
    this.presence.stop();
    // The closed sockets' last presence writes go out before the log stops (bounded, too).
    await Promise.race([
      this.presence.settled(),
      new Promise((r) => timer = setTimeout(r, graceMs)),
    ]);
    clearTimeout(timer);
    await this.#watcher.stop();
  }

  connDeps() {
    return {
      kv: this.kv,
      log: this.log,
      hub: this.hub,
      presence: this.presence,
      isolate: this.isolate,
      now: this.now,
    };
  }

  /** Opens (or finds) the DM of two users and tells both users' sockets about it. */
  async openDm(a: string, b: string): Promise<Conversation> {
    const conv = await ensureDm(this.kv, a, b, this.now());
    await Promise.all(
      [a, b].map((user) =>
        this.log.publish({ t: "user", user, control: { kind: "conv_added", conv: conv.id } })
      ),
    );
    return conv;
  }

  /** Creates a group and tells every member's sockets. */
  async createGroup(ownerId: string, title: string, memberIds: string[]): Promise<Conversation> {
    const conv = await createGroup(this.kv, ownerId, title, memberIds, this.now());
    const all = [...new Set([ownerId, ...memberIds])];
    await Promise.all(
      all.map((user) =>
        this.log.publish({ t: "user", user, control: { kind: "conv_added", conv: conv.id } })
      ),
    );
    return conv;
  }

  /**
   * Adds a member to a group: the membership and a "joined" system message are one atomic write,
   * so the new member's sockets start receiving exactly from that message on.
   */
  async addMember(convId: string, userId: string, by: string): Promise<Ack> {
    const conv = await getConversation(this.kv, convId);
    if (!conv || conv.kind !== "group") {
      throw new HttpError(404, "not_found", `Group "${convId}" not found`);
    }
    return await this.log.append({
      conv: convId,
      sender: "system",
      cid: `add-${userId}-${crypto.randomUUID()}`,
      kind: "system",
      text: "",
      meta: { event: "member_added", userId, by },
      checkMember: false,
      prepare: async () => {
        const m = await this.kv.get(keys.member(convId, userId));
        if (m.value) throw new HttpError(409, "already_member", "Already a member");
        return {
          checks: [m],
          apply: (op, seq) => {
            const member: Member = {
              userId,
              role: "member",
              joinedAt: this.now(),
              joinedSeq: seq - 1,
            };
            const idx: UserConv = { convId, kind: "group" };
            op.set(keys.member(convId, userId), member).set(keys.userConv(userId, convId), idx);
          },
        };
      },
    });
  }

  /** Removes a member (left or removed): membership ends in the same write as the system message. */
  async removeMember(convId: string, userId: string, by: string): Promise<Ack> {
    return await this.log.append({
      conv: convId,
      sender: "system",
      cid: `rm-${userId}-${crypto.randomUUID()}`,
      kind: "system",
      text: "",
      meta: { event: by === userId ? "member_left" : "member_removed", userId, by },
      checkMember: false,
      prepare: async () => {
        const m = await this.kv.get(keys.member(convId, userId));
        if (!m.value) throw new HttpError(404, "not_member", "Not a member");
        return {
          checks: [m],
          apply: (op) => {
            op.delete(keys.member(convId, userId)).delete(keys.userConv(userId, convId));
          },
        };
      },
    });
  }

  /**
   * Closes the sockets of one session (logout), or of all a user's sessions but `keep`
   * (password change), on every isolate.
   */
  async endSessions(userId: string, sessionId?: string, keep?: string): Promise<void> {
    await this.events.toUsers([userId], {
      control: sessionId
        ? { kind: "session_revoked", sessionId }
        : { kind: "all_sessions_revoked", keep },
    });
  }
}
