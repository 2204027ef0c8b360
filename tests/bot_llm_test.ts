/**
 * The bot with a language model, against a real OpenAI-compatible streaming server started here
 * (tests/llm_server.ts: the real SSE format; it can stall, fail and hang). The answer grows on
 * every device of the user as "draft" frames and ends as one stored message, the same on each; a
 * client that resumes later gets the stored text; when the model fails the bot still answers; the
 * key never shows in a log line or a frame.
 */
import assert from "node:assert/strict";
import { signUp, startTestServer, type TestServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";
import { type LlmServer, startLlmServer } from "./llm_server.ts";
import type { Message, ServerFrame } from "../lib/wire/protocol.ts";

const KEY = "sk-test-7f3c9a1be04d4c2f8e51";

async function setup(env: Record<string, string> = {}) {
  const llm = await startLlmServer({ key: KEY });
  const server = await startTestServer({
    env: {
      BOT_LLM_URL: llm.url,
      BOT_LLM_MODEL: "test-model",
      BOT_LLM_API_KEY: KEY,
      BOT_LLM_SYSTEM: "You are a test bot.",
      BOT_LLM_FIRST_TOKEN_MS: "1500",
      // Well above the 60 ms between the streaming test's chunks, for a loaded machine.
      BOT_LLM_STALL_MS: "1500",
      BOT_LLM_TIMEOUT_MS: "5000",
      ...env,
    },
  });
  return { llm, server };
}

async function teardown(s: { llm: LlmServer; server: TestServer }) {
  await s.server.close();
  await s.llm.close();
}

/** Two devices of one new user, and the id of their conversation with the bot. */
async function twoDevices(server: TestServer) {
  const { client } = await signUp(server);
  const a = await WsClient.connect(server, client);
  const b = await WsClient.connect(server, client);
  const conv = (await a.next("welcome")).convs.find((c) => c.kind === "bot")!.id;
  return { client, a, b, conv };
}

function drafts(ws: WsClient, conv: string): string[] {
  return ws.frames.flatMap((f) => (f.type === "draft" && f.conv === conv ? [f.text] : []));
}

/** The bot's stored answer in `conv`, as `ws` got it. */
async function answer(ws: WsClient, conv: string, timeoutMs = 4000): Promise<Message> {
  const f = await ws.next("msg", (f) => f.msg.conv === conv && f.msg.from === "bot", timeoutMs);
  return f.msg;
}

function assertNoKey(server: TestServer, frames: ServerFrame[][]) {
  for (const line of server.logs()) assert.ok(!line.includes(KEY), `key in log: ${line}`);
  for (const list of frames) {
    assert.ok(!JSON.stringify(list).includes(KEY), "key in a frame");
  }
}

Deno.test("an answer streams into both devices and ends the same on each; a resume sees it whole", async () => {
  const s = await setup();
  try {
    const text =
      "Once upon a time, a cat named 小白 sailed to the moon 🌙 and came back with cheese.";
    s.llm.setMode({ kind: "reply", text, chunkChars: 4, delayMs: 60 });
    const { client, a, b, conv } = await twoDevices(s.server);
    a.send({ type: "send", rid: "q1", conv, cid: "q1", text: "tell me a story about a cat" });
    const ack = await a.next("ack", (f) => f.cid === "q1");
    const [onA, onB] = await Promise.all([answer(a, conv), answer(b, conv)]);
    assert.equal(onA.text, text);
    assert.deepEqual(onB, onA);
    for (const ws of [a, b]) {
      const seen = drafts(ws, conv);
      // It grew: several drafts, each longer, each the start of the final text.
      assert.ok(seen.length >= 3, `only ${seen.length} drafts`);
      for (let i = 0; i < seen.length; i++) {
        assert.ok(text.startsWith(seen[i]), `draft ${i} is not a prefix: ${seen[i]}`);
        if (i) assert.ok(seen[i].length > seen[i - 1].length);
      }
      const last = ws.frames.filter((f) => f.type === "draft").at(-1);
      assert.equal(last?.type === "draft" && last.cid, onA.cid);
    }
    // The model got the system prompt, the model name, the key and the question.
    const req = s.llm.requests.at(-1)!;
    assert.equal(req.auth, `Bearer ${KEY}`);
    assert.equal(req.body.model, "test-model");
    assert.equal(req.body.stream, true);
    assert.deepEqual(req.body.messages[0], { role: "system", content: "You are a test bot." });
    assert.deepEqual(req.body.messages.at(-1), {
      role: "user",
      content: "tell me a story about a cat",
    });

    // A device that was away resumes after the question: it gets the final text, no draft needed.
    const c = await WsClient.connect(s.server, client, { [conv]: ack.seq - 1 });
    const resumed = c.msgs(conv).find((m) => m.from === "bot");
    assert.equal(resumed?.text, text);

    // The next question carries the earlier turns as context.
    s.llm.setMode({ kind: "reply", text: "It was Gouda.", chunkChars: 50, delayMs: 1 });
    a.send({ type: "send", rid: "q2", conv, cid: "q2", text: "which cheese was that?" });
    assert.equal((await answer(a, conv)).text, "It was Gouda.");
    const msgs = s.llm.requests.at(-1)!.body.messages;
    assert.deepEqual(msgs.slice(-3), [
      { role: "user", content: "tell me a story about a cat" },
      { role: "assistant", content: text },
      { role: "user", content: "which cheese was that?" },
    ]);
    assertNoKey(s.server, [a.frames, b.frames, c.frames]);
  } finally {
    await teardown(s);
  }
});

Deno.test("the built-in brain answers what it knows, and when the model fails, stalls or hangs", async () => {
  const s = await setup();
  try {
    const { a, conv } = await twoDevices(s.server);
    // A sum is the brain's: the model is not asked.
    const before = s.llm.requests.length;
    a.send({ type: "send", rid: "s", conv, cid: "s", text: "12*7" });
    assert.match((await answer(a, conv)).text, /84/);
    assert.equal(s.llm.requests.length, before);

    // The model fails: a polite message with the brain's own answer.
    s.llm.setMode({ kind: "fail", status: 500 });
    a.send({ type: "send", rid: "f", conv, cid: "f", text: "what is the meaning of life" });
    const failed = (await answer(a, conv)).text;
    assert.match(failed, /can't reach my language model/);
    assert.match(failed, /help/i);

    // It stalls after a few words: what was written stays, with a note that it was cut off.
    s.llm.setMode({ kind: "stall", afterChars: 10 });
    a.send({ type: "send", rid: "t", conv, cid: "t", text: "write me a long poem" });
    const stalled = (await answer(a, conv)).text;
    assert.ok(stalled.startsWith("Echo: writ"), stalled);
    assert.match(stalled, /cut off/);
    assert.match(stalled, /took too long/);

    // It never answers at all: the first-token deadline ends the wait.
    s.llm.setMode({ kind: "hang" });
    a.send({ type: "send", rid: "h", conv, cid: "h", text: "are you there" });
    assert.match((await answer(a, conv, 5000)).text, /took too long/);

    // It says the key was wrong, and quotes the header back: the key reaches no one.
    s.llm.setMode({ kind: "echoAuth" });
    a.send({ type: "send", rid: "e", conv, cid: "e", text: "one more question" });
    assert.match((await answer(a, conv)).text, /ran into an error/);
    assertNoKey(s.server, [a.frames]);
  } finally {
    await teardown(s);
  }
});

Deno.test("a user's daily model answers are limited; past the limit the brain answers", async () => {
  const s = await setup({ BOT_LLM_DAILY_LIMIT: "2" });
  try {
    s.llm.setMode({ kind: "reply", text: "Model says hi.", chunkChars: 50, delayMs: 1 });
    const { a, conv } = await twoDevices(s.server);
    for (const q of ["first question", "second question", "third question"]) {
      a.send({ type: "send", rid: q.replace(/ /g, "-"), conv, cid: q.replace(/ /g, "-"), text: q });
      const got = (await answer(a, conv)).text;
      if (q === "third question") assert.match(got, /today/);
      else assert.equal(got, "Model says hi.");
    }
    assert.equal(s.llm.requests.length, 2);
  } finally {
    await teardown(s);
  }
});
