import assert from "node:assert/strict";
import { ConfigError, isLoopbackOrigin, loadConfig, parseSmtpUrl } from "./config.ts";

function load(env: Record<string, string>) {
  return loadConfig((name) => env[name]);
}

/** Asserts that `env` is refused with a one-line ConfigError matching `re`; returns the message. */
function refused(env: Record<string, string>, re: RegExp): string {
  let message = "";
  assert.throws(() => load(env), (err) => {
    assert.ok(err instanceof ConfigError, `a ConfigError, got ${err}`);
    message = err.message;
    return true;
  });
  assert.match(message, re);
  assert.ok(!message.includes("\n"), "one line");
  return message;
}

Deno.test("loadConfig() with no settings gives the documented defaults", () => {
  const c = load({});
  assert.deepEqual(c, {
    port: 8000,
    hostname: "0.0.0.0",
    appOrigin: "http://localhost:8000",
    kvPath: "./data/happychat.sqlite3",
    onDeploy: false,
    kvUrl: undefined,
    smtpUrl: undefined,
    mailFrom: "HappyChat <no-reply@localhost>",
    adminEmail: undefined,
    trustProxy: false,
    devOutbox: true,
    devOutboxAnyClient: false,
    metricsToken: undefined,
    connGuard: true,
    guardThreads: Deno.build.os === "linux" ? 4 : 1,
    guard: { maxPerAddress: 256, maxTotal: 0, headerTimeoutMs: 10_000, idleTimeoutMs: 30_000 },
    bodyTimeoutMs: 30_000,
    uploadTimeoutMs: 120_000,
    llm: null,
    outbound: { allow: [] },
  });
});

Deno.test("loadConfig(): the bot's language model and the outbound allowlist", () => {
  const c = load({
    BOT_LLM_URL: "http://localhost:11434/v1",
    BOT_LLM_MODEL: "qwen2.5:7b",
    BOT_LLM_API_KEY: "sk-secret-123",
    OUTBOUND_ALLOW: "10.0.0.0/8, bots.internal",
  });
  assert.equal(c.llm?.url, "http://localhost:11434/v1/chat/completions");
  assert.equal(c.llm?.apiKey, "sk-secret-123");
  assert.ok(!JSON.stringify(c).includes("sk-secret"), "the key does not print");
  assert.deepEqual(c.outbound.allow, ["10.0.0.0/8", "bots.internal"]);
  refused({ BOT_LLM_URL: "http://localhost:11434/v1" }, /BOT_LLM_MODEL/);
  refused({ BOT_LLM_URL: "ftp://x/", BOT_LLM_MODEL: "m" }, /BOT_LLM_URL/);
  refused({ BOT_LLM_URL: "http://x/", BOT_LLM_MODEL: "m", BOT_LLM_STALL_MS: "soon" }, /STALL/);
  refused({ OUTBOUND_ALLOW: "10.0.0.0/99" }, /10\.0\.0\.0\/99/);
});

Deno.test("loadConfig(): the connection guard is on unless a proxy of yours is in front", () => {
  assert.equal(load({ TRUST_PROXY: "1" }).connGuard, false);
  assert.equal(load({ TRUST_PROXY: "1", CONN_GUARD: "1" }).connGuard, true);
  assert.equal(load({ CONN_GUARD: "0" }).connGuard, false);
  // Deno Deploy: its KV (Deno.openKv() with no argument) and its edge in front, unless told.
  const deploy = load({ DENO_DEPLOYMENT_ID: "abc123" });
  assert.deepEqual([deploy.onDeploy, deploy.kvPath, deploy.connGuard], [true, "", false]);
  assert.equal(load({ DENO_DEPLOYMENT_ID: "abc123", DENO_KV_PATH: ":memory:" }).kvPath, ":memory:");
  const c = load({
    CONN_MAX_PER_IP: "10",
    CONN_MAX: "500",
    HTTP_HEADER_TIMEOUT_MS: "5000",
    HTTP_IDLE_TIMEOUT_MS: "60000",
    GUARD_THREADS: "2",
  });
  assert.equal(c.guardThreads, 2);
  assert.deepEqual(c.guard, {
    maxPerAddress: 10,
    maxTotal: 500,
    headerTimeoutMs: 5000,
    idleTimeoutMs: 60_000,
  });
  for (
    const [name, bad] of [
      ["CONN_MAX_PER_IP", "0"],
      ["CONN_MAX", "-1"],
      [
        "HTTP_HEADER_TIMEOUT_MS",
        "1e3",
      ],
      ["HTTP_IDLE_TIMEOUT_MS", "x"],
      ["GUARD_THREADS", "0"],
      ["GUARD_THREADS", "65"],
    ]
  ) {
    assert.throws(
      () => load({ [name]: bad }),
      (e: Error) => e.message.startsWith(`${name} must be`),
    );
  }
});

Deno.test("loadConfig() treats empty values as unset", () => {
  const blank = Object.fromEntries(
    [
      "PORT",
      "APP_ORIGIN",
      "DENO_KV_PATH",
      "DENO_KV_URL",
      "SMTP_URL",
      "ADMIN_EMAIL",
      "TRUST_PROXY",
      "DEV_OUTBOX",
      "BODY_TIMEOUT_MS",
      "UPLOAD_TIMEOUT_MS",
    ]
      .map((k) => [k, ""]),
  );
  assert.deepEqual(load(blank), load({}));
});

Deno.test("loadConfig() reads every setting", () => {
  const c = load({
    PORT: "9000",
    HOSTNAME_BIND: "127.0.0.1",
    APP_ORIGIN: "https://chat.example.com",
    DENO_KV_PATH: ":memory:",
    DENO_KV_URL: "https://kv.example.com/db",
    SMTP_URL: "smtps://u:p@mail.example.com:465",
    MAIL_FROM: "Chat <chat@example.com>",
    ADMIN_EMAIL: "admin@example.com",
    TRUST_PROXY: "yes",
    METRICS_TOKEN: "m3trics",
    BODY_TIMEOUT_MS: "5000",
    UPLOAD_TIMEOUT_MS: "60000",
  });
  assert.equal(c.port, 9000);
  assert.equal(c.hostname, "127.0.0.1");
  assert.equal(c.appOrigin, "https://chat.example.com");
  assert.equal(c.kvPath, ":memory:");
  assert.equal(c.kvUrl, "https://kv.example.com/db");
  assert.equal(c.smtpUrl, "smtps://u:p@mail.example.com:465");
  assert.equal(c.mailFrom, "Chat <chat@example.com>");
  assert.equal(c.adminEmail, "admin@example.com");
  assert.equal(c.trustProxy, true);
  assert.equal(c.devOutbox, false);
  assert.equal(c.metricsToken, "m3trics");
  assert.equal(c.bodyTimeoutMs, 5000);
  assert.equal(c.uploadTimeoutMs, 60000);
});

Deno.test("loadConfig() derives APP_ORIGIN from PORT and MAIL_FROM from the origin's host", () => {
  assert.equal(load({ PORT: "9000" }).appOrigin, "http://localhost:9000");
  assert.equal(load({ PORT: "0" }).appOrigin, "http://localhost:0", "startServer() sets the port");
  const c = load({ APP_ORIGIN: "https://Chat.Example.com/" });
  assert.equal(c.appOrigin, "https://chat.example.com", "normalized to an origin");
  assert.equal(c.mailFrom, "HappyChat <no-reply@chat.example.com>");
  assert.equal(
    load({ APP_ORIGIN: "https://chat.example.com:8443" }).appOrigin,
    "https://chat.example.com:8443",
  );
});

Deno.test("loadConfig() serves the dev outbox only without SMTP on a loopback origin, unless DEV_OUTBOX says", () => {
  assert.equal(load({}).devOutbox, true);
  assert.equal(load({ APP_ORIGIN: "http://127.0.0.1:8000" }).devOutbox, true);
  assert.equal(load({ APP_ORIGIN: "https://chat.example.com" }).devOutbox, false);
  assert.equal(load({ SMTP_URL: "smtp://mail.example.com" }).devOutbox, false);
  assert.equal(load({ DEV_OUTBOX: "0" }).devOutbox, false);
  assert.equal(load({ DEV_OUTBOX: "on", APP_ORIGIN: "https://chat.example.com" }).devOutbox, true);
});

Deno.test("loadConfig() accepts PORT 0 to 65535 and refuses anything else", () => {
  assert.equal(load({ PORT: "0" }).port, 0);
  assert.equal(load({ PORT: "65535" }).port, 65535);
  for (const bad of ["eighty", "-1", "65536", "80.5", " ", "0x1F90", "1e3", "80 "]) {
    const message = refused({ PORT: bad }, /^PORT must be a whole number from 0 to 65535/);
    assert.ok(message.includes(`"${bad}"`), message);
  }
});

Deno.test("loadConfig() refuses an APP_ORIGIN that is not an http(s) origin", () => {
  refused({ APP_ORIGIN: "chat.example.com" }, /^APP_ORIGIN must be a URL/);
  refused(
    { APP_ORIGIN: "ftp://chat.example.com" },
    /^APP_ORIGIN must start with http:\/\/ or https:\/\//,
  );
  refused(
    { APP_ORIGIN: "https://chat.example.com/app" },
    /^APP_ORIGIN must be an origin without a path/,
  );
  refused({ APP_ORIGIN: "https://chat.example.com/?x=1" }, /without a path/);
});

Deno.test("loadConfig() refuses yes/no settings that are neither", () => {
  assert.equal(load({ TRUST_PROXY: "TRUE" }).trustProxy, true);
  assert.equal(load({ TRUST_PROXY: "off" }).trustProxy, false);
  refused({ TRUST_PROXY: "maybe" }, /^TRUST_PROXY must be 1 or 0, got "maybe"/);
  refused({ DEV_OUTBOX: "2" }, /^DEV_OUTBOX must be 1 or 0/);
});

Deno.test("loadConfig() refuses body deadlines that are not 100 ms to one hour", () => {
  for (const bad of ["0", "99", "3600001", "1.5", "30s", "-1"]) {
    const message = refused(
      { BODY_TIMEOUT_MS: bad },
      /^BODY_TIMEOUT_MS must be a whole number of milliseconds from 100 to 3600000/,
    );
    assert.ok(message.includes(`"${bad}"`), message);
  }
  refused({ UPLOAD_TIMEOUT_MS: "never" }, /^UPLOAD_TIMEOUT_MS must be a whole number/);
});

Deno.test("parseSmtpUrl() accepts smtp:// and smtps:// with credentials, port and ?tls=", () => {
  assert.equal(parseSmtpUrl("smtp://user:pass@mail.example.com:587").hostname, "mail.example.com");
  assert.equal(parseSmtpUrl("smtps://mail.example.com").protocol, "smtps:");
  assert.equal(parseSmtpUrl("smtp://[::1]:2525").hostname, "[::1]");
  assert.equal(parseSmtpUrl("smtp://a%40b:p%2Fw@127.0.0.1:25?tls=insecure").username, "a%40b");
  assert.equal(parseSmtpUrl("smtp://127.0.0.1:25?tls=off").searchParams.get("tls"), "off");
});

Deno.test("loadConfig() refuses a bad SMTP_URL without echoing its password", () => {
  refused(
    { SMTP_URL: "http://x" },
    /^SMTP_URL must start with smtp:\/\/ or smtps:\/\/, got "http:\/\/"$/,
  );
  const cases: [string, RegExp][] = [
    ["smtp://user:hunter2@", /^SMTP_URL is not a valid URL/],
    ["user:hunter2@mail.example.com", /^SMTP_URL/],
    ["smtp://user:hunter2@mail.example.com:0", /^SMTP_URL has an invalid port/],
    [
      "smtp://user:hunter2@mail.example.com?tls=no",
      /^SMTP_URL's \?tls= must be "off" or "insecure", got "no"/,
    ],
  ];
  for (const [url, re] of cases) {
    const message = refused({ SMTP_URL: url }, re);
    assert.ok(!message.includes("hunter2"), `no password in: ${message}`);
  }
});

Deno.test("isLoopbackOrigin() is true only for this machine's names", () => {
  assert.equal(isLoopbackOrigin("http://localhost:8000"), true);
  assert.equal(isLoopbackOrigin("http://127.0.0.1"), true);
  assert.equal(isLoopbackOrigin("http://[::1]:8000"), true);
  assert.equal(isLoopbackOrigin("https://chat.example.com"), false);
  assert.equal(isLoopbackOrigin("http://localhost.example.com"), false);
});
