/**
 * The server under Deno Deploy's limits: no FFI (images through sharp's WebAssembly build), no
 * subprocess, no disk writes, the platform's KV (here in memory). A new user signs up, activates,
 * uploads an avatar, chats with the bot and sends it a picture, all over the wire.
 */
import assert from "node:assert/strict";
import { DEPLOY_FLAGS } from "../scripts/flags.ts";
import { signUpOver, spawnServer } from "./process_server.ts";
import { pngBytes } from "./http_checks.ts";
import { WsClient } from "./ws_client.ts";

Deno.test("with Deno Deploy's limits: sign-up, activation, avatar upload and chat work", async () => {
  const server = await spawnServer(
    { DENO_DEPLOYMENT_ID: "local-test", DENO_KV_PATH: ":memory:" },
    { flags: [...DEPLOY_FLAGS] },
  );
  try {
    const ts = server.asTestServer();
    const { client } = await signUpOver(ts, "deploy");
    // A picture goes through sharp with no native code allowed: its WebAssembly build.
    const up = await client.json<{ user: { avatarUrl: string | null } }>("/api/me/avatar", {
      method: "PUT",
      body: await pngBytes(640, 480),
    });
    assert.equal(up.status, 200, JSON.stringify(up.body));
    const url = up.body.user.avatarUrl!;
    const pic = await client.fetch(url);
    assert.equal(pic.headers.get("content-type"), "image/jpeg");
    const bytes = new Uint8Array(await pic.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff]);

    const ws = await WsClient.open(ts, client);
    ws.send({ type: "hello", v: 1 });
    const welcome = await ws.next("welcome");
    const bot = welcome.convs.find((c) => c.kind === "bot");
    assert.ok(bot, "the bot conversation is there from sign-up");
    await ws.next("resumed");
    ws.send({ type: "send", conv: bot.id, cid: "d1", text: "hello" });
    await ws.next("ack");
    const reply = await ws.next("msg", (f) => f.msg.from === "bot");
    assert.ok(reply.msg.text.length > 0);

    // A picture in a chat: WebP and a thumbnail, through the same WebAssembly build.
    const photo = await client.fetch(`/api/convs/${bot.id}/media?kind=image`, {
      method: "POST",
      body: await pngBytes(2400, 1600),
    });
    const media = await photo.json() as { id: string; w: number; th: number };
    assert.equal(photo.status, 201, JSON.stringify(media));
    assert.equal(media.w, 2048);
    ws.send({ type: "send", conv: bot.id, cid: "d2", text: "", media: media.id });
    await ws.next("ack", (f) => f.cid === "d2");
    const full = await client.fetch(`/media/${bot.id}/${media.id}/full`);
    assert.equal(full.headers.get("content-type"), "image/webp");
    const webp = new Uint8Array(await full.arrayBuffer());
    assert.equal(new TextDecoder().decode(webp.subarray(8, 12)), "WEBP");
    await ws.close();
    assert.doesNotMatch(server.logs(), /"level":"error"/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
