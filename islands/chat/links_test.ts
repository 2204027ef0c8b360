import assert from "node:assert/strict";
import { loadLinkifier, mayHoldLink, pieces } from "./links.ts";
import { emojiOnly } from "./format.ts";

Deno.test("links: http(s), www, bare domains and e-mail become links; other schemes and markup stay text", async () => {
  const lk = await loadLinkifier();
  assert.deepEqual(pieces(lk, "Plan: https://example.com/trip?day=1 ok"), [
    "Plan: ",
    { text: "https://example.com/trip?day=1", href: "https://example.com/trip?day=1" },
    " ok",
  ]);
  assert.deepEqual(pieces(lk, "<b>x</b> www.deno.com."), [
    "<b>x</b> ",
    { text: "www.deno.com", href: "http://www.deno.com" },
    ".",
  ]);
  assert.deepEqual(pieces(lk, "文件在example.com/a。"), [
    "文件在",
    { text: "example.com/a", href: "http://example.com/a" },
    "。",
  ]);
  assert.deepEqual(pieces(lk, "javascript:alert(1) ftp://x.com/a"), [
    "javascript:alert(1) ftp://x.com/a",
  ]);
  assert.deepEqual(pieces(lk, "mail me: a@b.com"), [
    "mail me: ",
    { text: "a@b.com", href: "mailto:a@b.com" },
  ]);
  assert.deepEqual(pieces(lk, "你好，世界"), ["你好，世界"]);
  assert.equal(mayHoldLink("你好，世界"), false);
  assert.equal(mayHoldLink("see deno.com"), true);
});

Deno.test("emojiOnly: up to three emoji (with tones, flags, families, spaces) and nothing else", () => {
  for (const t of ["👍", "😂😂😂", "👍🏽 ❤️", "🇨🇳", "👨‍👩‍👧‍👦"]) assert.ok(emojiOnly(t), t);
  for (const t of ["😂😂😂😂", "ok 👍", "1", "", "👍!"]) assert.ok(!emojiOnly(t), t);
});
