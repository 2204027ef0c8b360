/**
 * The reference server: plain Deno WebSocket broadcast, no auth, no storage. It speaks just enough
 * of the protocol for the same load generator: "hello" → "resumed", "send" → "ack" to the sender
 * and one "msg" frame (serialized once) to every open socket.
 * Usage: deno run --allow-net=127.0.0.1 bench/reference_server.ts <port>
 */
import { say } from "../lib/log.ts";

const port = Number(Deno.args[0] ?? 0);
const sockets = new Set<WebSocket>();
let seq = 0;

Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: ({ port }) => say(`reference listening on ${port}`),
}, (req) => {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("ok");
  const { socket, response } = Deno.upgradeWebSocket(req);
  socket.onopen = () => sockets.add(socket);
  socket.onclose = () => sockets.delete(socket);
  socket.onmessage = (e) => {
    const f = JSON.parse(e.data as string);
    if (f.type === "hello") return socket.send(JSON.stringify({ type: "resumed" }));
    if (f.type !== "send") return;
    const at = Date.now();
    const msg = {
      conv: f.conv,
      seq: ++seq,
      id: String(seq),
      from: "anon",
      kind: "text",
      text: f.text,
      at,
      cid: f.cid,
    };
    socket.send(
      JSON.stringify({
        type: "ack",
        rid: f.rid,
        cid: f.cid,
        conv: f.conv,
        seq: msg.seq,
        at,
        id: msg.id,
      }),
    );
    const json = JSON.stringify({ type: "msg", msg });
    for (const s of sockets) if (s.readyState === WebSocket.OPEN) s.send(json);
  };
  return response;
});
