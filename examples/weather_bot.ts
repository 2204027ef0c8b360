// deno-lint-ignore-file no-console
/**
 * A HappyChat bot in a few dozen lines (docs/bots.md): it answers "weather in <city>" from a
 * table, in DMs and when @mentioned in a group. It speaks the chat's own WebSocket protocol with
 * its token, and reconnects (resuming where it was) when the connection drops.
 *
 *   BOT_TOKEN=hcb_… deno run --allow-net --allow-env examples/weather_bot.ts
 */
const SERVER = Deno.env.get("HAPPYCHAT_URL") ?? "http://localhost:8000";
const TOKEN = Deno.env.get("BOT_TOKEN") ?? "";
if (!TOKEN) throw new Error("Set BOT_TOKEN to the token from Settings → My bots");

const WEATHER: Record<string, string> = {
  beijing: "☀️ Sunny, 3°C",
  shanghai: "🌧 Rain, 9°C",
  paris: "⛅ Cloudy, 7°C",
  london: "🌫 Fog, 6°C",
  "new york": "❄️ Snow, -2°C",
  北京: "☀️ 晴，3°C",
  上海: "🌧 雨，9°C",
};

function answer(text: string): string {
  const city = Object.keys(WEATHER).find((c) => text.toLowerCase().includes(c));
  return city
    ? `${city}: ${WEATHER[city]}`
    : `Ask me "weather in Paris" (I know: ${Object.keys(WEATHER).join(", ")})`;
}

/** The last seq seen per conversation: a reconnect resumes after it, so nothing is missed. */
const seen: Record<string, number> = {};
/** "dm" or "group", per conversation. */
const kinds: Record<string, string> = {};

function connect(delay = 1000): void {
  const url = SERVER.replace(/^http/, "ws") + "/ws";
  // @ts-ignore: Deno's WebSocket takes headers (a browser's does not: bots run on servers).
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  let me = "";
  ws.onopen = () => ws.send(JSON.stringify({ type: "hello", v: 1, resume: seen }));
  ws.onmessage = (e) => {
    const f = JSON.parse(e.data);
    if (f.type === "welcome") {
      me = f.me.id;
      console.log(`Connected as ${f.me.nickname} (@${f.me.username})`);
      for (const c of f.convs) (seen[c.id] ??= c.lastSeq, kinds[c.id] = c.kind);
    }
    if (f.type === "conv") kinds[f.conv.id] = f.conv.kind; // a new friend, a group it was added to
    if (f.type !== "msg" || f.msg.from === me || f.msg.kind !== "text") return;
    const m = f.msg;
    seen[m.conv] = Math.max(seen[m.conv] ?? 0, m.seq);
    // In a group, answer only when called; in a DM, always.
    if (kinds[m.conv] === "group" && !m.mentions?.includes(me)) return;
    const cid = `re-${m.seq}`; // the same answer twice is stored once
    ws.send(
      JSON.stringify({ type: "send", conv: m.conv, cid, text: answer(m.text), reply: m.seq }),
    );
  };
  ws.onclose = (e) => {
    if (e.code === 4500) return console.log("The token was revoked: make a new one");
    console.log(`Disconnected (${e.code}); reconnecting in ${delay / 1000} s`);
    setTimeout(() => connect(Math.min(delay * 2, 30_000)), delay);
  };
}

connect();
