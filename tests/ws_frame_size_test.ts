/**
 * The frame cap and the text limit agree: the longest text in any script, however the client
 * escapes its JSON, fits in a send frame; only frames over MAX_FRAME_BYTES UTF-8 bytes close 4504.
 */
import assert from "node:assert/strict";
import { friendsGroup, signUp, withServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";
import { CLOSE, MAX_FRAME_BYTES, MAX_TEXT_CHARS } from "../lib/wire/protocol.ts";

const bytes = (s: string) => new TextEncoder().encode(s).length;

/** JSON for a string with every non-ASCII UTF-16 unit written as \uXXXX (what many encoders do). */
function asciiJson(s: string): string {
  return JSON.stringify(s).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** A send frame with rid and cid at their longest, the text encoded as `escape` says. */
function sendFrame(conv: string, cid: string, text: string, escape: boolean): string {
  const rid = "r".repeat(64);
  const longCid = (cid + "-".repeat(64)).slice(0, 64);
  const t = escape ? asciiJson(text) : JSON.stringify(text);
  return `{"type":"send","rid":"${rid}","conv":"${conv}","cid":"${longCid}","text":${t}}`;
}

const SCRIPTS: [string, string][] = [
  ["Chinese", "长"],
  ["emoji (4 bytes, two UTF-16 units)", "😀"],
  ["Arabic", "م"],
  ['ASCII quotes (escaped as \\")', '"'],
];

Deno.test("the longest text in any script and any JSON escaping is accepted; one more character is refused, not closed", async () => {
  await withServer(async (server) => {
    const [a, b] = [await signUp(server), await signUp(server)];
    const conv = (await friendsGroup(server, a.userId, "Sizes", [b.userId])).id;
    const w = await WsClient.connect(server, a.client);
    let i = 0;
    for (const [name, ch] of SCRIPTS) {
      for (const escape of [false, true]) {
        const text = ch.repeat(MAX_TEXT_CHARS);
        const cid = `c${i++}`;
        const frame = sendFrame(conv, cid, text, escape);
        assert.ok(bytes(frame) <= MAX_FRAME_BYTES, `${name}: ${bytes(frame)} bytes`);
        w.raw(frame);
        const ack = await w.next("ack", (f) => f.cid.startsWith(cid + "-"));
        const stored = (await server.kv.get<{ text: string }>(["msg", conv, ack.seq])).value;
        assert.equal(stored?.text, text, `${name}${escape ? " escaped" : ""} stored whole`);

        const over = sendFrame(conv, `o${i++}`, ch.repeat(MAX_TEXT_CHARS + 1), escape);
        w.raw(over);
        const err = await w.next("error");
        assert.equal(err.code, "bad_frame");
        assert.match(err.message, new RegExp(`longer than ${MAX_TEXT_CHARS} characters`));
      }
    }
    // The frame from the report: 6,036 Chinese characters, 18 KB of UTF-8.
    w.raw(JSON.stringify({ type: "send", conv, cid: "report", text: "汉".repeat(6036) }));
    assert.equal((await w.next("error")).code, "bad_frame");
    assert.equal(w.closed, null, "the socket stays open");
    await w.close();
  });
});

Deno.test("a frame of exactly MAX_FRAME_BYTES UTF-8 bytes is read; one byte more closes 4504, in ASCII and in Chinese", async () => {
  await withServer(async (server) => {
    const { client } = await signUp(server);
    for (const ch of ["x", "汉"]) {
      const w = await WsClient.connect(server, client);
      const bare = bytes(JSON.stringify({ type: "ping", rid: "p", pad: "" }));
      const fit = (MAX_FRAME_BYTES - bare) / bytes(ch);
      const exact = JSON.stringify({ type: "ping", rid: "p", pad: ch.repeat(Math.floor(fit)) });
      const padded = exact.slice(0, -2) + "x".repeat(MAX_FRAME_BYTES - bytes(exact)) + '"}';
      assert.equal(bytes(padded), MAX_FRAME_BYTES);
      w.raw(padded);
      assert.equal((await w.next("pong")).rid, "p");
      w.raw(padded.slice(0, -2) + 'x"}');
      const closed = await w.waitClose();
      assert.deepEqual(closed, { code: CLOSE.frameTooLarge, reason: "Frame too large" });
    }
  });
});
