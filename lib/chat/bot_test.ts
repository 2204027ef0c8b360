import assert from "node:assert/strict";
import { botReply } from "./bot.ts";
import { MAX_TEXT_CHARS } from "../wire/protocol.ts";

Deno.test("botReply() echoes a message of the longest allowed length within the message limit", () => {
  for (const ch of ["x", "汉", "😀"]) {
    for (const locale of ["en", "zh-CN"] as const) {
      const reply = botReply(ch.repeat(MAX_TEXT_CHARS), { locale, name: "N".repeat(32) });
      assert.ok([...reply].length <= MAX_TEXT_CHARS, `${[...reply].length} code points`);
      assert.ok(reply.includes(ch.repeat(100)), "the echo is still there");
      assert.ok(reply.isWellFormed(), "no surrogate cut in half");
    }
  }
  assert.equal(botReply("short", { locale: "en", name: "N" }), 'You said: "short"');
});
