/** The built-in bot over real sockets: it calculates and converts, and a reminder survives a restart. */
import assert from "node:assert/strict";
import { signUp, startTestServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";

Deno.test("the bot answers sums and conversions, and its reminder arrives after the server restarted", async () => {
  const dir = await Deno.makeTempDir();
  const env = { DENO_KV_PATH: `${dir}/kv.sqlite3` };
  let server = await startTestServer({ env });
  try {
    const a = await signUp(server);
    const ws = await WsClient.open(server, a.client);
    ws.send({ type: "hello", v: 1, tz: "Asia/Shanghai" });
    const bot = (await ws.next("welcome")).convs.find((c) => c.kind === "bot")!;
    await ws.next("resumed");
    const ask = async (cid: string, text: string) => {
      ws.send({ type: "send", conv: bot.id, cid, text });
      const ack = await ws.next("ack", (f) => f.cid === cid);
      return (await ws.next("msg", (f) => f.msg.from === "bot" && f.msg.cid === `re-${ack.seq}`))
        .msg.text;
    };
    assert.equal(await ask("q1", "12*(3+4)"), "12*(3+4) = 84");
    assert.equal(await ask("q2", "5斤等于多少公斤"), "5 斤 = 2.5 公斤");
    assert.match(await ask("q3", "remind me in 2 seconds to stretch"), /^OK, I'll remind you at/);
    await ws.close();
    await server.close();
    // The server is down when the reminder comes due; it is delivered after the restart.
    await new Promise((r) => setTimeout(r, 2500));
    server = await startTestServer({ env });
    const back = await WsClient.connect(server, a.client, { [bot.id]: 0 });
    const reminded = await back.next(
      "msg",
      (f) => f.msg.from === "bot" && f.msg.text === "⏰ Reminder: stretch",
      8000,
    );
    assert.ok(reminded);
    await back.close();
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
