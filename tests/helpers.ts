/** Test support: a real server on port 0 with in-memory KV, and a cookie-keeping HTTP client. */
import { accept, getFriend, sendRequest } from "../lib/social/friends.ts";
import { createGroup } from "../lib/groups/groups.ts";
import { getUser } from "../lib/accounts/users.ts";
import { backgroundMailSettled } from "../lib/accounts/accounts.ts";
import { loadConfig } from "../lib/http/config.ts";
import { type Running, startServer } from "../lib/http/server.ts";
import { buildApp } from "../routes/mod.ts";
import { type Mail, type Mailer, outboxMailer, smtpMailer } from "../lib/mail/mail.ts";
import { setLogSink } from "../lib/log.ts";
import type { Assets } from "../lib/http/assets.ts";
import { passwordProbe } from "../lib/accounts/password.ts";

/**
 * PBKDF2 iterations for the passwords of a test server's accounts. The real 600,000 cost about
 * 0.3 s of CPU a sign-up or login here, and the suite makes hundreds of accounts in flows that are
 * not about passwords. The same code runs, on fewer rounds; lib/accounts/password_test.ts and
 * tests/login_limits_test.ts keep the real cost.
 */
export const TEST_PASSWORD_ITERATIONS = 1_000;

export interface TestServer extends Running {
  /** Every mail the server sent, in order (from the outbox in KV, or each one another mailer took). */
  mails(): Promise<Mail[]>;
  /** Absolute URL for a path. */
  url(path: string): string;
  /** Test sockets opened on it (tests/ws_client.ts adds them); `close()` closes what is left of them. */
  readonly sockets: Set<{ close(): Promise<void> }>;
  /** The JSON log lines written since it started (silenced in tests unless TEST_LOGS=1). */
  logs(): string[];
}

/** Silences JSON logs in tests unless TEST_LOGS=1; returns the captured lines. */
export function captureLogs(): string[] {
  const lines: string[] = [];
  if (Deno.env.get("TEST_LOGS") !== "1") setLogSink((line) => lines.push(line));
  return lines;
}

/** Wraps a mailer so the test can list what it handed over. */
function recording(mailer: Mailer, sent: Mail[]): Mailer {
  return {
    kind: mailer.kind,
    async send(mail) {
      await mailer.send(mail);
      sent.push(mail);
    },
  };
}

/**
 * Starts the app on 127.0.0.1:0 with `:memory:` KV (or the file in env DENO_KV_PATH). Mail goes
 * to the given mailer, else over SMTP when env has SMTP_URL (the real `smtpMailer`), else to the
 * dev outbox. New passwords are hashed with TEST_PASSWORD_ITERATIONS unless `realPasswordCost`.
 */
export async function startTestServer(
  opts: {
    env?: Record<string, string>;
    mailer?: Mailer;
    now?: () => number;
    assets?: Assets;
    realPasswordCost?: boolean;
  } = {},
): Promise<TestServer> {
  passwordProbe.iterations = opts.realPasswordCost ? null : TEST_PASSWORD_ITERATIONS;
  const logLines = captureLogs();
  const env: Record<string, string> = {
    PORT: "0",
    DENO_KV_PATH: ":memory:",
    HOSTNAME_BIND: "127.0.0.1",
    // A fixed cap spares each test server the descriptor measurement (lib/http/guard/guard.ts).
    CONN_MAX: "4000",
    ...opts.env,
  };
  const config = loadConfig((n) => env[n]);
  // A KV file (env DENO_KV_PATH) lets a test restart the server on the same data.
  const kv = await Deno.openKv(env.DENO_KV_PATH);
  const sent: Mail[] = [];
  const given = opts.mailer ??
    (config.smtpUrl ? smtpMailer(config.smtpUrl, config.mailFrom) : null);
  const mailer = given ? recording(given, sent) : outboxMailer(kv, config.mailFrom);
  const running = await startServer(config, {
    app: buildApp,
    kv,
    mailer,
    originFromPort: !env.APP_ORIGIN,
    now: opts.now,
    assets: opts.assets,
  });
  if (!env.APP_ORIGIN && !config.smtpUrl) config.devOutbox = env.DEV_OUTBOX !== "0";
  const sockets = new Set<{ close(): Promise<void> }>();
  return {
    ...running,
    sockets,
    logs: () => logLines,
    async close() {
      // The server first: its shutdown closes each socket with 4000, as users see it.
      await running.close();
      await Promise.all([...sockets].map((w) => w.close()));
    },
    origin: config.appOrigin,
    url: (path: string) => `http://127.0.0.1:${running.port}${path}`,
    async mails() {
      await backgroundMailSettled();
      if (given) return [...sent];
      const out: Mail[] = [];
      for await (const e of kv.list<Mail & { sentAt: number }>({ prefix: ["outbox"] })) {
        out.push(e.value);
      }
      return out;
    },
  };
}

type ServerOpts = Parameters<typeof startTestServer>[0];

/** Runs `fn` against a fresh test server and always closes it, also when `fn` throws. */
export async function withServer<T>(fn: (server: TestServer) => Promise<T>): Promise<T>;
export async function withServer<T>(
  opts: ServerOpts,
  fn: (server: TestServer) => Promise<T>,
): Promise<T>;
export async function withServer<T>(
  a: ServerOpts | ((server: TestServer) => Promise<T>),
  b?: (server: TestServer) => Promise<T>,
): Promise<T> {
  const [opts, fn] = typeof a === "function" ? [{}, a] : [a, b!];
  const server = await startTestServer(opts);
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

/** A browser-like client: keeps cookies, sends Origin like a same-site page would. */
export class Client {
  cookies = new Map<string, string>();
  constructor(readonly server: TestServer, readonly origin: string | null = server.origin) {}

  async fetch(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) {
      headers.set(
        "Cookie",
        [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
      );
    }
    if (this.origin && init.method && init.method !== "GET") headers.set("Origin", this.origin);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set("Content-Type", "application/json");
      body = JSON.stringify(init.json);
    }
    const res = await fetch(this.server.url(path), { ...init, headers, body, redirect: "manual" });
    for (const sc of res.headers.getSetCookie()) {
      const [pair, ...attrs] = sc.split(";");
      const [name, value] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
      const expired = attrs.some((a) =>
        /max-age=0/i.test(a.trim()) || /expires=Thu, 01 Jan 1970/i.test(a.trim())
      );
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  async json<T = Record<string, unknown>>(
    path: string,
    init: RequestInit & { json?: unknown } = {},
  ): Promise<{ status: number; body: T; res: Response }> {
    const res = await this.fetch(path, init);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T, res };
  }

  post(path: string, json: unknown) {
    return this.json(path, { method: "POST", json });
  }
}

/** The token in the first link of a mail (links carry it in the #token= fragment). */
export function tokenFromMail(mail: Mail): string {
  const m = mail.text.match(/#token=([A-Za-z0-9_-]+)/);
  if (!m) throw new Error(`No token link in mail "${mail.subject}"`);
  return m[1];
}

let counter = 0;
/** A fresh valid registration. */
export function newUserInput(prefix = "user") {
  const n = `${prefix}${Date.now().toString(36)}${counter++}`.slice(0, 20);
  return {
    username: n,
    email: `${n}@example.com`,
    password: "correct horse battery",
    nickname: `Nick ${n}`,
  };
}

/** Registers, activates through the mailed link, and logs in; returns the logged-in client. */
export async function signUp(
  server: TestServer,
  input = newUserInput(),
): Promise<{ client: Client; input: typeof input; userId: string }> {
  const client = new Client(server);
  const reg = await client.post("/api/auth/register", input);
  if (reg.status !== 201) throw new Error(`register failed: ${JSON.stringify(reg.body)}`);
  const mails = (await server.mails()).filter((m) => m.to === input.email);
  await client.post("/api/auth/activate", { token: tokenFromMail(mails[mails.length - 1]) });
  const login = await client.post("/api/auth/login", {
    login: input.username,
    password: input.password,
  });
  if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
  return { client, input, userId: (login.body as { user: { id: string } }).user.id };
}

/** Makes two users friends the way the app does (request, then accept); returns their DM. */
export async function friendsDm(
  server: TestServer,
  aId: string,
  bId: string,
): Promise<{ id: string }> {
  const [a, b] = await Promise.all([getUser(server.kv, aId), getUser(server.kv, bId)]);
  await sendRequest(server.rt, a!, { toId: bId }, "");
  const view = await accept(server.rt, b!, aId);
  return { id: view.dm };
}

/**
 * A group made the way the app makes one (lib/groups/groups.ts createGroup): the owner first
 * befriends each first member it is not friends with yet (each such pair gets its DM), and the
 * group's log starts with its "created" message (seq 1).
 */
export async function friendsGroup(
  server: TestServer,
  ownerId: string,
  title: string,
  memberIds: string[],
): Promise<{ id: string }> {
  for (const id of memberIds) {
    if (id !== ownerId && !await getFriend(server.kv, ownerId, id)) {
      await friendsDm(server, ownerId, id);
    }
  }
  const owner = await getUser(server.kv, ownerId);
  return await createGroup(server.rt, owner!, title, memberIds);
}

/**
 * Stored text messages in a conversation, as if each sender had sent them in order (the log's own
 * append, with the membership check); cids are `${cidPrefix}-1`, `-2`, …
 */
export async function storeTexts(
  server: TestServer,
  conv: string,
  cidPrefix: string,
  messages: { from: string; text: string }[],
): Promise<void> {
  for (const [i, m] of messages.entries()) {
    await server.rt.log.append({
      conv,
      sender: m.from,
      cid: `${cidPrefix}-${i + 1}`,
      kind: "text",
      text: m.text,
      checkMember: true,
    });
  }
}
