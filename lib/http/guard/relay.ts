/**
 * The guard's byte relay: holds a connection until its first request head is whole, then links it
 * to Deno.serve on loopback and copies both ways, following request heads (deadlines, sizes) and,
 * once upgraded, the sizes of the client's WebSocket messages.
 */
import { log } from "../../log.ts";
import type { HeadTracker } from "./head.ts";
import type { Reason } from "./limits.ts";
import { WsMeter } from "./ws.ts";

/** One client connection, as the guard tracks it. */
export interface Tracked {
  addr: string;
  bucket: string;
  client: Deno.TcpConn;
  upstream: Deno.TcpConn | null;
  upstreamPort: number;
  head: HeadTracker;
  /** Set once upgraded: the client's WebSocket message sizes. */
  ws: WsMeter | null;
  lastByteAt: number;
  done: boolean;
}

/** What the relay needs of the guard that owns the connection. */
export interface RelayHost {
  now(): number;
  readonly maxWsMessageBytes: number;
  /** Deno.serve's loopback address. */
  upstream(): { hostname: string; port: number };
  /** Closes both sides and forgets the connection (counted under `reason` if given). */
  drop(t: Tracked, reason?: Reason): void;
  /** The first head is whole: the connection is no longer shed as one that never sent one. */
  proven(t: Tracked): void;
  /** Linked to Deno.serve through the local port `t.upstreamPort`. */
  linked(t: Tracked): void;
  /** Deno.serve sent bytes on it (an answer, or part of one). */
  answered(t: Tracked): void;
  outOfDescriptors(): void;
}

export async function relay(host: RelayHost, t: Tracked): Promise<void> {
  // Nothing goes to Deno.serve before a whole first head: a connection that never sends one
  // costs one descriptor, not three, and reaches no code but the tracker.
  const early = await firstHead(host, t);
  if (!early) return host.drop(t);
  host.proven(t);
  try {
    t.upstream = await Deno.connect({ ...host.upstream(), transport: "tcp" });
  } catch (err) {
    if (!t.done) log.warn("guard.upstream_failed", { err });
    host.drop(t, "upstream_failed");
    if (/Too many open files/.test(String(err))) host.outOfDescriptors();
    return;
  }
  if (t.done) return void t.upstream.close();
  t.upstreamPort = (t.upstream.localAddr as Deno.NetAddr).port;
  host.linked(t);
  t.client.setNoDelay(true);
  t.upstream.setNoDelay(true);
  try {
    await writeAll(t.upstream, early);
  } catch {
    return host.drop(t);
  }
  await Promise.all([
    pump(host, t, t.client, t.upstream, true),
    pump(host, t, t.upstream, t.client, false),
  ]);
  host.drop(t);
}

/** Reads until the first request head is whole; returns every byte read, or null to close. */
async function firstHead(host: RelayHost, t: Tracked): Promise<Uint8Array | null> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let total = 0;
  // Small: every socket that never sends a head holds this buffer while it waits.
  let buf = new Uint8Array(1024);
  try {
    while (t.head.awaitingFirst) {
      const n = await t.client.read(buf);
      if (n === null || t.done) return null;
      t.lastByteAt = host.now();
      const chunk = buf.slice(0, n);
      if (n === buf.length && buf.length < 16384) buf = new Uint8Array(buf.length * 4);
      const bad = t.head.feed(chunk, t.lastByteAt);
      if (bad) {
        // Best effort: the client may already be gone.
        if (bad === "head_too_large") await writeAll(t.client, TOO_LARGE).catch(gone);
        host.drop(t, bad);
        return null;
      }
      parts.push(chunk);
      total += n;
    }
  } catch {
    return null;
  }
  return new Uint8Array(await new Blob(parts).arrayBuffer());
}

/** Copies one direction; the client's bytes go through the head tracker first. */
async function pump(
  host: RelayHost,
  t: Tracked,
  from: Deno.TcpConn,
  to: Deno.TcpConn,
  fromClient: boolean,
): Promise<void> {
  // Small while idle (thousands of idle sockets each hold one read buffer per direction),
  // larger while bytes keep coming, up to 16 KiB: with 64 KiB, each guard thread kept more of
  // what large transfers had allocated (tests/body_limits_test.ts measures the process's RSS).
  let buf = new Uint8Array(2048);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null || t.done) break;
      t.lastByteAt = host.now();
      const chunk = buf.subarray(0, n);
      if (fromClient && t.head.state === "upgraded") {
        t.ws ??= new WsMeter(host.maxWsMessageBytes);
        if (!t.ws.feed(chunk)) return host.drop(t, "ws_too_large");
      } else if (fromClient) {
        const bad = t.head.feed(chunk, t.lastByteAt);
        if (bad) {
          // Best effort: the client may already be gone.
          if (bad === "head_too_large") await writeAll(t.client, TOO_LARGE).catch(gone);
          return host.drop(t, bad);
        }
      } else {
        t.head.sawServer(chunk, t.lastByteAt);
        host.answered(t);
      }
      await writeAll(to, chunk);
      if (n === buf.length && buf.length < 16384) buf = new Uint8Array(buf.length * 2);
      else if (n < buf.length / 8 && buf.length > 2048) buf = new Uint8Array(buf.length / 2);
    }
    // A half-close passes on: the other side may still be sending its answer.
    if (!t.done) await to.closeWrite().catch(() => host.drop(t));
  } catch {
    // A reset or a close from the other pump: both sides go.
    host.drop(t);
  }
}

const TOO_LARGE = new TextEncoder().encode(
  "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
);

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/** A write to a client that may already be gone: nothing to do but note it. */
function gone(err: unknown): void {
  log.debug("guard.client_gone", { err });
}
