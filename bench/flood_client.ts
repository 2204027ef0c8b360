/**
 * One attacker process for the connection flood (bench/flood.ts): opens `count` sockets to the
 * port from 127.x.y.z addresses (`perAddress` each, starting at address number `first`), half of
 * them silent and half trickling a request head one header line every 10 s, and holds them until
 * stdin closes. Prints "open <n>" as it goes. A process holds at most its descriptor limit.
 */
import net from "node:net";

const [port, count, perAddress, first] = Deno.args.map(Number);
let open = 0;
const sockets: net.Socket[] = [];
for (let i = 0; i < count; i++) {
  const a = first + Math.floor(i / perAddress);
  const localAddress = `127.${1 + Math.floor(a / 62_500)}.${Math.floor(a / 250) % 250}.${
    2 + (a % 250)
  }`;
  const s = net.connect({ host: "127.0.0.1", port, localAddress });
  s.on("error", () => {}); // refused or shed by the server: what is being measured
  s.on("connect", () => {
    open++;
    if (i % 2) s.write("GET / HTTP/1.1\r\nHost: flood\r\n");
  });
  s.on("close", () => open--);
  s.resume();
  sockets.push(s);
  if (i % 500 === 499) await new Promise((r) => setTimeout(r, 50));
}
const trickle = setInterval(() => {
  for (const [i, s] of sockets.entries()) if (i % 2 && s.writable) s.write("X-Slow: 1\r\n");
}, 10_000);
const report = setInterval(() => {
  Deno.stdout.writeSync(new TextEncoder().encode(`open ${open}\n`));
}, 1000);
// Held until the bench closes stdin.
for await (const _ of Deno.stdin.readable) { /* wait */ }
clearInterval(trickle);
clearInterval(report);
for (const s of sockets) s.destroy();
Deno.exit(0);
