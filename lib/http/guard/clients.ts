/**
 * Which client each relayed connection is for, shared by the guard threads (writers) and the app's
 * thread (reader) through one SharedArrayBuffer: a slot per local port of the guard's link to
 * Deno.serve. The app asks synchronously when a request arrives, by the request's remote port.
 *
 * Why this is never stale: a guard thread fills a port's slot before it writes the first byte on
 * that link and empties it before it closes the link. A port is reused only after its link is
 * closed, so a request can only arrive on a link whose slot was filled first (docs/architecture.md
 * decision (f)).
 */

/** The state word, the address's byte length, then the address text. */
const SLOT_BYTES = 72;
const HEADER_BYTES = 8;
const MAX_ADDR_BYTES = SLOT_BYTES - HEADER_BYTES;
const PORTS = 65536;

const enc = new TextEncoder();
const dec = new TextDecoder();

export class ClientTable {
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;

  /** A new table, or a view of one another thread made (its `buffer`). */
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(PORTS * SLOT_BYTES)) {
    this.#words = new Int32Array(buffer);
    this.#bytes = new Uint8Array(buffer);
  }

  /** `owner` (a guard thread's number, from 0) links `port` for the client at `addr`. */
  set(port: number, addr: string, owner: number): void {
    const base = port * SLOT_BYTES;
    const bytes = enc.encode(addr).subarray(0, MAX_ADDR_BYTES);
    this.#bytes.set(bytes, base + HEADER_BYTES);
    Atomics.store(this.#words, base / 4 + 1, bytes.length);
    // Published last: a reader that sees the owner sees the address.
    Atomics.store(this.#words, base / 4, owner + 1);
  }

  /** Empties `port`'s slot if `owner` holds it. */
  clear(port: number, owner: number): void {
    Atomics.compareExchange(this.#words, port * SLOT_BYTES / 4, owner + 1, 0);
  }

  /** The client behind `port` and the guard thread that holds it, or null. */
  get(port: number): { addr: string; owner: number } | null {
    if (!Number.isInteger(port) || port < 0 || port >= PORTS) return null;
    const base = port * SLOT_BYTES;
    const state = Atomics.load(this.#words, base / 4);
    if (state === 0) return null;
    const length = Atomics.load(this.#words, base / 4 + 1);
    // decode() does not take a view of shared memory: copy the few bytes out first.
    const addr = dec.decode(this.#bytes.slice(base + HEADER_BYTES, base + HEADER_BYTES + length));
    return { addr, owner: state - 1 };
  }
}
