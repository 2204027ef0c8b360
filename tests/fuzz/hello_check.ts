/**
 * The handshake and the message stream of one fuzz socket: `welcome` lists exactly the user's
 * conversations, the resume replays exactly what was missed (or a gap), and from then on every
 * conversation's messages arrive in seq order without holes or repeats.
 */
import {
  PROTOCOL_VERSION,
  RESUME_MAX_PER_CONV,
  type ServerFrame,
} from "../../lib/wire/protocol.ts";
import { checkMessage } from "./checks.ts";
import type { FuzzSocket } from "./socket.ts";

export class HelloCheck {
  welcomed = false;
  ready = false;
  #resume: Record<string, number> | null = null;
  /** Per conversation: the seq the next message must have. */
  readonly #next = new Map<string, number>();
  /** Per conversation: its newest seq in `welcome`. */
  readonly #end = new Map<string, number>();
  readonly #gaps = new Map<string, { after: number; lastSeq: number }>();

  constructor(readonly s: FuzzSocket) {}

  get pending(): boolean {
    return this.#resume !== null && !this.ready;
  }

  sent(resume: Record<string, number>): void {
    this.#resume = resume;
  }

  /** Takes the handshake frames and messages; false for anything else. */
  receive(f: ServerFrame): boolean {
    switch (f.type) {
      case "welcome":
        this.#welcome(f);
        return true;
      case "resumed":
        this.#resumed();
        return true;
      case "msg":
        this.#msg(f.msg);
        return true;
      case "gap": {
        const g = this.#gaps.get(f.conv);
        if (this.ready || !g || g.after !== f.after || g.lastSeq !== f.lastSeq) return false;
        this.#gaps.delete(f.conv);
        return true;
      }
    }
    return false;
  }

  #welcome(f: Extract<ServerFrame, { type: "welcome" }>): void {
    const { s } = this;
    if (!this.#resume || this.welcomed) return s.fail("welcome without a hello");
    this.welcomed = true;
    if (f.v !== PROTOCOL_VERSION || f.me.id !== s.user.id) {
      return s.fail("welcome of the wrong version or user");
    }
    const ids = f.convs.map((c) => c.id).sort();
    if (JSON.stringify(ids) !== JSON.stringify([...s.user.own].sort())) {
      return s.fail(`welcome lists ${ids}, the user is in ${[...s.user.own].sort()}`);
    }
    for (const c of f.convs) {
      const joined = s.user.joined.get(c.id) ?? 0;
      if (c.readSeq < joined) {
        return s.fail(`welcome: readSeq ${c.readSeq} below the join seq ${joined} in "${c.id}"`);
      }
      s.world.seen(c.id, c.lastSeq);
      this.#end.set(c.id, c.lastSeq);
      const asked = this.#resume[c.id];
      if (asked === undefined || asked >= c.lastSeq) {
        this.#next.set(c.id, c.lastSeq + 1);
        continue;
      }
      const from = Math.max(asked, joined);
      if (c.lastSeq - from > RESUME_MAX_PER_CONV) {
        this.#gaps.set(c.id, { after: from, lastSeq: c.lastSeq });
        this.#next.set(c.id, c.lastSeq + 1);
      } else this.#next.set(c.id, from + 1);
    }
  }

  #resumed(): void {
    const { s } = this;
    if (!this.welcomed || this.ready) return s.fail("resumed without a welcome, or twice");
    this.ready = true;
    for (const [conv, g] of this.#gaps) {
      return s.fail(`no gap for "${conv}" (resume from ${g.after}, newest ${g.lastSeq})`);
    }
    for (const [conv, end] of this.#end) {
      const next = this.#next.get(conv)!;
      if (next <= end) {
        return s.fail(`resume replay of "${conv}" stopped at ${next - 1}, newest is ${end}`);
      }
    }
  }

  #msg(m: Extract<ServerFrame, { type: "msg" }>["msg"]): void {
    const { s } = this;
    const next = this.#next.get(m.conv);
    if (next === undefined) return s.fail(`msg of "${m.conv}", not in this socket's welcome`);
    if (this.#gaps.has(m.conv)) return s.fail(`msg of "${m.conv}" before its resume gap`);
    if (m.seq !== next) return s.fail(`msg seq ${m.seq} in "${m.conv}", expected ${next}`);
    this.#next.set(m.conv, next + 1);
    s.world.seen(m.conv, m.seq);
    const problem = checkMessage(m, m.conv, s.world.members.get(m.conv)!);
    if (problem) s.fail(problem);
  }
}
