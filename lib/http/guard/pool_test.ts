/** The guard in threads: a real Deno.serve behind a GuardPool, clients from several loopback addresses. */
import assert from "node:assert/strict";
import net from "node:net";
import { ClientTable } from "./clients.ts";
import { GuardPool } from "./pool.ts";

Deno.test("ClientTable: a slot is filled, read from another view, emptied only by its owner", () => {
  const a = new ClientTable();
  const b = new ClientTable(a.buffer); // what another thread sees
  assert.equal(b.get(40000), null);
  a.set(40000, "2001:db8::1", 2);
  assert.deepEqual(b.get(40000), { addr: "2001:db8::1", owner: 2 });
  b.clear(40000, 1); // not its owner: a later link on the same port stays
  assert.equal(a.get(40000)?.addr, "2001:db8::1");
  b.clear(40000, 2);
  assert.equal(a.get(40000), null);
  // A long address is cut to the slot, never spills into the next port's.
  a.set(40001, "x".repeat(200), 0);
  assert.equal(a.get(40001)?.addr.length, 64);
  assert.equal(a.get(40002), null);
  for (const bad of [-1, 65536, 1.5, NaN]) assert.equal(a.get(bad), null);
});

function request(port: number, localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port, localAddress });
    let got = "";
    s.on("connect", () => s.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    s.on("data", (d) => got += d.toString());
    s.on("end", () => resolve(got));
    s.on("error", reject);
  });
}

Deno.test("GuardPool: several threads on one port; each request gets its own client's address", async () => {
  const ac = new AbortController();
  const pool = new GuardPool({ maxTotal: 400, maxPerAddress: 40 }, 3);
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen() {} },
    (_req, info) => new Response(`client ${pool.clientOf(info.remoteAddr.port)}`),
  );
  pool.setUpstream({ hostname: "127.0.0.1", port: server.addr.port });
  try {
    const { port } = await pool.listen({ hostname: "127.0.0.1", port: 0 });
    // Many at once from 30 addresses: links on many ports, spread over the threads.
    const addrs = Array.from({ length: 90 }, (_, i) => `127.0.1.${10 + (i % 30)}`);
    const answers = await Promise.all(addrs.map((a) => request(port, a)));
    answers.forEach((text, i) => assert.ok(text.endsWith(`client ${addrs[i]}`), text));
    const stats = await pool.stats();
    assert.equal(stats.accepted, 90);
    assert.equal(stats.maxTotal, 3 * 134); // each thread holds its share, rounded up
    assert.equal(pool.limits.maxTotal, 400);
  } finally {
    await pool.stopAccepting();
    await pool.closeAll();
    ac.abort();
    await server.finished;
  }
});

Deno.test("GuardPool: a port in use is refused with Deno's own error", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const pool = new GuardPool({}, 2);
  try {
    await assert.rejects(
      pool.listen({ hostname: "127.0.0.1", port: (taken.addr as Deno.NetAddr).port }),
      Deno.errors.AddrInUse,
    );
  } finally {
    taken.close();
    await pool.closeAll();
  }
});
