/**
 * A streaming client for any OpenAI-compatible chat endpoint (OpenAI, DeepSeek, DashScope
 * compatible mode, Ollama, llama.cpp): config from env, an incremental SSE parser, and
 * `streamChat`, which yields the reply's text as it arrives, under three clocks.
 */
import { log } from "../log.ts";
import { SseParser } from "./sse.ts";

/** What the bot needs to talk to the operator's language model (see `llmConfigFromEnv`). */
export interface LlmConfig {
  /** The full `.../chat/completions` URL. */
  url: string;
  model: string;
  /** Bearer key; non-enumerable when made by `llmConfigFromEnv`, so it never prints. */
  apiKey?: string;
  /** System prompt, sent first; empty sends none. */
  system: string;
  /** The whole reply must arrive within this. */
  timeoutMs: number;
  /** Until the first text delta. */
  firstTokenMs: number;
  /** The longest gap between two chunks after the first delta. */
  stallMs: number;
  /** How many earlier messages of the conversation to send. */
  context: number;
  /** Replies per user per day (enforced by the caller). */
  dailyLimit: number;
  /** The reply is cut at this many code points. */
  maxChars: number;
  /** Sent as `max_tokens` when set (BOT_LLM_MAX_TOKENS); some reasoning models refuse it. */
  maxTokens?: number;
}

/** One message of the conversation, as the chat API takes it. */
export type ChatTurn = { role: "system" | "user" | "assistant"; content: string };

/** How a model request failed. */
export type LlmErrorKind = "http" | "timeout" | "stall" | "bad_stream" | "network" | "aborted";

/** A failed model request; its message never holds the API key. */
export class LlmError extends Error {
  override name = "LlmError";
  /** The HTTP status, when the server answered with one. */
  readonly status?: number;
  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    opts: { status?: number; secret?: string } = {},
  ) {
    super(clip(redact(message, opts.secret), 300));
    if (opts.status !== undefined) this.status = opts.status;
  }
}

/** The system prompt used when BOT_LLM_SYSTEM is unset. */
export const DEFAULT_SYSTEM =
  "You are the HappyChat bot, a friendly assistant inside the HappyChat messenger. " +
  "Answer briefly and plainly, in the language the user writes in.";

/** Reads BOT_LLM_* settings; null when BOT_LLM_URL is unset. Throws on a bad value. */
export function llmConfigFromEnv(get: (name: string) => string | undefined): LlmConfig | null {
  const raw = get("BOT_LLM_URL")?.trim();
  if (!raw) return null;
  const model = get("BOT_LLM_MODEL")?.trim();
  if (!model) throw new Error("BOT_LLM_MODEL is required when BOT_LLM_URL is set");
  const num = (name: string, fallback: number, min: number): number => {
    const v = get(name)?.trim();
    if (!v) return fallback;
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) {
      throw new Error(`${name} must be a whole number of at least ${min}, not "${v}"`);
    }
    return n;
  };
  const cfg: LlmConfig = {
    url: chatCompletionsUrl(raw),
    model,
    system: get("BOT_LLM_SYSTEM")?.trim() || DEFAULT_SYSTEM,
    timeoutMs: num("BOT_LLM_TIMEOUT_MS", 60_000, 1),
    firstTokenMs: num("BOT_LLM_FIRST_TOKEN_MS", 20_000, 1),
    stallMs: num("BOT_LLM_STALL_MS", 15_000, 1),
    context: num("BOT_LLM_CONTEXT", 10, 0),
    dailyLimit: num("BOT_LLM_DAILY_LIMIT", 50, 0),
    maxChars: num("BOT_LLM_MAX_CHARS", 4000, 1),
  };
  const maxTokens = num("BOT_LLM_MAX_TOKENS", 0, 1);
  if (maxTokens) cfg.maxTokens = maxTokens;
  const key = get("BOT_LLM_API_KEY")?.trim();
  // Non-enumerable: JSON.stringify, Deno.inspect and spreads leave it out.
  if (key) Object.defineProperty(cfg, "apiKey", { value: key, enumerable: false });
  return cfg;
}

/** A base URL (`.../v1`) or a full one, as the `.../chat/completions` URL. */
function chatCompletionsUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error("BOT_LLM_URL is not a valid URL");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new Error(`BOT_LLM_URL must be an http or https URL, not "${u.protocol}"`);
  }
  if (u.username || u.password) {
    throw new Error("BOT_LLM_URL must not hold a user or password: put the key in BOT_LLM_API_KEY");
  }
  const path = u.pathname.replace(/\/+$/, "");
  u.pathname = path.endsWith("/chat/completions") ? path : `${path}/chat/completions`;
  return u.href;
}

/** Options of `streamChat`. */
export interface StreamOptions {
  /** Aborting it ends the request; the generator throws LlmError "aborted". */
  signal?: AbortSignal;
  /** A guarded fetch (e.g. one that refuses private addresses); default `globalThis.fetch`. */
  fetch?: (input: string | URL, init: RequestInit) => Promise<Response>;
}

/**
 * Asks the model and yields the reply's text deltas as they arrive, at most `cfg.maxChars` code
 * points in all. Throws LlmError; breaking out of the loop cancels the request.
 */
export async function* streamChat(
  cfg: LlmConfig,
  turns: ChatTurn[],
  opts: StreamOptions = {},
): AsyncGenerator<string> {
  const fail = (kind: LlmErrorKind, message: string, status?: number) =>
    new LlmError(kind, message, { status, secret: cfg.apiKey });
  if (opts.signal?.aborted) throw fail("aborted", "The LLM request was cancelled");
  const ac = new AbortController();
  let failure: LlmError | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let bodyDone = false;
  const stop = (err: LlmError) => {
    failure ??= err;
    ac.abort(failure);
    reader?.cancel(failure).catch((e) => log.debug("llm.cancel_failed", { error: e }));
  };
  const onAbort = () => stop(fail("aborted", "The LLM request was cancelled"));
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const after = (ms: number, err: () => LlmError) => setTimeout(() => stop(err()), ms);
  const total = after(cfg.timeoutMs, () => fail("timeout", `No full reply in ${cfg.timeoutMs} ms`));
  let first: ReturnType<typeof setTimeout> | undefined = after(
    cfg.firstTokenMs,
    () => fail("timeout", `No reply started in ${cfg.firstTokenMs} ms`),
  );
  let finished = false;
  const read = async (): Promise<ReadableStreamReadResult<Uint8Array>> => {
    const stall = first === undefined
      ? after(cfg.stallMs, () => fail("stall", `The reply stalled for ${cfg.stallMs} ms`))
      : undefined;
    try {
      const r = await reader!.read();
      if (r.done) bodyDone = true;
      return r;
    } finally {
      clearTimeout(stall);
    }
  };
  try {
    const res = await untilAborted(
      (opts.fetch ?? globalThis.fetch)(cfg.url, request(cfg, turns, ac.signal)),
      ac.signal,
    );
    reader = res.body?.getReader();
    if (failure) throw failure;
    if (!res.ok) {
      const why = errorText(reader ? await readSome(read, 4096) : "", cfg.apiKey);
      throw fail("http", `The LLM server answered HTTP ${res.status}: ${why}`, res.status);
    }
    if (!reader) throw fail("bad_stream", `HTTP ${res.status} without a body`, res.status);
    const parser = new SseParser(() => new LlmError("bad_stream", "An SSE line is too long"));
    let count = 0;
    for (;;) {
      const r = await read();
      if (r.done && failure) throw failure;
      for (const data of r.done ? parser.end() : parser.push(r.value)) {
        if (failure) throw failure; // aborted while the caller held a delta
        if (data.trim() === "[DONE]") return;
        const { text, done } = delta(data, fail, cfg.apiKey);
        finished ||= done;
        if (!text) continue;
        clearTimeout(first);
        first = undefined;
        const chars = [...text];
        if (count + chars.length >= cfg.maxChars) {
          yield chars.slice(0, cfg.maxChars - count).join("");
          return;
        }
        count += chars.length;
        yield text;
      }
      if (r.done) {
        if (finished) return;
        throw fail("bad_stream", "The stream ended before the reply was complete");
      }
    }
  } catch (e) {
    // After finish_reason the reply is whole: a late stall or reset loses nothing.
    if (finished) return;
    if (failure) throw failure;
    if (e instanceof LlmError) throw e;
    throw fail("network", `The LLM server is unreachable: ${e instanceof Error ? e.message : e}`);
  } finally {
    clearTimeout(total);
    clearTimeout(first);
    opts.signal?.removeEventListener("abort", onAbort);
    if (reader && !bodyDone) {
      await reader.cancel().catch((e) => log.debug("llm.cancel_failed", { error: e }));
    }
    ac.abort();
  }
}

/** The POST for a streamed completion. */
function request(cfg: LlmConfig, turns: ChatTurn[], signal: AbortSignal): RequestInit {
  const messages = cfg.system ? [{ role: "system", content: cfg.system }] : [];
  for (const t of turns) messages.push({ role: t.role, content: t.content });
  const body: Record<string, unknown> = { model: cfg.model, messages, stream: true };
  if (cfg.maxTokens) body.max_tokens = cfg.maxTokens;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "text/event-stream",
  };
  if (cfg.apiKey) headers.authorization = `Bearer ${cfg.apiKey}`;
  return { method: "POST", headers, body: JSON.stringify(body), signal };
}

/** The text and end mark of one streamed chunk; an error event throws. */
function delta(
  data: string,
  fail: (kind: LlmErrorKind, message: string) => LlmError,
  secret?: string,
): { text: string; done: boolean } {
  let chunk;
  try {
    chunk = JSON.parse(data);
  } catch {
    throw fail("bad_stream", `The LLM server sent a malformed event: ${snippet(data, secret)}`);
  }
  if (chunk?.error) {
    throw fail("http", `The LLM server reported an error: ${errorText(data, secret)}`);
  }
  const choice = chunk?.choices?.[0];
  const content = choice?.delta?.content;
  return { text: typeof content === "string" ? content : "", done: !!choice?.finish_reason };
}

/** Up to `limit` bytes of a body, as text. */
async function readSome(
  read: () => Promise<ReadableStreamReadResult<Uint8Array>>,
  limit: number,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for (let r = await read(); !r.done && text.length < limit; r = await read()) {
    text += decoder.decode(r.value, { stream: true });
  }
  return text;
}

/** The `error.message` of an OpenAI-style error body, else the body itself: redacted, clipped. */
function errorText(body: string, secret?: string): string {
  let text = body.trim();
  try {
    const m = JSON.parse(body)?.error;
    const msg = typeof m === "string" ? m : m?.message;
    if (typeof msg === "string") text = msg;
  } catch {
    // Not JSON: show the text.
  }
  return snippet(text, secret);
}

/** Server text fit for a message: the key removed first, then cut to 200 code points. */
function snippet(text: string, secret?: string): string {
  return clip(redact(text, secret), 200);
}

/** Settles with `p`, or rejects at once when `signal` aborts (a fetch that ignores it). */
function untilAborted(p: Promise<Response>, signal: AbortSignal): Promise<Response> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    p.then((res) => {
      signal.removeEventListener("abort", onAbort);
      if (!signal.aborted) return resolve(res);
      res.body?.cancel().catch((e) => log.debug("llm.cancel_failed", { error: e }));
    }, (e) => {
      signal.removeEventListener("abort", onAbort);
      reject(e);
    });
  });
}

/** Removes the key (raw or JSON-escaped) and any bearer token from text bound for a message. */
function redact(text: string, secret?: string): string {
  let out = text;
  if (secret) {
    for (const s of [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]) {
      out = out.split(s).join("[redacted]");
    }
  }
  return out.replace(/(bearer\s+)[^\s"',;}\]]+/gi, "$1[redacted]");
}

/** At most `max` code points. */
function clip(text: string, max: number): string {
  const cps = [...text];
  return cps.length <= max ? text : `${cps.slice(0, max).join("")}…`;
}
