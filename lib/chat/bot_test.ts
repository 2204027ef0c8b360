import assert from "node:assert/strict";
import { botWelcome } from "./bot.ts";
import { think } from "./brain.ts";
import { MAX_TEXT_CHARS } from "../wire/protocol.ts";

Deno.test("the bot's answers stay valid messages, even to the longest message", () => {
  const now = Date.now();
  for (const ch of ["1+", "x", "汉", "😀"]) {
    for (const locale of ["en", "zh-CN"] as const) {
      const long = ch.repeat(MAX_TEXT_CHARS / ch.length);
      for (const text of [long, `remind me in 1 minute to ${long}`, `pick ${long} or b`]) {
        const reply = think(text, { locale, name: "N".repeat(32), now }).text;
        assert.ok([...reply].length <= MAX_TEXT_CHARS, `${[...reply].length} code points`);
        assert.ok(reply.length > 0);
      }
    }
  }
  assert.match(botWelcome({ locale: "en", name: "Ann" }), /Ann/);
});
