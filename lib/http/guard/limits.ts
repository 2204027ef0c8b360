/** The guard's limits and counters, and how it sizes itself and groups client addresses. */

export interface GuardLimits {
  /** A request head must arrive whole within this many ms of its first byte (the first: of accept). */
  headerTimeoutMs: number;
  /** A keep-alive connection between requests, or a body that stopped moving, is closed after this. */
  idleTimeoutMs: number;
  /** An upgraded connection (WebSocket) with no bytes either way for this long is closed. */
  upgradedIdleMs: number;
  /** Connections open at once from one address (IPv6: one /64). Loopback 127.0.0.1 and ::1 are exempt. */
  maxPerAddress: number;
  /** Connections open at once in total. */
  maxTotal: number;
  /** Bytes of one request head. */
  maxHeadBytes: number;
  /** Bytes of one WebSocket message from a client (Deno would buffer up to 64 MiB of it). */
  maxWsMessageBytes: number;
}

export const DEFAULT_GUARD_LIMITS: GuardLimits = {
  headerTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  upgradedIdleMs: 120_000,
  maxPerAddress: 256,
  maxTotal: 4096,
  maxHeadBytes: 32 * 1024,
  // Far above the app's own frame cap (docs/protocol.md): a backstop for memory, not the rule.
  maxWsMessageBytes: 256 * 1024,
};

export type Reason =
  | "per_address"
  | "total"
  | "header_timeout"
  | "idle_timeout"
  | "head_too_large"
  | "ws_too_large"
  | "released"
  | "evicted"
  | "no_descriptors"
  | "upstream_failed";

/** What the guard did, for /metrics and tests. */
export interface GuardStats {
  open: number;
  maxTotal: number;
  accepted: number;
  refused: Partial<Record<Reason, number>>;
  closed: Partial<Record<Reason, number>>;
  acceptErrors: number;
}

/** Counters at zero. */
export function noStats(): GuardStats {
  return { open: 0, maxTotal: 0, accepted: 0, refused: {}, closed: {}, acceptErrors: 0 };
}

export const EXEMPT = new Set(["127.0.0.1", "::1"]);
/** Descriptors kept free for everything else (KV, files, mail, outgoing requests). */
const RESERVED_FDS = 256;

/** The most connections the guard sizes itself for when it measures the descriptor limit. */
const MEASURED_MAX = 10_000;

/**
 * Connections the guard may hold at once within this process's descriptors, measured by opening
 * one file until the OS says no (Deno raises the soft limit to the hard one at start, and does not
 * let a program read /proc/self/limits without --allow-all). Each connection costs three: the
 * client's socket and both ends of the loopback link to Deno.serve. Run once, before serving.
 */
export function totalFromDescriptorLimit(probe: string | URL = new URL(import.meta.url)): number {
  const files: Deno.FsFile[] = [];
  const want = MEASURED_MAX * 3 + RESERVED_FDS;
  try {
    while (files.length < want) files.push(Deno.openSync(probe));
  } catch { /* the limit */ }
  const free = files.length;
  for (const f of files) f.close();
  return Math.max(16, Math.floor((free - RESERVED_FDS) / 3));
}

/** The address a per-address limit counts: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export function addressBucket(addr: string): string {
  if (!addr.includes(":")) return addr; // plain IPv4, the common case
  const v4 = addr.match(/^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)$/i);
  if (v4) return v4[1];
  const [head, tail = ""] = addr.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = addr.includes("::")
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right]
    : left;
  return groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":") + "::/64";
}
