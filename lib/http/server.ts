/**
 * Opens storage, builds the app and serves it: shared by main.ts, worker.ts and the end-to-end
 * tests, each of which passes the app to build (routes/mod.ts buildApp).
 */
import { guardedFetch } from "../bots/outbound.ts";
import type { Hono } from "hono";
import { type Config, ConfigError } from "./config.ts";
import type { Deps, Env } from "./state.ts";
import { type Assets, loadAssets } from "./assets.ts";
import { type Mailer, outboxMailer, smtpMailer } from "../mail/mail.ts";
import { log } from "../log.ts";
import { retryOnBusy } from "../kv/busy.ts";
import { Realtime } from "../realtime/realtime.ts";
import { totalFromDescriptorLimit } from "./guard/guard.ts";
import { GuardPool } from "./guard/pool.ts";
import { listen, type Listening } from "./listen.ts";

export interface Running {
  kv: Deno.Kv;
  config: Config;
  rt: Realtime;
  /** The connection guard in front of Deno.serve, unless CONN_GUARD=0. */
  guard: GuardPool | null;
  port: number;
  origin: string;
  /** Stops serving and closes KV. */
  close(): Promise<void>;
}

/** Opens KV from the config: remote URL, ":memory:", or a local file (its folder is created). */
export async function openStore(config: Config): Promise<Deno.Kv> {
  if (config.kvUrl) {
    try {
      return await Deno.openKv(config.kvUrl);
    } catch (err) {
      throw new ConfigError(`Cannot open DENO_KV_URL: ${(err as Error).message}`);
    }
  }
  if (config.kvPath === ":memory:") return await Deno.openKv(":memory:");
  if (config.kvPath === "") {
    try {
      return await Deno.openKv();
    } catch (err) {
      throw new ConfigError(`Cannot open the platform's KV store: ${(err as Error).message}`);
    }
  }
  const dir = config.kvPath.includes("/")
    ? config.kvPath.slice(0, config.kvPath.lastIndexOf("/"))
    : ".";
  try {
    if (dir) await Deno.mkdir(dir, { recursive: true });
    const kv = retryOnBusy(await Deno.openKv(config.kvPath));
    await kv.set(["_boot"], Date.now());
    return kv;
  } catch (err) {
    // Deno's own --allow-write, not the OS, said no: its message would suggest changing the flags.
    const why = err instanceof Deno.errors.NotCapable
      ? "Deno's permissions do not allow writing there (the start task allows only ./data/)"
      : (err as Error).message.split("\n")[0];
    throw new ConfigError(`Cannot open the KV file "${config.kvPath}" (DENO_KV_PATH): ${why}`);
  }
}

/**
 * The settings of outgoing requests: webhooks and pushes go out under OUTBOUND_ALLOW; the language
 * model may also be on the host the operator named in BOT_LLM_URL (a local Ollama, say).
 */
function configureOutbound(rt: Realtime, config: Config): void {
  rt.webhooks.policy = config.outbound;
  rt.push.fetch = (url, init) => guardedFetch(url, init, config.outbound);
  rt.push.subject = config.adminEmail
    ? `mailto:${config.adminEmail}`
    : new URL(config.appOrigin).protocol === "https:"
    ? config.appOrigin
    : `mailto:admin@${new URL(config.appOrigin).hostname}`;
  rt.bot.llm = config.llm;
  if (config.llm) {
    const policy = {
      ...config.outbound,
      allow: [...config.outbound.allow, new URL(config.llm.url).hostname.replace(/^\[|\]$/g, "")],
    };
    // The model's own clocks (first token, stall, total) end a slow answer; this one only backs them.
    const timeoutMs = config.llm.timeoutMs + 1000;
    rt.bot.fetch = (url, init) => guardedFetch(url, { ...init, timeoutMs }, policy);
  }
}

/** Serves the app; with port 0 the OS picks one, and APP_ORIGIN follows it unless set. */
export async function startServer(
  config: Config,
  opts: {
    /** Builds the app from what startServer opened: routes/mod.ts buildApp. */
    app: (deps: Deps) => Hono<Env>;
    mailer?: Mailer;
    kv?: Deno.Kv;
    originFromPort?: boolean;
    now?: () => number;
    reusePort?: boolean;
    /** The built files; by default _build/ (a test may swap in a changed service worker). */
    assets?: Assets;
  },
): Promise<Running> {
  // Measured before anything else holds descriptors (and before serving: it takes them all).
  const guardMax = config.connGuard ? config.guard.maxTotal || totalFromDescriptorLimit() : 0;
  const kv = opts.kv ?? await openStore(config);
  const mailer = opts.mailer ??
    (config.smtpUrl
      ? smtpMailer(config.smtpUrl, config.mailFrom)
      : outboxMailer(kv, config.mailFrom));
  if (!config.smtpUrl && !config.devOutbox) {
    log.warn("mail.nowhere", {
      hint: "no SMTP_URL and the dev outbox is off: activation mail reaches nobody; set SMTP_URL",
    });
  }
  const assets = opts.assets ?? await loadAssets();
  if (!assets.bootUrl) {
    log.warn("assets.missing", {
      hint: "run `deno task build`: pages work, islands do not hydrate",
    });
  }
  const rt = new Realtime(kv, opts.now);
  configureOutbound(rt, config);
  await rt.start();
  const guard = config.connGuard
    ? new GuardPool({ ...config.guard, maxTotal: guardMax }, config.guardThreads)
    : null;
  const app = opts.app({ kv, config, mailer, assets, rt, guard, now: opts.now });
  const ac = new AbortController();
  let listening: Listening;
  try {
    listening = await listen(app.fetch, config, guard, {
      reusePort: opts.reusePort,
      signal: ac.signal,
    });
  } catch (err) {
    ac.abort();
    await guard?.closeAll();
    await rt.stop();
    kv.close();
    if (err instanceof Deno.errors.AddrInUse) {
      throw new ConfigError(`Port ${config.port} is already in use (set PORT to another port)`);
    }
    if (
      err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.AddrNotAvailable
    ) {
      throw new ConfigError(
        `Cannot listen on ${config.hostname}:${config.port}: ${(err as Error).message}`,
      );
    }
    throw err;
  }
  const port = listening.port;
  if (opts.originFromPort) config.appOrigin = `http://127.0.0.1:${port}`;
  else if (new URL(config.appOrigin).port === "0") {
    const url = new URL(config.appOrigin);
    url.port = String(port);
    config.appOrigin = url.origin;
  }
  log.info("server.listening", {
    port,
    origin: config.appOrigin,
    mail: mailer.kind,
    kv: config.kvUrl ? "remote" : config.kvPath,
    guard: guard ? { maxTotal: guard.limits.maxTotal, threads: guard.threads } : "off",
  });
  return {
    kv,
    config,
    rt,
    guard,
    port,
    origin: config.appOrigin,
    async close() {
      await guard?.stopAccepting();
      // Sockets get the "restarting" close through the guard, so it relays until they are done.
      await rt.stop();
      ac.abort();
      await listening.finished();
      await guard?.closeAll();
      kv.close();
    },
  };
}
