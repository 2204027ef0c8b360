/** Test support for the group unit tests: in-memory KV, a movable clock, users, friendships. */
import assert from "node:assert/strict";
import { Realtime } from "../realtime/realtime.ts";
import { createUser, updateUser, type User } from "../accounts/users.ts";
import { keys } from "../kv/keys.ts";
import { HttpError } from "../errors.ts";
import type { Message, ServerFrame } from "../wire/protocol.ts";
import type { Control } from "../chat/events.ts";
import type { Member } from "../chat/conversations.ts";

let n = 0;

export interface World {
  kv: Deno.Kv;
  rt: Realtime;
  clock: { t: number; advance(ms: number): void };
  user(name?: string): Promise<User>;
  befriend(a: User, ...others: User[]): Promise<void>;
  block(blocker: User, blocked: User): Promise<void>;
  /** Frames and controls pushed to a user's sockets on this isolate. */
  listen(user: User): { frames: ServerFrame[]; controls: Control[] };
  members(conv: string): Promise<Member[]>;
  log(conv: string): Promise<Message[]>;
  close(): void;
}

export async function world(): Promise<World> {
  const kv = await Deno.openKv(":memory:");
  const clock = {
    t: Date.UTC(2030, 0, 1),
    advance(ms: number) {
      clock.t += ms;
    },
  };
  const rt = new Realtime(kv, () => clock.t);
  return {
    kv,
    rt,
    clock,
    async user(name = "u") {
      const id = `${name}${n++}`;
      const u = await createUser(kv, {
        username: id,
        email: `${id}@example.com`,
        passwordHash: "x",
        nickname: `Nick ${id}`,
        locale: "en",
      }, clock.t);
      return await updateUser(kv, u.id, (x) => ({ ...x, activatedAt: clock.t }));
    },
    async befriend(a, ...others) {
      for (const b of others) {
        const f = { since: clock.t, remark: "", dm: "" };
        await kv.atomic().set(keys.friend(a.id, b.id), f).set(keys.friend(b.id, a.id), f).commit();
      }
    },
    async block(blocker, blocked) {
      await kv.set(keys.block(blocker.id, blocked.id), clock.t);
    },
    listen(user) {
      const got = { frames: [] as ServerFrame[], controls: [] as Control[] };
      rt.hub.addUser({
        userId: user.id,
        sessionId: `s${n++}`,
        deliverMsg: () => {},
        send: (f) => got.frames.push(f),
        control: (c) => got.controls.push(c),
        pump: () => {},
      });
      return got;
    },
    async members(conv) {
      const out: Member[] = [];
      for await (const e of kv.list<Member>({ prefix: keys.members(conv) })) out.push(e.value);
      return out;
    },
    async log(conv) {
      const out: Message[] = [];
      for await (const e of kv.list<Message>({ prefix: keys.msgs(conv) })) out.push(e.value);
      return out;
    },
    close: () => kv.close(),
  };
}

/** Asserts that `p` fails with an HttpError of this status and code. */
export async function refused(
  p: Promise<unknown>,
  status: number,
  code: string,
): Promise<HttpError> {
  const err = await p.then(() => null, (e) => e);
  assert.ok(
    err instanceof HttpError,
    `expected ${status} ${code}, got ${err === null ? "success" : String(err)}`,
  );
  assert.equal(`${err.status} ${err.code}`, `${status} ${code}`, err.message);
  return err;
}

/** Every KV key with its versionstamp: equal before and after means nothing changed. */
export async function kvState(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: [] })) {
    out.push(`${JSON.stringify(e.key)}@${e.versionstamp}`);
  }
  return out;
}
