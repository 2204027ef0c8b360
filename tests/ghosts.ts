/**
 * Ghost connections: sockets that say hello and vanish at some point of the handshake. Shared by
 * tests/ws_ghosts_test.ts (a few thousand) and bench/ghosts.ts (15,000 and a report).
 */
import { type Client, friendsDm, friendsGroup, signUp, type TestServer } from "./helpers.ts";
import { RawWs } from "./raw_ws.ts";
import { MAX_SOCKETS_PER_USER } from "../routes/ws.ts";

export type GhostMode = "close" | "close-later" | "drop" | "drop-later" | "drop-upgrade";
export const GHOST_MODES: GhostMode[] = [
  "close",
  "close-later",
  "drop",
  "drop-later",
  "drop-upgrade",
];

export interface GhostUser {
  client: Client;
  userId: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `n` users, each pair of them friends (a DM each), all in one group of the first one (who is
 * friends with everyone: groups start with friends): hello has work to do.
 */
export async function ghostUsers(server: TestServer, n: number): Promise<GhostUser[]> {
  const users: GhostUser[] = [];
  for (let i = 0; i < n; i++) users.push(await signUp(server));
  for (let i = 0; i + 1 < n; i += 2) await friendsDm(server, users[i].userId, users[i + 1].userId);
  const others = users.slice(1).map((u) => u.userId);
  await friendsGroup(server, users[0].userId, "Ghosts", others);
  return users;
}

function cookieOf(client: Client): string {
  return [...client.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
}

/** One socket that says hello (except "drop-upgrade") and goes away as `mode` says. */
async function ghost(server: TestServer, user: GhostUser, mode: GhostMode, maxDelayMs: number) {
  const hello = JSON.stringify({ type: "hello", v: 1 });
  const delay = () => sleep(Math.random() * maxDelayMs);
  if (mode === "close" || mode === "close-later") {
    const url = server.url("/ws").replace(/^http/, "ws");
    const headers = { cookie: cookieOf(user.client), origin: server.origin };
    // Deno's WebSocket takes request headers; the DOM types do not know that option.
    const ws = new WebSocket(url, { headers } as unknown as string[]);
    const closed = new Promise<void>((r) => ws.onclose = () => r());
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("WebSocket failed to open"));
    });
    ws.send(hello);
    if (mode === "close-later") await delay();
    ws.close();
    await closed;
    return;
  }
  if (mode === "drop-upgrade") {
    const u = new URL(server.url("/ws"));
    const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const head = [
      `GET /ws HTTP/1.1`,
      `Host: ${u.host}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${key}`,
      "Sec-WebSocket-Version: 13",
      `Cookie: ${cookieOf(user.client)}`,
      `Origin: ${server.origin}`,
    ].join("\r\n") + "\r\n\r\n";
    await conn.write(new TextEncoder().encode(head));
    await delay();
    conn.close();
    return;
  }
  const raw = await RawWs.open(server.url("/ws"), {
    Cookie: cookieOf(user.client),
    Origin: server.origin,
  });
  await raw.sendText(hello);
  if (mode === "drop-later") await delay();
  raw.close();
}

export interface GhostRun {
  sockets: number;
  /** Upgrades refused with 429 (the user's earlier ghosts were not dropped yet); retried. */
  refused: number;
  seconds: number;
}

/**
 * Runs `count` ghosts, modes in turn, `lanes` at a time per user (under the per-user socket cap).
 * A refused upgrade (the server has not yet seen an earlier ghost of that user go) is retried.
 */
export async function runGhosts(
  server: TestServer,
  users: GhostUser[],
  count: number,
  opts: {
    lanes?: number;
    maxDelayMs?: number;
    modes?: GhostMode[];
    /** Called with the number of ghosts done so far, every second. */
    progress?: (done: number) => void;
  } = {},
): Promise<GhostRun> {
  const lanes = Math.min(opts.lanes ?? 4, MAX_SOCKETS_PER_USER - 1);
  const modes = opts.modes ?? GHOST_MODES;
  let next = 0;
  let refused = 0;
  let done = 0;
  const t0 = performance.now();
  const ticker = opts.progress && setInterval(() => opts.progress!(done), 1000);
  const lane = async (user: GhostUser) => {
    for (let i = next++; i < count; i = next++) {
      for (;;) {
        const mode = modes[i % modes.length];
        let timer: ReturnType<typeof setTimeout> | undefined;
        try {
          await Promise.race([
            ghost(server, user, mode, opts.maxDelayMs ?? 20),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`A "${mode}" ghost hung`)), 10_000);
            }),
          ]);
          done++;
          break;
        } catch (err) {
          if (!/429|failed to open/.test(String(err))) throw err;
          refused++;
          await sleep(20);
        } finally {
          clearTimeout(timer);
        }
      }
    }
  };
  try {
    await Promise.all(users.flatMap((u) => Array.from({ length: lanes }, () => lane(u))));
  } finally {
    clearInterval(ticker);
  }
  return { sockets: count, refused, seconds: (performance.now() - t0) / 1000 };
}

/** What the server still holds for sockets: all zero once every ghost is gone. */
export function leftovers(server: TestServer) {
  const hub = server.rt.hub;
  return {
    sockets: hub.size,
    byUser: hub.byUser.size,
    byConv: hub.byConv.size,
    presenceSubs: hub.presenceSubs.size,
    conns: server.rt.conns.size,
    presenceLocal: server.rt.presence.tracked,
  };
}

/** Waits (bounded) until nothing is left; returns what was left at the end. */
export async function settleLeftovers(server: TestServer, ms = 15_000) {
  const end = Date.now() + ms;
  let left = leftovers(server);
  while (Object.values(left).some((n) => n > 0) && Date.now() < end) {
    await sleep(50);
    left = leftovers(server);
  }
  return left;
}

/** Users the server says are online anywhere (waits, bounded, for presence writes to land). */
export async function stillOnline(server: TestServer, users: GhostUser[], ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const states = await server.rt.presence.online(users.map((u) => u.userId));
    const online = users.filter((u) => states.get(u.userId)?.online).map((u) => u.userId);
    if (!online.length || Date.now() > end) return online;
    await sleep(50);
  }
}
