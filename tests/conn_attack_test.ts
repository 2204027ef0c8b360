/**
 * Connection floods against the real server process, the way `deno task start` runs it, with a
 * low descriptor limit so that exhaustion is reached with a few thousand sockets: idle and
 * trickling connections from many addresses must not stop it, and it must answer throughout.
 * (`deno task bench --only=flood` runs the same at 25,000 connections and measures.)
 */
import assert from "node:assert/strict";
import net from "node:net";
import { type ServerProcess, spawnServer } from "./process_server.ts";

/** Opens `n` sockets spread over 127.0.0.2… (`perAddress` each); half idle, half trickling a head. */
async function flood(port: number, n: number, perAddress: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  const opening: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const localAddress = `127.0.${2 + Math.floor(i / perAddress / 250)}.${
      2 + (Math.floor(i / perAddress) % 250)
    }`;
    const s = net.connect({ host: "127.0.0.1", port, localAddress });
    s.on("error", () => {}); // refused or evicted: expected
    s.resume();
    sockets.push(s);
    opening.push(
      new Promise((resolve) => {
        s.once("connect", () => {
          if (i % 2) s.write("GET / HTTP/1.1\r\nHost: x\r\n");
          resolve();
        });
        s.once("close", () => resolve());
      }),
    );
    if (i % 200 === 199) await Promise.all(opening.splice(0));
  }
  await Promise.all(opening);
  const timer = setInterval(() => {
    for (const [i, s] of sockets.entries()) if (i % 2 && s.writable) s.write("X-Slow: 1\r\n");
  }, 2000);
  sockets.forEach((s) => s.once("close", () => {}));
  (sockets as net.Socket[] & { stop?: () => void }).stop = () => clearInterval(timer);
  return sockets;
}

function stopFlood(sockets: net.Socket[]): void {
  (sockets as net.Socket[] & { stop?: () => void }).stop?.();
  for (const s of sockets) s.destroy();
}

/** A real request from a fresh address (not 127.0.0.1, which is exempt from the per-address cap). */
function getFrom(port: number, localAddress: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port, localAddress });
    let got = "";
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer to ${path} from ${localAddress}`));
    }, 10_000);
    s.on("connect", () => s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    s.on("data", (d) => got += d.toString());
    s.on("close", () => {
      clearTimeout(t);
      resolve(got);
    });
    s.on("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

async function healthy(proc: ServerProcess, from: string): Promise<void> {
  const res = await getFrom(proc.port, from, "/healthz");
  if (!res.startsWith("HTTP/1.1 200")) {
    const m = await (await fetch(proc.url("/metrics"))).text();
    throw new Error(
      `healthz from ${from}: ${JSON.stringify(res.slice(0, 200))}\n${
        m.split("\n").filter((l) => l.includes("guard") && !l.startsWith("#")).join("\n")
      }\n${proc.logs().slice(-3000)}`,
    );
  }
  assert.ok(proc.alive(), "the server process is still running");
}

async function metric(proc: ServerProcess, name: string): Promise<number> {
  const text = await (await fetch(proc.url("/metrics"))).text();
  return text.split("\n").filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
}

Deno.test("a flood of idle and trickling connections past the guard's total cap does not stop the server", async () => {
  // 1024 descriptors: the guard holds at most (1024 - 256) / 3 = 256 connections.
  const proc = await spawnServer({ DENO_KV_PATH: ":memory:" }, { fdLimit: 1024 });
  let sockets: net.Socket[] = [];
  try {
    sockets = await flood(proc.port, 2000, 40);
    await healthy(proc, "127.0.1.250");
    await healthy(proc, "127.0.1.251");
    assert.ok(await metric(proc, "happychat_guard_closed_total") > 0, "connections were shed");
    stopFlood(sockets);
    await healthy(proc, "127.0.1.252");
  } finally {
    stopFlood(sockets);
    await proc.stop();
  }
});

Deno.test("running out of descriptors does not stop the server: it sheds idle connections and goes on", async () => {
  // The guard's own cap set above what the descriptors allow, so accept() itself hits EMFILE.
  const proc = await spawnServer({ DENO_KV_PATH: ":memory:", CONN_MAX: "5000" }, {
    fdLimit: 512,
  });
  let sockets: net.Socket[] = [];
  try {
    sockets = await flood(proc.port, 1500, 40);
    await healthy(proc, "127.0.1.250");
    assert.ok(await metric(proc, "happychat_guard_accept_errors_total") > 0, "EMFILE was reached");
    stopFlood(sockets);
    await healthy(proc, "127.0.1.251");
    assert.match(proc.logs(), /guard\.accept_failed/);
  } finally {
    stopFlood(sockets);
    await proc.stop();
  }
});

Deno.test("the server uses the hard descriptor limit, not a low soft one (Deno raises it at start)", async () => {
  const proc = await spawnServer({ DENO_KV_PATH: ":memory:" }, { softFdLimit: 1024 });
  try {
    const hard = Number(
      new TextDecoder().decode(
        (await new Deno.Command("sh", { args: ["-c", "ulimit -Hn"], stdout: "piped" }).output())
          .stdout,
      ).trim(),
    );
    const max = await metric(proc, "happychat_guard_connections_max");
    // Measured from what could be opened: at most 10,000; above what 1024 descriptors allow.
    assert.ok(max > (1024 - 256) / 3, `guard cap ${max} reflects more than the soft 1024`);
    assert.ok(max <= Math.max(16, (hard - 256) / 3), `and no more than the hard ${hard} allows`);
  } finally {
    await proc.stop();
  }
});
