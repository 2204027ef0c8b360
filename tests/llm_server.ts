/**
 * A fake OpenAI-compatible chat server for tests: POST /v1/chat/completions on 127.0.0.1:0
 * streams replies in the real OpenAI SSE format, or fails, stalls, hangs or leaks the key back,
 * as the test sets it. Every request's Authorization header and JSON body are kept.
 */

/** What the next requests get. */
export type Mode =
  /** Streams `text` (default `Echo: <last user message>`) in chunks of `chunkChars` code points. */
  | { kind: "reply"; text?: string; chunkChars?: number; delayMs?: number }
  /** Streams the first `afterChars` code points of the echo, then holds the connection silent. */
  | { kind: "stall"; afterChars: number }
  /** Answers `status` with `body` (default an OpenAI-style JSON error). */
  | { kind: "fail"; status: number; body?: string }
  /** Never sends headers. */
  | { kind: "hang" }
  /** Answers 401 with a body that repeats the Authorization header it got. */
  | { kind: "echoAuth" }
  /** Streams a few deltas, then an error event. */
  | { kind: "midError" };

/** A recorded request. */
export interface LlmRequest {
  auth: string | null;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/** The running fake. */
export interface LlmServer {
  /** Base URL, ending in `/v1`. */
  url: string;
  requests: LlmRequest[];
  readonly mode: Mode;
  setMode(m: Mode): void;
  /** Ends open streams and hanging requests, then stops the server. */
  close(): Promise<void>;
}

const enc = new TextEncoder();
let seq = 0;

/** Starts the fake; with `key`, requests without `Bearer <key>` get 401. */
export function startLlmServer(opts: { key?: string } = {}): Promise<LlmServer> {
  let mode: Mode = { kind: "reply" };
  const requests: LlmRequest[] = [];
  /** Ends each open response: streams close, hanging handlers return. */
  const open = new Set<() => void>();
  const handler = async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      return json(404, { error: { message: "Not found", type: "invalid_request_error" } });
    }
    const auth = req.headers.get("authorization");
    let body = null;
    try {
      body = await req.json();
    } catch {
      body = null;
    }
    requests.push({ auth, body });
    if (opts.key !== undefined && auth !== `Bearer ${opts.key}`) {
      return json(401, {
        error: { message: "Incorrect API key provided", type: "invalid_request_error" },
      });
    }
    const m = mode;
    const model = typeof body?.model === "string" ? body.model : "fake";
    const echo = `Echo: ${lastUser(body)}`;
    switch (m.kind) {
      case "reply": {
        const text = m.text ?? echo;
        const events = replyEvents(model, text, m.chunkChars ?? 3);
        return sse(stream(events, { delayMs: m.delayMs ?? 10, hold: false, open }));
      }
      case "stall": {
        const events = replyEvents(model, [...echo].slice(0, m.afterChars).join(""), 3);
        return sse(stream(events.slice(0, -2), { delayMs: 0, hold: true, open }));
      }
      case "fail":
        return new Response(
          m.body ?? JSON.stringify({
            error: { message: "The server had an error", type: "server_error" },
          }),
          { status: m.status, headers: { "content-type": "application/json" } },
        );
      case "hang":
        // Held until close(); req.signal is not used: in Deno it also aborts on success.
        await new Promise<void>((resolve) => open.add(resolve));
        return new Response(null, { status: 503 });
      case "echoAuth":
        return json(401, {
          error: { message: `Bad credentials: ${auth}`, type: "invalid_request_error" },
        });
      case "midError": {
        const events = replyEvents(model, "Hello there", 3).slice(0, 3);
        events.push(event({ error: { message: "overloaded", type: "server_error" } }));
        return sse(stream(events, { delayMs: 5, hold: false, open }));
      }
    }
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    handler,
  );
  const { port } = server.addr as Deno.NetAddr;
  return Promise.resolve({
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    get mode() {
      return mode;
    },
    setMode(m) {
      mode = m;
    },
    async close() {
      for (const end of [...open]) end();
      await server.shutdown();
    },
  });
}

/** The content of the last user message of a chat body. */
// deno-lint-ignore no-explicit-any
function lastUser(body: any): string {
  const msgs = Array.isArray(body?.messages) ? body.messages : [];
  // deno-lint-ignore no-explicit-any
  const user = msgs.findLast((m: any) => m?.role === "user");
  return typeof user?.content === "string" ? user.content : "";
}

/** The SSE events OpenAI sends for `text`: role chunk, content chunks, stop chunk, [DONE]. */
function replyEvents(model: string, text: string, chunkChars: number): string[] {
  const id = `chatcmpl-fake${++seq}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: Record<string, string>, finish: string | null) =>
    event({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      system_fingerprint: "fp_fake",
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
  const events = [chunk({ role: "assistant", content: "" }, null)];
  const cps = [...text];
  for (let i = 0; i < cps.length; i += Math.max(1, chunkChars)) {
    events.push(chunk({ content: cps.slice(i, i + chunkChars).join("") }, null));
  }
  events.push(chunk({}, "stop"), "data: [DONE]\n\n");
  return events;
}

function event(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function sse(body: ReadableStream<Uint8Array>): Response {
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

/**
 * Writes `events` with `delayMs` between them, then closes, or with `hold` stays open until the
 * client goes away or the server closes. Its end is registered in `open` meanwhile.
 */
function stream(
  events: string[],
  opts: { delayMs: number; hold: boolean; open: Set<() => void> },
): ReadableStream<Uint8Array> {
  let ctrl: ReadableStreamDefaultController<Uint8Array>;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  let ended = false;
  const end = (cancelled: boolean) => {
    if (ended) return;
    ended = true;
    opts.open.delete(close);
    clearTimeout(timer);
    wake?.();
    if (cancelled) return;
    try {
      ctrl.close();
    } catch {
      // Already errored: the client went away first.
    }
  };
  const close = () => end(false);
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
    });
  const run = async () => {
    for (const [i, ev] of events.entries()) {
      if (i > 0 && opts.delayMs > 0) await sleep(opts.delayMs);
      if (ended) return;
      ctrl.enqueue(enc.encode(ev));
    }
    if (!opts.hold) close();
  };
  return new ReadableStream({
    start(c) {
      ctrl = c;
      opts.open.add(close);
      run();
    },
    cancel() {
      end(true);
    },
  });
}
