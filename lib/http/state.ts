/** The typed per-request state every route sees (Hono `c.var`). */
import type { Context } from "hono";
import type { Config } from "./config.ts";
import type { Mailer } from "../mail/mail.ts";
import type { Locale } from "../i18n/i18n.ts";
import type { User } from "../accounts/users.ts";
import type { Session } from "../accounts/sessions.ts";
import type { Assets } from "./assets.ts";
import type { Realtime } from "../realtime/realtime.ts";
import type { GuardPool } from "./guard/pool.ts";
import type { BodyRule } from "./body.ts";

/** What the app is built from; tests pass their own. */
export interface Deps {
  kv: Deno.Kv;
  config: Config;
  mailer: Mailer;
  assets: Assets;
  rt: Realtime;
  guard?: GuardPool | null;
  now?: () => number;
}

export interface Vars {
  deps: Deps;
  nonce: string;
  locale: Locale;
  ip: string;
  user: User | null;
  session: Session | null;
  /** Friend requests waiting for the user's answer (pages show it in the header). */
  friendRequests: number;
  /** Unread messages in conversations not muted (pages show it on the "Chats" tab). */
  unread: number;
  /** The body cap of the matched route (lib/http/body.ts). */
  bodyRule: BodyRule | undefined;
  /** The body, already read under that cap (not for uploads, which the handler reads). */
  body: Uint8Array | undefined;
}

export type Env = { Variables: Vars };
export type Ctx = Context<Env>;
