/** The guard with real sockets: a small Deno.serve behind it, clients from several loopback addresses. */
import assert from "node:assert/strict";
import net from "node:net";
import { addressBucket, ConnGuard, type GuardLimits } from "./guard.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Rig {
  guard: ConnGuard;
  port: number;
  /** Requests whose head reached Deno.serve. */
  seen(): number;
  close(): Promise<void>;
}

function rig(limits: Partial<GuardLimits>): Rig {
  const ac = new AbortController();
  let seen = 0;
  const guard = new ConnGuard({
    headerTimeoutMs: 400,
    idleTimeoutMs: 600,
    upgradedIdleMs: 60_000,
    ...limits,
  });
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen() {} },
    (req, info) => {
      seen++;
      if (req.headers.get("upgrade") === "websocket") {
        const { socket, response } = Deno.upgradeWebSocket(req);
        socket.onmessage = (e) => socket.send(`echo ${e.data}`);
        return response;
      }
      return new Response(`client ${guard.clientOf(info.remoteAddr.port)}`);
    },
  );
  guard.setUpstream({ hostname: "127.0.0.1", port: server.addr.port });
  const addr = guard.listen({ hostname: "127.0.0.1", port: 0 });
  return {
    guard,
    port: addr.port,
    seen: () => seen,
    async close() {
      await guard.stopAccepting();
      guard.closeAll();
      ac.abort();
      await server.finished;
    },
  };
}

/** A raw socket from a given loopback address (node:net can choose the source address). */
function connectFrom(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port, localAddress });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** Resolves when the server ends the socket (or the timeout passes: false). */
function ended(s: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed || s.readableEnded) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    const done = () => {
      clearTimeout(t);
      resolve(true);
    };
    s.once("end", done);
    s.once("close", done);
    s.once("error", done);
    s.resume();
  });
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("guard: a connection that sends nothing, or trickles its head, is closed at the header deadline", async () => {
  const r = rig({});
  try {
    const silent = await connectFrom(r.port, "127.0.0.2");
    const trickler = await connectFrom(r.port, "127.0.0.2");
    trickler.write("GET / HTTP/1.1\r\n");
    const iv = setInterval(() => trickler.writable && trickler.write("X-A: b\r\n"), 100);
    const [a, b] = await Promise.all([ended(silent, 3000), ended(trickler, 3000)]);
    clearInterval(iv);
    assert.ok(a && b, "both closed");
    assert.equal(r.guard.stats().closed.header_timeout, 2);
    assert.equal(r.guard.stats().open, 0);
    silent.destroy();
    trickler.destroy();
  } finally {
    await r.close();
  }
});

Deno.test("guard: requests pass with the real client address; an idle keep-alive is closed", async () => {
  const r = rig({});
  try {
    const s = await connectFrom(r.port, "127.0.0.3");
    let got = "";
    s.on("data", (d) => got += d.toString());
    s.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await waitFor(() => got.includes("client 127.0.0.3"));
    // Two pipelined requests, one with a body: both answered.
    s.write(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    await waitFor(() => got.split("HTTP/1.1 200").length === 4);
    assert.ok(await ended(s, 3000), "idle keep-alive closed");
    assert.equal(r.guard.stats().closed.idle_timeout, 1);
    s.destroy();
  } finally {
    await r.close();
  }
});

Deno.test("guard: an oversized head gets 431 and the connection ends", async () => {
  const r = rig({ maxHeadBytes: 1024 });
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port: r.port });
    await c.write(enc.encode(`GET / HTTP/1.1\r\nX-Big: ${"a".repeat(2000)}\r\n\r\n`));
    const buf = new Uint8Array(200);
    const n = await c.read(buf);
    assert.match(dec.decode(buf.subarray(0, n ?? 0)), /^HTTP\/1\.1 431/);
    c.close();
  } finally {
    await r.close();
  }
});

Deno.test("guard: one address cannot hold more than its share; its own idle sockets go first", async () => {
  const r = rig({ maxPerAddress: 5, headerTimeoutMs: 60_000 });
  try {
    // Five connections each in the middle of a body: not evictable.
    const busy = await Promise.all(
      Array.from({ length: 5 }, () => connectFrom(r.port, "127.0.0.4")),
    );
    for (const s of busy) s.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab");
    await waitFor(() => r.seen() === 5);
    const sixth = await connectFrom(r.port, "127.0.0.4");
    assert.ok(await ended(sixth, 2000), "refused");
    assert.equal(r.guard.stats().refused.per_address, 1);
    // Another address is not affected, nor is 127.0.0.1 (this machine: a local proxy).
    const other = await connectFrom(r.port, "127.0.0.5");
    const local = await Promise.all(
      Array.from({ length: 6 }, () => connectFrom(r.port, "127.0.0.1")),
    );
    await waitFor(() => r.guard.stats().open === 12);
    // An address at its cap with sockets that never sent a request: the oldest makes room.
    const idle = await Promise.all(
      Array.from({ length: 5 }, () => connectFrom(r.port, "127.0.0.6")),
    );
    await waitFor(() => r.guard.stats().open === 17);
    const newer = await connectFrom(r.port, "127.0.0.6");
    assert.ok(await ended(idle[0], 2000), "the oldest idle one was evicted");
    assert.equal(r.guard.stats().closed.evicted, 1);
    for (const s of [...busy, sixth, other, ...local, ...idle, newer]) s.destroy();
  } finally {
    await r.close();
  }
});

Deno.test("guard: at the total cap new connections are refused unless an idle one can go", async () => {
  const r = rig({ maxTotal: 4, headerTimeoutMs: 60_000, idleTimeoutMs: 60_000 });
  try {
    const held = await Promise.all(
      ["127.0.0.7", "127.0.0.8", "127.0.0.9"].map((a) => connectFrom(r.port, a)),
    );
    for (const s of held) s.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab");
    const lurker = await connectFrom(r.port, "127.0.0.10");
    await waitFor(() => r.guard.stats().open === 4 && r.seen() === 3);
    // The lurker (no request) makes room for a real client...
    const client = await connectFrom(r.port, "127.0.0.11");
    let got = "";
    client.on("data", (d) => got += d.toString());
    client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await waitFor(() => got.includes("client 127.0.0.11"));
    assert.ok(await ended(lurker, 2000));
    // ...and with nothing left to evict, the next one is refused.
    await new Promise((res) => setTimeout(res, 1100)); // the client's answer is over a second old
    client.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab");
    await waitFor(() => r.seen() === 5);
    const late = await connectFrom(r.port, "127.0.0.12");
    assert.ok(await ended(late, 2000));
    assert.equal(r.guard.stats().refused.total, 1);
    for (const s of [...held, lurker, client, late]) s.destroy();
  } finally {
    await r.close();
  }
});

Deno.test("guard: at the total cap the busiest address sheds its own; a lone client's socket stays", async () => {
  const r = rig({ maxTotal: 12, headerTimeoutMs: 60_000 });
  try {
    // A real client whose head has not been read yet (under a flood the loop can be late to it),
    // then lurkers from seven addresses with one socket each, then a flood from one address.
    const client = await connectFrom(r.port, "127.0.0.20");
    const singles = [];
    for (let i = 21; i <= 27; i++) singles.push(await connectFrom(r.port, `127.0.0.${i}`));
    const flood = [];
    for (let i = 0; i < 12; i++) flood.push(await connectFrom(r.port, "127.0.0.30"));
    await waitFor(() => r.guard.stats().accepted === 20 && r.guard.stats().open === 12);
    assert.equal(r.guard.stats().closed.evicted, 8);
    // The eight evicted are the flood's oldest: the client and the singles are all still open.
    const closed = await Promise.all(flood.map((s) => ended(s, 300)));
    assert.deepEqual(closed, [...Array(8).fill(true), ...Array(4).fill(false)]);
    let got = "";
    client.on("data", (d) => got += d.toString());
    client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await waitFor(() => got.includes("client 127.0.0.20"));
    for (const s of [client, ...singles, ...flood]) s.destroy();
  } finally {
    await r.close();
  }
});

Deno.test("guard: a WebSocket passes through and outlives the header and idle deadlines", async () => {
  const r = rig({ headerTimeoutMs: 200, idleTimeoutMs: 300 });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${r.port}/ws`);
    const got: string[] = [];
    ws.onmessage = (e) => got.push(e.data);
    await new Promise((res, rej) => {
      ws.onopen = res;
      ws.onerror = rej;
    });
    ws.send("one");
    await new Promise((res) => setTimeout(res, 700));
    ws.send("two");
    await waitFor(() => got.length === 2);
    assert.deepEqual(got, ["echo one", "echo two"]);
    const closed = new Promise<number>((res) => ws.onclose = (e) => res(e.code));
    ws.close(4321, "bye");
    assert.equal(await closed, 4321, "the close code passes through");
  } finally {
    await r.close();
  }
});

Deno.test("addressBucket: IPv4 as is, IPv4-mapped as IPv4, IPv6 by /64", () => {
  assert.equal(addressBucket("203.0.113.9"), "203.0.113.9");
  assert.equal(addressBucket("::ffff:203.0.113.9"), "203.0.113.9");
  assert.equal(addressBucket("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  assert.equal(addressBucket("2001:db8:1:2::9"), "2001:db8:1:2::/64");
  assert.equal(addressBucket("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(addressBucket("2001:0db8:0001:0002:ffff::1"), "2001:db8:1:2::/64");
});

Deno.test("guard: a WebSocket message over the cap ends the connection before Deno buffers it", async () => {
  const r = rig({ maxWsMessageBytes: 64 * 1024 });
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port: r.port });
    await c.write(enc.encode(
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ));
    const buf = new Uint8Array(4096);
    const n = await c.read(buf);
    assert.match(dec.decode(buf.subarray(0, n ?? 0)), /^HTTP\/1\.1 101/);
    // A 60 MB binary frame, masked, as a client would send it; only its start is sent.
    const head = new Uint8Array([0x82, 0x80 | 127, 0, 0, 0, 0, 0x03, 0x93, 0x87, 0x00, 1, 2, 3, 4]);
    await c.write(head);
    await c.write(new Uint8Array(100_000)).catch(() => 0);
    const ended = await c.read(buf).then((x) => x === null).catch(() => true);
    assert.ok(ended, "the connection ends");
    await waitFor(() => r.guard.stats().closed.ws_too_large === 1);
    c.close();
  } finally {
    await r.close();
  }
});

Deno.test("guard: a long request head that arrives over several reads passes whole", async () => {
  const r = rig({});
  try {
    const res = await fetch(`http://127.0.0.1:${r.port}/`, {
      headers: { "X-Long": "a".repeat(9000), Cookie: "c=" + "b".repeat(3000) },
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^client 127\.0\.0\.1$/);
  } finally {
    await r.close();
  }
});
