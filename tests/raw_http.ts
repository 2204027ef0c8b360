/**
 * A bare HTTP/1.1 client over TCP for bodies that fetch cannot send: a declared Content-Length
 * streamed without building the body in memory, or a body trickled a byte at a time. It keeps
 * sending until the server answers, and reports how many body bytes went out before that.
 */

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** Body bytes written before the answer's head arrived. */
  sentBeforeAnswer: number;
}

export interface RawBody {
  /** Declared length; without it the body goes chunked. */
  length?: number;
  /** Pieces to send, in order (may be endless: sending stops at the answer). */
  pieces: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

const enc = new TextEncoder();
const delay = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** Zero-filled pieces of `size` bytes adding up to `total` (one buffer, reused). */
export function* zeros(total: number, size = 64 * 1024): Generator<Uint8Array> {
  const buf = new Uint8Array(size);
  for (let sent = 0; sent < total; sent += size) {
    yield buf.subarray(0, Math.min(size, total - sent));
  }
}

/** One byte every `ms` milliseconds, `total` bytes in all. */
export async function* trickle(total: number, ms: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < total; i++) {
    await delay(ms);
    yield Uint8Array.of(0x30);
  }
}

function indexOfHeadEnd(buf: Uint8Array): number {
  for (let i = 0; i + 3 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Reads one answer (head and a Content-Length body) or fails after `patienceMs`. */
async function readAnswer(
  conn: Deno.TcpConn,
  patienceMs: number,
  onHead: () => void,
): Promise<Omit<RawAnswer, "sentBeforeAnswer">> {
  let buf: Uint8Array = new Uint8Array(0);
  const chunk = new Uint8Array(16 * 1024);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"expired">((res) => {
    timer = setTimeout(() => res("expired"), patienceMs);
  });
  try {
    const more = async () => {
      const n = await Promise.race([conn.read(chunk), expired]);
      if (n === "expired") throw new Error(`No answer within ${patienceMs} ms`);
      if (n === null) throw new Error("The server closed the connection without an answer");
      buf = concat(buf, chunk.subarray(0, n));
    };
    let end = -1;
    while ((end = indexOfHeadEnd(buf)) < 0) await more();
    onHead();
    const lines = new TextDecoder().decode(buf.subarray(0, end)).split("\r\n");
    const status = Number(lines[0].split(" ")[1]);
    const headers = new Headers();
    for (const l of lines.slice(1)) {
      const i = l.indexOf(":");
      headers.append(l.slice(0, i).trim(), l.slice(i + 1).trim());
    }
    const length = Number(headers.get("content-length") ?? "0");
    while (buf.length - end - 4 < length) await more();
    const text = new TextDecoder().decode(buf.subarray(end + 4, end + 4 + length));
    return { status, headers, text };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sends `method path` with `headers` and the body, and returns the answer. Sending stops as soon
 * as the answer's head arrives (the server may answer long before the body is complete).
 */
export async function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: RawBody,
  patienceMs = 30_000,
): Promise<RawAnswer> {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const head = [
    `${method} ${u.pathname}${u.search} HTTP/1.1`,
    `Host: ${u.host}`,
    body.length === undefined ? "Transfer-Encoding: chunked" : `Content-Length: ${body.length}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  let answered = false;
  let sent = 0;
  let sentBeforeAnswer = 0;
  const writing = (async () => {
    await conn.write(enc.encode(head.join("\r\n") + "\r\n\r\n"));
    for await (const piece of body.pieces) {
      if (answered) return;
      if (body.length === undefined) {
        await conn.write(concat(enc.encode(`${piece.length.toString(16)}\r\n`), piece));
        await conn.write(enc.encode("\r\n"));
      } else {
        await conn.write(piece);
      }
      sent += piece.length;
    }
    if (body.length === undefined && !answered) await conn.write(enc.encode("0\r\n\r\n"));
  })();
  // Once the answer is in, the connection is closed under a write that may be waiting: that
  // write's failure is the expected end of sending, not an error of the test.
  const writeDone = writing.then(() => null, (err: Error) => err);
  const answer = await readAnswer(conn, patienceMs, () => {
    answered = true;
    sentBeforeAnswer = sent;
  }).finally(() => {
    answered = true;
    conn.close();
  });
  const err = await writeDone;
  const expected = err instanceof Deno.errors.BadResource ||
    err instanceof Deno.errors.Interrupted || err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.BrokenPipe;
  if (err && !expected) throw err;
  return { ...answer, sentBeforeAnswer };
}
