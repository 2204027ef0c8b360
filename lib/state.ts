/** The typed per-request state every route sees (Hono `c.var`). */
import type { Context } from "hono";
import type { Config } from "./config.ts";
import type { Mailer } from "./mail.ts";
import type { Locale } from "./i18n.ts";
import type { User } from "./users.ts";
import type { Session } from "./sessions.ts";
import type { Assets } from "./assets.ts";
import type { Realtime } from "./realtime.ts";
import type { ConnGuard } from "./conn_guard.ts";

/** What the app is built from; tests pass their own. */
export interface Deps {
  kv: Deno.Kv;
  config: Config;
  mailer: Mailer;
  assets: Assets;
  rt: Realtime;
  guard?: ConnGuard | null;
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
}

export type Env = { Variables: Vars };
export type Ctx = Context<Env>;
