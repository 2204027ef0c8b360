/** Settings, all from environment variables (see README.md and .env.example). */
import { defaultGuardThreads } from "./guard/pool.ts";
import { type LlmConfig, llmConfigFromEnv } from "../chat/llm.ts";
import { type OutboundPolicy, parseAllow } from "../bots/outbound.ts";

/** A setting that cannot be used; main.ts prints its message as one line. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface Config {
  port: number;
  hostname: string;
  /** Public origin, e.g. "https://chat.example.com"; links in mail and the Origin allowlist. */
  appOrigin: string;
  /**
   * Local KV file path, ":memory:", or "" for the platform's own store (`Deno.openKv()` with no
   * argument: Deno Deploy's KV; the default there). Ignored when kvUrl is set.
   */
  kvPath: string;
  /** Running on Deno Deploy (it sets DENO_DEPLOYMENT_ID): its KV, its edge in front, no disk. */
  onDeploy: boolean;
  /** Remote KV (Deno Deploy KV or denokv over KV Connect). */
  kvUrl?: string;
  /** smtp://user:pass@host:port or smtps://…; without it mail goes to the dev outbox. */
  smtpUrl?: string;
  mailFrom: string;
  adminEmail?: string;
  /** Trust X-Forwarded-For for client addresses (only behind a proxy you run). */
  trustProxy: boolean;
  /** Serve /dev/outbox. On by default only when there is no SMTP and the origin is loopback. */
  devOutbox: boolean;
  /** DEV_OUTBOX=1 was set: serve the outbox to any client, not only to this machine. */
  devOutboxAnyClient: boolean;
  /** Bearer token for /metrics from other hosts (loopback needs none). */
  metricsToken?: string;
  /** The connection guard in front of Deno.serve (lib/http/guard/pool.ts); off: Deno.serve faces clients. */
  connGuard: boolean;
  /** Threads the guard accepts and relays in (lib/http/guard/pool.ts), each with its own listener. */
  guardThreads: number;
  /** The guard's limits that settings change; the rest are fixed (docs/deploy.md lists them). */
  guard: {
    maxPerAddress: number;
    /** 0: from the process's descriptor limit. */
    maxTotal: number;
    headerTimeoutMs: number;
    idleTimeoutMs: number;
  };
  /** How long a request body (JSON, form) may take to arrive before 408. */
  bodyTimeoutMs: number;
  /** The same for an upload (a picture of up to 5 MiB on a slow link). */
  uploadTimeoutMs: number;
  /** The language model the built-in bot may use (BOT_LLM_*), or null for its own brain alone. */
  llm: LlmConfig | null;
  /**
   * Outgoing requests (webhooks, the model): the private, loopback or link-local hosts, addresses
   * and ranges the operator allows (OUTBOUND_ALLOW); every other such address is refused.
   */
  outbound: OutboundPolicy;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** True when the origin's host is this machine. */
export function isLoopbackOrigin(origin: string): boolean {
  return LOOPBACK.has(new URL(origin).hostname);
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === "") return 8000;
  // Digits only: Number() would also take " ", "0x1F90" or "1e3".
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConfigError(`PORT must be a whole number from 0 to 65535, got "${raw}"`);
  }
  return n;
}

function parseOrigin(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`APP_ORIGIN must be a URL like "https://chat.example.com", got "${raw}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`APP_ORIGIN must start with http:// or https://, got "${raw}"`);
  }
  if (url.pathname !== "/" || url.search || url.hash) {
    throw new ConfigError(`APP_ORIGIN must be an origin without a path, got "${raw}"`);
  }
  return url.origin;
}

/** Checks SMTP_URL's form; the password is never echoed back. */
export function parseSmtpUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`SMTP_URL is not a valid URL (expected smtp://user:pass@host:587)`);
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:") {
    throw new ConfigError(`SMTP_URL must start with smtp:// or smtps://, got "${url.protocol}//"`);
  }
  if (!url.hostname) throw new ConfigError("SMTP_URL has no host");
  if (url.port && !(Number(url.port) > 0)) throw new ConfigError("SMTP_URL has an invalid port");
  const tls = url.searchParams.get("tls");
  if (tls !== null && tls !== "off" && tls !== "insecure") {
    throw new ConfigError(`SMTP_URL's ?tls= must be "off" or "insecure", got "${tls}"`);
  }
  return url;
}

function parseMs(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = /^\d{1,7}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 100 && n <= 3_600_000)) {
    throw new ConfigError(
      `${name} must be a whole number of milliseconds from 100 to 3600000, got "${raw}"`,
    );
  }
  return n;
}

function parseBool(name: string, raw: string | undefined): boolean | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (["1", "true", "yes", "on"].includes(raw.toLowerCase())) return true;
  if (["0", "false", "no", "off"].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name} must be 1 or 0, got "${raw}"`);
}

function parseCount(
  name: string,
  raw: string | undefined,
  fallback: number,
  range: [number, number],
): number {
  if (raw === undefined || raw === "") return fallback;
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= range[0] && n <= range[1])) {
    throw new ConfigError(
      `${name} must be a whole number from ${range[0]} to ${range[1]}, got "${raw}"`,
    );
  }
  return n;
}

/** Reads the config from an env getter (Deno.env.get by default). */
export function loadConfig(
  get: (name: string) => string | undefined = (n) => Deno.env.get(n),
): Config {
  const port = parsePort(get("PORT"));
  // With PORT=0 this is "http://localhost:0" until startServer() fills in the port it got.
  const appOrigin = parseOrigin(get("APP_ORIGIN") || `http://localhost:${port}`);
  const smtpUrl = get("SMTP_URL") || undefined;
  if (smtpUrl) parseSmtpUrl(smtpUrl);
  const mailFrom = get("MAIL_FROM") || `HappyChat <no-reply@${new URL(appOrigin).hostname}>`;
  const devOutboxSet = parseBool("DEV_OUTBOX", get("DEV_OUTBOX"));
  const devOutbox = devOutboxSet ?? (!smtpUrl && isLoopbackOrigin(appOrigin));
  const trustProxy = parseBool("TRUST_PROXY", get("TRUST_PROXY")) ?? false;
  const onDeploy = !!get("DENO_DEPLOYMENT_ID");
  return {
    port,
    hostname: get("HOSTNAME_BIND") || "0.0.0.0",
    appOrigin,
    kvPath: get("DENO_KV_PATH") || (onDeploy ? "" : "./data/happychat.sqlite3"),
    onDeploy,
    kvUrl: get("DENO_KV_URL") || undefined,
    smtpUrl,
    mailFrom,
    adminEmail: get("ADMIN_EMAIL") || undefined,
    trustProxy,
    devOutbox,
    devOutboxAnyClient: devOutboxSet === true,
    metricsToken: get("METRICS_TOKEN") || undefined,
    // Behind your own proxy (TRUST_PROXY) the proxy holds the client connections and their limits;
    // on Deno Deploy its edge does, and an isolate there has no listener of its own to guard.
    connGuard: parseBool("CONN_GUARD", get("CONN_GUARD")) ?? (!trustProxy && !onDeploy),
    guardThreads: parseCount(
      "GUARD_THREADS",
      get("GUARD_THREADS"),
      defaultGuardThreads(),
      [1, 64],
    ),
    guard: {
      maxPerAddress: parseCount("CONN_MAX_PER_IP", get("CONN_MAX_PER_IP"), 256, [1, 1_000_000]),
      maxTotal: parseCount("CONN_MAX", get("CONN_MAX"), 0, [0, 10_000_000]),
      headerTimeoutMs: parseMs("HTTP_HEADER_TIMEOUT_MS", get("HTTP_HEADER_TIMEOUT_MS"), 10_000),
      idleTimeoutMs: parseMs("HTTP_IDLE_TIMEOUT_MS", get("HTTP_IDLE_TIMEOUT_MS"), 30_000),
    },
    bodyTimeoutMs: parseMs("BODY_TIMEOUT_MS", get("BODY_TIMEOUT_MS"), 30_000),
    uploadTimeoutMs: parseMs("UPLOAD_TIMEOUT_MS", get("UPLOAD_TIMEOUT_MS"), 120_000),
    llm: asConfigError(() => llmConfigFromEnv(get)),
    outbound: { allow: asConfigError(() => parseAllow(get("OUTBOUND_ALLOW"))) },
  };
}

/** A setting's own check, its message as a ConfigError (one line at start). */
function asConfigError<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}
