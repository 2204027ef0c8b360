import assert from "node:assert/strict";
import {
  type ChatTurn,
  DEFAULT_SYSTEM,
  type LlmConfig,
  llmConfigFromEnv,
  LlmError,
  streamChat,
} from "./llm.ts";
import { SseParser } from "./sse.ts";
import { startLlmServer } from "../../tests/llm_server.ts";

const KEY = "sk-test-Zq8x7Kp2Lm4Nv6";

/** A config for `url` (a fake's base), with short clocks unless `extra` says otherwise. */
function config(url: string, extra: Partial<LlmConfig> = {}, key?: string): LlmConfig {
  const env: Record<string, string> = { BOT_LLM_URL: url, BOT_LLM_MODEL: "test-model" };
  if (key) env.BOT_LLM_API_KEY = key;
  const cfg = llmConfigFromEnv((n) => env[n])!;
  return Object.assign(cfg, { timeoutMs: 2000, firstTokenMs: 1000, stallMs: 1000 }, extra);
}

/** Runs the stream to its end: the deltas it yielded, and what it threw. */
async function collect(
  gen: AsyncGenerator<string>,
): Promise<{ parts: string[]; error?: LlmError; ms: number }> {
  const t0 = performance.now();
  const parts: string[] = [];
  try {
    for await (const part of gen) parts.push(part);
  } catch (e) {
    assert.ok(e instanceof LlmError, `not an LlmError: ${e}`);
    return { parts, error: e, ms: performance.now() - t0 };
  }
  return { parts, ms: performance.now() - t0 };
}

const hi: ChatTurn[] = [{ role: "user", content: "hi" }];

Deno.test("streamChat() assembles the exact text, CJK and emoji one code point a chunk", async () => {
  const srv = await startLlmServer();
  try {
    const text = "你好，世界！👋🏽 Héllo 😀 ok";
    srv.setMode({ kind: "reply", text, chunkChars: 1, delayMs: 0 });
    const { parts, error } = await collect(streamChat(config(srv.url), hi));
    assert.equal(error, undefined);
    assert.equal(parts.join(""), text);
    assert.ok(parts.length > 10, "streamed, not in one piece");
  } finally {
    await srv.close();
  }
});

Deno.test("streamChat() reads a real stream that arrives one byte at a time", async () => {
  const srv = await startLlmServer();
  try {
    const text = "汉字 and 😀 split mid-character";
    srv.setMode({ kind: "reply", text, delayMs: 0 });
    const byteByByte = async (input: string | URL, init: RequestInit) => {
      const res = await fetch(input, init);
      const bytes = res.body!.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, c) {
            for (const b of chunk) c.enqueue(new Uint8Array([b]));
          },
        }),
      );
      return new Response(bytes, { status: res.status, headers: res.headers });
    };
    const { parts, error } = await collect(streamChat(config(srv.url), hi, { fetch: byteByByte }));
    assert.equal(error, undefined);
    assert.equal(parts.join(""), text);
  } finally {
    await srv.close();
  }
});

Deno.test("streamChat() sends the model, system prompt and turns, and a key only when set", async () => {
  const srv = await startLlmServer();
  try {
    const turns: ChatTurn[] = [
      { role: "user", content: "first" },
      { role: "assistant", content: "reply" },
      { role: "user", content: "second" },
    ];
    srv.setMode({ kind: "reply", delayMs: 0 });
    const { parts } = await collect(streamChat(config(srv.url), turns));
    assert.equal(parts.join(""), "Echo: second");
    const [req] = srv.requests;
    assert.equal(req.auth, null);
    assert.equal(req.body.model, "test-model");
    assert.equal(req.body.stream, true);
    assert.deepEqual(req.body.messages, [{ role: "system", content: DEFAULT_SYSTEM }, ...turns]);
    assert.equal("max_tokens" in req.body, false);
  } finally {
    await srv.close();
  }
  const keyed = await startLlmServer({ key: KEY });
  try {
    keyed.setMode({ kind: "reply", delayMs: 0 });
    const ok = await collect(streamChat(config(keyed.url, {}, KEY), hi));
    assert.equal(ok.parts.join(""), "Echo: hi");
    assert.equal(keyed.requests[0].auth, `Bearer ${KEY}`);
    const refused = await collect(streamChat(config(keyed.url), hi));
    assert.equal(refused.error?.kind, "http");
    assert.equal(refused.error?.status, 401);
    assert.equal(keyed.requests[1].auth, null);
  } finally {
    await keyed.close();
  }
});

Deno.test("streamChat() throws 'stall' when the stream goes quiet after the first text", async () => {
  const srv = await startLlmServer();
  try {
    srv.setMode({ kind: "stall", afterChars: 4 });
    const res = await collect(streamChat(config(srv.url, { stallMs: 200 }), hi));
    assert.equal(res.parts.join(""), "Echo");
    assert.equal(res.error?.kind, "stall");
    assert.ok(res.ms >= 180 && res.ms < 700, `${res.ms} ms`);
  } finally {
    await srv.close();
  }
});

Deno.test("streamChat() throws 'timeout' when no reply starts, and on the total deadline", async () => {
  const srv = await startLlmServer();
  try {
    srv.setMode({ kind: "hang" });
    const hung = await collect(streamChat(config(srv.url, { firstTokenMs: 200 }), hi));
    assert.equal(hung.error?.kind, "timeout");
    assert.ok(hung.ms >= 180 && hung.ms < 700, `${hung.ms} ms`);
    srv.setMode({ kind: "reply", text: "slow but steady", chunkChars: 1, delayMs: 40 });
    const slow = await collect(streamChat(config(srv.url, { timeoutMs: 250 }), hi));
    assert.equal(slow.error?.kind, "timeout");
    assert.ok(slow.parts.length > 0, "text came before the deadline");
    assert.ok(slow.ms < 700, `${slow.ms} ms`);
  } finally {
    await srv.close();
  }
});

Deno.test("streamChat() throws 'http' with the status and the server's message", async () => {
  const srv = await startLlmServer();
  try {
    srv.setMode({ kind: "fail", status: 500 });
    const { error } = await collect(streamChat(config(srv.url), hi));
    assert.equal(error?.kind, "http");
    assert.equal(error?.status, 500);
    assert.match(error!.message, /HTTP 500: The server had an error/);
    srv.setMode({ kind: "fail", status: 502, body: "<html>" + "x".repeat(5000) + "</html>" });
    const long = await collect(streamChat(config(srv.url), hi));
    assert.equal(long.error?.status, 502);
    assert.ok(long.error!.message.length < 300, "at most 200 chars of the body");
  } finally {
    await srv.close();
  }
});

Deno.test("streamChat() throws on an error event after yielding the first text", async () => {
  const srv = await startLlmServer();
  try {
    srv.setMode({ kind: "midError" });
    const { parts, error } = await collect(streamChat(config(srv.url), hi));
    assert.equal(parts.join(""), "Hello ");
    assert.equal(error?.kind, "http");
    assert.match(error!.message, /overloaded/);
  } finally {
    await srv.close();
  }
});

Deno.test("streamChat() stops at maxChars code points", async () => {
  const srv = await startLlmServer();
  try {
    srv.setMode({ kind: "reply", text: "😀😀😀😀😀😀😀😀 and a lot more text", delayMs: 0 });
    const { parts, error } = await collect(streamChat(config(srv.url, { maxChars: 5 }), hi));
    assert.equal(error, undefined);
    assert.equal(parts.join(""), "😀😀😀😀😀");
  } finally {
    await srv.close();
  }
});

Deno.test("streamChat() never puts the key in an error, even when the server echoes it", async () => {
  const srv = await startLlmServer();
  try {
    srv.setMode({ kind: "echoAuth" });
    const { error } = await collect(streamChat(config(srv.url, {}, KEY), hi));
    assert.equal(srv.requests[0].auth, `Bearer ${KEY}`, "the server did see the key");
    assert.equal(error?.kind, "http");
    assert.equal(error?.status, 401);
    for (const text of [error!.message, error!.stack ?? "", Deno.inspect(error)]) {
      assert.ok(!text.includes(KEY), text);
      assert.ok(!text.includes(KEY.slice(0, 12)), text);
    }
    assert.match(error!.message, /Bad credentials/);
    // The key right where the 200-character cut falls, without "Bearer" in front of it.
    const body = JSON.stringify({ error: { message: `${"x".repeat(190)} ${KEY} more` } });
    const echoes = () => Promise.resolve(new Response(body, { status: 403 }));
    const cut = await collect(streamChat(config(srv.url, {}, KEY), hi, { fetch: echoes }));
    assert.equal(cut.error?.status, 403);
    assert.ok(!cut.error!.message.includes(KEY.slice(0, 6)), cut.error!.message);
  } finally {
    await srv.close();
  }
});

Deno.test("streamChat() ends with 'aborted' on the caller's signal, and stops when the loop breaks", async () => {
  const srv = await startLlmServer();
  try {
    srv.setMode({ kind: "stall", afterChars: 20 });
    const ac = new AbortController();
    const parts: string[] = [];
    await assert.rejects(async () => {
      for await (const part of streamChat(config(srv.url), hi, { signal: ac.signal })) {
        parts.push(part);
        ac.abort();
      }
    }, (e) => e instanceof LlmError && e.kind === "aborted");
    assert.equal(parts.length, 1);
    for await (const _ of streamChat(config(srv.url), hi)) break;
    assert.equal(srv.requests.length, 2);
  } finally {
    await srv.close();
  }
});

Deno.test("streamChat() wants [DONE] or a finish_reason before the stream ends", async () => {
  const fake = (body: string) => () =>
    Promise.resolve(new Response(body, { headers: { "content-type": "text/event-stream" } }));
  const cfg = config("http://llm.test/v1");
  const cut = 'data: {"choices":[{"delta":{"content":"Hal"}}]}\n\n';
  const truncated = await collect(streamChat(cfg, hi, { fetch: fake(cut) }));
  assert.deepEqual(truncated.parts, ["Hal"]);
  assert.equal(truncated.error?.kind, "bad_stream");
  const finished = cut + 'data:{"choices":[{"delta":{},"finish_reason":"stop"}]}';
  assert.deepEqual((await collect(streamChat(cfg, hi, { fetch: fake(finished) }))).parts, ["Hal"]);
  const junk = await collect(streamChat(cfg, hi, { fetch: fake("data: {nope\n\n") }));
  assert.equal(junk.error?.kind, "bad_stream");
  const refused = () => Promise.reject(new TypeError("connection refused"));
  assert.equal((await collect(streamChat(cfg, hi, { fetch: refused }))).error?.kind, "network");
});

Deno.test("SseParser takes CRLF, split UTF-8, comments, fields and multi-line data", () => {
  const text = ": keep-alive\r\nevent: message\r\nid: 7\r\nretry: 100\r\n" +
    'data: {"a":"汉😀"}\r\n\r\n' +
    "data:first\ndata: second\n\n" +
    "data\n\n" +
    'data: {"b":1}\r\r' +
    'data: {"c":2}\n';
  const bytes = new TextEncoder().encode(text);
  const expected = ['{"a":"汉😀"}', "first\nsecond", "", '{"b":1}', '{"c":2}'];
  for (const size of [1, 2, 3, 5, 7, bytes.length]) {
    const parser = new SseParser();
    const out: string[] = [];
    for (let i = 0; i < bytes.length; i += size) out.push(...parser.push(bytes.slice(i, i + size)));
    out.push(...parser.end());
    assert.deepEqual(out, expected, `chunks of ${size} bytes`);
  }
});

Deno.test("llmConfigFromEnv() reads the settings, checks them, and hides the key", () => {
  const of = (env: Record<string, string>) => llmConfigFromEnv((n) => env[n]);
  assert.equal(of({}), null);
  assert.equal(of({ BOT_LLM_URL: " " }), null);
  const cfg = of({
    BOT_LLM_URL: "https://api.example.com/v1/",
    BOT_LLM_MODEL: "gpt-x",
    BOT_LLM_API_KEY: KEY,
    BOT_LLM_CONTEXT: "4",
  })!;
  assert.equal(cfg.url, "https://api.example.com/v1/chat/completions");
  assert.equal(cfg.apiKey, KEY);
  assert.deepEqual(
    { ...cfg },
    {
      url: "https://api.example.com/v1/chat/completions",
      model: "gpt-x",
      system: DEFAULT_SYSTEM,
      timeoutMs: 60000,
      firstTokenMs: 20000,
      stallMs: 15000,
      context: 4,
      dailyLimit: 50,
      maxChars: 4000,
    },
  );
  for (
    const shown of [JSON.stringify(cfg), Deno.inspect(cfg), String(cfg), `${Object.keys(cfg)}`]
  ) {
    assert.ok(!shown.includes(KEY), shown);
  }
  const full = of({
    BOT_LLM_URL: "http://localhost:11434/v1/chat/completions",
    BOT_LLM_MODEL: "m",
  });
  assert.equal(full?.url, "http://localhost:11434/v1/chat/completions");
  assert.equal(full?.apiKey, undefined);
  const bad = (env: Record<string, string>, re: RegExp) => assert.throws(() => of(env), re);
  bad({ BOT_LLM_URL: "ftp://x/v1", BOT_LLM_MODEL: "m" }, /http or https/);
  bad({ BOT_LLM_URL: "not a url", BOT_LLM_MODEL: "m" }, /not a valid URL/);
  bad({ BOT_LLM_URL: "https://u:p@x/v1", BOT_LLM_MODEL: "m" }, /BOT_LLM_API_KEY/);
  bad({ BOT_LLM_URL: "https://x/v1" }, /BOT_LLM_MODEL is required/);
  bad({ BOT_LLM_URL: "https://x/v1", BOT_LLM_MODEL: "m", BOT_LLM_TIMEOUT_MS: "1e3" }, /TIMEOUT/);
  bad({ BOT_LLM_URL: "https://x/v1", BOT_LLM_MODEL: "m", BOT_LLM_MAX_CHARS: "0" }, /MAX_CHARS/);
  bad({ BOT_LLM_URL: "https://x/v1", BOT_LLM_MODEL: "m", BOT_LLM_DAILY_LIMIT: "lots" }, /DAILY/);
});
