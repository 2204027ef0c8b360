/**
 * Response compression: br, else gzip, for text the client accepts (Accept-Encoding with q-values).
 * Pages and API answers are compressed as they stream, at a quality cheap enough for every answer.
 * Files that never change at their URL (/_build, /static) are compressed once at the best quality,
 * in a thread of their own, and kept in memory: they cost no CPU per request.
 *
 * BREACH needs a secret repeated in compressed bodies next to text an attacker chooses. Pages carry
 * no CSRF token (the Origin check stands in), the nonce is new each time, and the session cookie is
 * SameSite=Lax, so another site's fetch gets no per-user JSON.
 */
import { concatBytes } from "../bytes.ts";
import type { MiddlewareHandler } from "hono";
import { Duplex } from "node:stream";
import zlib from "node:zlib";
import { log } from "../log.ts";
import type { Env } from "./state.ts";

export type Encoding = "br" | "gzip";

/** Smaller bodies are sent as they are: compressing them saves less than a packet. */
export const MIN_BYTES = 1024;

/**
 * Brotli quality for answers made per request. Measured in Deno 2.9.6 on a 12 KB body: q4 0.73 ms,
 * q5 0.89 ms, 6% smaller; q6 (what CompressionStream("brotli") uses) saves 0.5% more for 20% more
 * CPU on 480 KB.
 */
const DYNAMIC_QUALITY = 5;

const TEXT =
  /^(text\/(?!event-stream\b)[\w.+-]+|application\/(javascript|ecmascript|json|xml|wasm|[\w.-]+\+(json|xml))|image\/svg\+xml)\s*(;|$)/i;

/** Paths that are never compressed: pictures and files of users (any type), and the socket. */
const NEVER = /^\/(media|avatars|ws)(\/|$)/;

/** Paths whose body at a given URL (and ETag) never changes: compressed once, then cached. */
const FIXED = /^\/(_build|static)\//;

/** Picks the coding for an Accept-Encoding header: br, else gzip, else null (send as is). */
export function negotiate(header: string | null | undefined): Encoding | null {
  if (!header) return null;
  const weights = new Map<string, number>();
  for (const part of header.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";").map((s) => s.trim());
    if (!name) continue;
    let q = 1;
    for (const p of params) {
      if (p.startsWith("q=")) q = /^[01](\.\d{0,3})?$/.test(p.slice(2)) ? Number(p.slice(2)) : -1;
    }
    if (q < 0 || q > 1) continue; // a malformed weight: the entry is ignored
    weights.set(name === "x-gzip" ? "gzip" : name, q);
  }
  const weight = (name: string) => weights.get(name) ?? weights.get("*") ?? 0;
  const br = weight("br"), gzip = weight("gzip");
  if (br > 0 && br >= gzip) return "br";
  return gzip > 0 ? "gzip" : null;
}

/** True when a response's type is text worth compressing (not event streams, not pictures). */
export function isCompressible(contentType: string | null): boolean {
  return contentType !== null && TEXT.test(contentType);
}

/** A streaming compressor for `encoding` at the per-request quality. */
export function compressor(encoding: Encoding): ReadableWritablePair<Uint8Array, Uint8Array> {
  if (encoding === "gzip") {
    return new CompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>;
  }
  const z = zlib.createBrotliCompress({
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: DYNAMIC_QUALITY,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
    },
  });
  return Duplex.toWeb(z) as unknown as ReadableWritablePair<Uint8Array, Uint8Array>;
}

/** `bytes` compressed at once at the per-request quality. */
export function compressNow(bytes: Uint8Array, encoding: Encoding): Uint8Array {
  return encoding === "gzip" ? zlib.gzipSync(bytes) : zlib.brotliCompressSync(bytes, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: DYNAMIC_QUALITY,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
}

/** What to send: the body as it is (read to learn it is small), or compressed. */
type Outcome = { plain: Uint8Array<ArrayBuffer> } | { encoded: BodyInit };

/**
 * Compresses answers whose type is text (see `negotiate` and `isCompressible`), with
 * `Vary: Accept-Encoding` on every answer that could be compressed. Leaves alone: upgrades (101),
 * answers without a body (HEAD, 204, 304), ranges (206), bodies already encoded or under
 * MIN_BYTES, `/media`, `/avatars`, event streams and `Cache-Control: no-transform`.
 */
export function compress(files: CompressedFiles = compressedFiles): MiddlewareHandler<Env> {
  return async (c, next) => {
    await next();
    const res = c.res;
    if (res.status === 101) return; // the WebSocket upgrade: its headers are fixed
    const path = c.req.path;
    const h = res.headers;
    if (NEVER.test(path) || h.has("Content-Encoding") || h.has("Transfer-Encoding")) return;
    if (/(^|,)\s*no-transform\s*(,|$)/i.test(h.get("Cache-Control") ?? "")) return;
    // A 304 stands for the 200 it revalidates, which varies too.
    if (!isCompressible(h.get("Content-Type")) && res.status !== 304) return;
    addVary(h);
    const encoding = negotiate(c.req.header("Accept-Encoding"));
    if (!encoding || c.req.method === "HEAD" || !res.body) return;
    if (res.status === 204 || res.status === 206 || res.status === 304) return;
    const length = h.get("Content-Length");
    if (length !== null && Number(length) < MIN_BYTES) return;
    const out = FIXED.test(path) && res.status === 200
      ? await fixedBody(files, { key: `${encoding} ${path} ${h.get("ETag") ?? ""}`, res, encoding })
      : await streamedBody(res.body, encoding);
    if ("plain" in out) {
      c.res = new Response(out.plain, res);
      return;
    }
    c.res = new Response(out.encoded, res);
    const headers = c.res.headers;
    headers.set("Content-Encoding", encoding);
    if (out.encoded instanceof Uint8Array) {
      headers.set("Content-Length", String(out.encoded.length));
    } else headers.delete("Content-Length");
    // Another coding is another representation: its tag can only be weak (RFC 9110 8.8.1).
    const etag = headers.get("ETag");
    if (etag && !etag.startsWith("W/")) headers.set("ETag", `W/${etag}`);
  };
}

/** A fixed file's body compressed: from the cache, else now, while the cache fills. */
async function fixedBody(
  files: CompressedFiles,
  { key, res, encoding }: { key: string; res: Response; encoding: Encoding },
): Promise<Outcome> {
  const cached = files.get(key);
  if (cached) {
    await res.body?.cancel();
    return { encoded: cached };
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length < MIN_BYTES) return { plain: bytes };
  files.fill(key, bytes, encoding);
  return { encoded: new Blob([bytes]).stream().pipeThrough(compressor(encoding)) };
}

/** A body compressed as it streams; read up to MIN_BYTES first, to send a short one as it is. */
async function streamedBody(
  body: ReadableStream<Uint8Array>,
  encoding: Encoding,
): Promise<Outcome> {
  const reader = body.getReader();
  const head: Uint8Array[] = [];
  let size = 0;
  while (size < MIN_BYTES) {
    const { done, value } = await reader.read();
    if (done) return { plain: concatBytes(head) };
    head.push(value);
    size += value.length;
  }
  const whole = new ReadableStream<Uint8Array>({
    start(ctrl) {
      for (const chunk of head) ctrl.enqueue(chunk);
    },
    async pull(ctrl) {
      const { done, value } = await reader.read();
      if (done) ctrl.close();
      else ctrl.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { encoded: whole.pipeThrough(compressor(encoding)) };
}

function addVary(h: Headers): void {
  const vary = h.get("Vary");
  if (!vary) h.set("Vary", "Accept-Encoding");
  else if (!/(^|,)\s*(accept-encoding|\*)\s*(,|$)/i.test(vary)) {
    h.set("Vary", `${vary}, Accept-Encoding`);
  }
}

/** A job for the compression thread (compress_worker.ts), and its answer. */
export interface BestJob {
  id: number;
  encoding: Encoding;
  bytes: Uint8Array;
}
export type BestDone = { id: number; out: Uint8Array } | { id: number; error: string };

/**
 * Compresses at the best quality in a thread of its own, started when there is work and ended
 * when there is none. Brotli 11 takes 650 ms for the 290 KB emoji data and 50 ms for the 27 KB
 * chat island (Deno 2.9.6), and node:zlib's async brotli runs on the calling thread: here it
 * would stall every socket of the isolate.
 */
export class CompressThread {
  #worker: Worker | null = null;
  #waiting = new Map<number, PromiseWithResolvers<Uint8Array>>();
  #next = 0;

  compress(bytes: Uint8Array, encoding: Encoding): Promise<Uint8Array> {
    const job = Promise.withResolvers<Uint8Array>();
    const id = this.#next++;
    this.#waiting.set(id, job);
    try {
      this.#worker ??= this.#start();
      this.#worker.postMessage({ id, encoding, bytes } satisfies BestJob);
    } catch (err) {
      this.#fail(err as Error);
    }
    return job.promise;
  }

  #start(): Worker {
    const worker = new Worker(new URL("./compress_worker.ts", import.meta.url), {
      type: "module",
      name: "compress",
    });
    worker.onmessage = (e: MessageEvent<BestDone>) => {
      const job = this.#waiting.get(e.data.id);
      this.#waiting.delete(e.data.id);
      if ("out" in e.data) job?.resolve(e.data.out);
      else job?.reject(new Error(e.data.error));
      if (this.#waiting.size === 0) this.#stop();
    };
    worker.onerror = (e) => {
      e.preventDefault();
      this.#fail(new Error(e.message));
    };
    return worker;
  }

  #fail(err: Error): void {
    for (const job of this.#waiting.values()) job.reject(err);
    this.#waiting.clear();
    this.#stop();
  }

  #stop(): void {
    this.#worker?.terminate();
    this.#worker = null;
  }
}

/** Compressed bodies of fixed files by encoding, path and ETag: at most `maxBytes`, oldest out. */
export class CompressedFiles {
  #entries = new Map<string, Uint8Array<ArrayBuffer>>();
  #pending = new Map<string, Promise<void>>();
  #bytes = 0;

  constructor(
    readonly maxBytes = 4 * 1024 * 1024,
    readonly best: (bytes: Uint8Array, encoding: Encoding) => Promise<Uint8Array> = (b, e) =>
      thread.compress(b, e),
  ) {}

  get(key: string): Uint8Array<ArrayBuffer> | undefined {
    const hit = this.#entries.get(key);
    if (hit) { // most recently used last
      this.#entries.delete(key);
      this.#entries.set(key, hit);
    }
    return hit;
  }

  /** Starts compressing `bytes` for `key` at the best quality, unless cached or under way. */
  fill(key: string, bytes: Uint8Array, encoding: Encoding): void {
    if (this.#entries.has(key) || this.#pending.has(key) || bytes.length > this.maxBytes / 4) {
      return;
    }
    const job = this.best(bytes, encoding).catch((err) => {
      // Still once, not per request: at the per-request quality, on this thread.
      log.warn("compress.best_failed", { key, err });
      return compressNow(bytes, encoding);
    }).then((out) => this.#put(key, out)).finally(() => this.#pending.delete(key));
    this.#pending.set(key, job);
  }

  /** Resolves when no compression is under way. */
  async settled(): Promise<void> {
    while (this.#pending.size) await Promise.all(this.#pending.values());
  }

  get size(): number {
    return this.#entries.size;
  }

  #put(key: string, out: Uint8Array): void {
    this.#entries.set(key, out as Uint8Array<ArrayBuffer>);
    this.#bytes += out.length;
    for (const [k, v] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= v.length;
    }
  }
}

const thread = new CompressThread();

/** The isolate's cache of compressed files, shared by every app it serves. */
export const compressedFiles = new CompressedFiles();
