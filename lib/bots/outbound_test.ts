import assert from "node:assert/strict";
import {
  guardedFetch,
  isPublicAddress,
  type OutboundPolicy,
  OutboundRefused,
  parseAllow,
  readCapped,
  resolveChecked,
} from "./outbound.ts";

// A certificate for "pinned.test" only (self-signed, EC P-256, valid to 2126).
const CERT = `-----BEGIN CERTIFICATE-----
MIIBmDCCAT6gAwIBAgIUC69DCmhIn93hbRCGzPsynUSoF8gwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLcGlubmVkLnRlc3QwIBcNMjYxMjAyMjM0NTQwWhgPMjEyNjEx
MDgyMzQ1NDBaMBYxFDASBgNVBAMMC3Bpbm5lZC50ZXN0MFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAE8nkRTWRqwtmYVybcz/Q/KuO/79Gak1R6vI2uKdLDZamzErl7
sSl8fFDUdDlS+69iArCdVtQkQO+EFy+9xk8knqNoMGYwHQYDVR0OBBYEFFK0Kc3a
3buOP6HZX0cWWNMU+aceMB8GA1UdIwQYMBaAFFK0Kc3a3buOP6HZX0cWWNMU+ace
MBYGA1UdEQQPMA2CC3Bpbm5lZC50ZXN0MAwGA1UdEwEB/wQCMAAwCgYIKoZIzj0E
AwIDSAAwRQIgbbHoIQpX8RNqjqXJ2kLGf1SlxiPOhgqZtVshj+uMA04CIQCNUMUc
Nmunz51hsFJ+NmQRGSrNLDT0ySO8xbqj+xt5Gw==
-----END CERTIFICATE-----
`;
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgeVEtERhFJzS0+SYa
xs3Wfhg6+a/IpEEj6A0Vps8HxKyhRANCAATyeRFNZGrC2ZhXJtzP9D8q47/v0ZqT
VHq8ja4p0sNlqbMSuXuxKXx8UNR0OVL7r2ICsJ1W1CRA74QXL73GTySe
-----END PRIVATE KEY-----
`;

type DnsTable = Record<string, { A?: string[]; AAAA?: string[] }>;

function v6Bytes(ip: string): number[] {
  const [head, tail] = ip.split("::").map((h) => (h ? h.split(":") : []));
  const groups = tail
    ? [...head, ...Array(8 - head.length - tail.length).fill("0"), ...tail]
    : head;
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255]);
}

/** A DNS answer from `table`: NXDOMAIN for an unknown name, no records for a missing type. */
function dnsAnswer(query: Uint8Array, table: DnsTable): Uint8Array {
  const labels: string[] = [];
  let i = 12;
  while (query[i] !== 0) {
    labels.push(new TextDecoder().decode(query.subarray(i + 1, i + 1 + query[i])));
    i += query[i] + 1;
  }
  const qtype = (query[i + 1] << 8) | query[i + 2];
  const entry = table[labels.join(".").toLowerCase()];
  const addrs = qtype === 1 ? entry?.A ?? [] : qtype === 28 ? entry?.AAAA ?? [] : [];
  const rdata = addrs.map((a) => (qtype === 1 ? a.split(".").map(Number) : v6Bytes(a)));
  const header = [
    query[0],
    query[1],
    0x84 | (query[2] & 1), // response, authoritative, recursion desired as asked
    0x80 | (entry ? 0 : 3), // NXDOMAIN for a name not in the table
    0,
    1,
    0,
    rdata.length,
    0,
    0,
    0,
    0,
  ];
  const answers = rdata.flatMap((r) => [0xc0, 12, 0, qtype, 0, 1, 0, 0, 0, 0, 0, r.length, ...r]);
  return new Uint8Array([...header, ...query.subarray(12, i + 5), ...answers]);
}

/** Runs `fn` with a real DNS server on 127.0.0.1 that answers from `table` and counts queries. */
async function withDns(
  table: DnsTable,
  fn: (nameServer: { ipAddr: string; port: number }, queries: string[]) => Promise<void>,
): Promise<void> {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const queries: string[] = [];
  const loop = (async () => {
    try {
      for await (const [data, addr] of conn) {
        queries.push(`${data.length} bytes`);
        await conn.send(dnsAnswer(data, table), addr);
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.BadResource)) throw err;
    }
  })();
  try {
    await fn({ ipAddr: "127.0.0.1", port: (conn.addr as Deno.NetAddr).port }, queries);
  } finally {
    conn.close();
    await loop;
  }
}

interface Seen {
  method: string;
  path: string;
  host: string | null;
  body: string;
  headers: Headers;
}

/** A real HTTP(S) server on 127.0.0.1 that records what it receives. */
async function withServer(
  handler: (req: Request, seen: Seen[]) => Response | Promise<Response>,
  fn: (origin: string, seen: Seen[], port: number) => Promise<void>,
  tls?: { cert: string; key: string },
): Promise<void> {
  const seen: Seen[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {}, ...tls },
    async (req) => {
      const u = new URL(req.url);
      seen.push({
        method: req.method,
        path: u.pathname + u.search,
        host: req.headers.get("host"),
        body: await req.text(),
        headers: req.headers,
      });
      return handler(req, seen);
    },
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen, server.addr.port);
  } finally {
    await server.shutdown();
  }
}

const refusedFor = (reason: string, hop?: number) => (err: unknown) => {
  assert.ok(err instanceof OutboundRefused, `expected OutboundRefused, got ${err}`);
  assert.equal(err.reason, reason);
  if (hop !== undefined) assert.equal(err.hop, hop);
  return true;
};

const NONE: OutboundPolicy = { allow: [] };
const LOCAL: OutboundPolicy = { allow: ["127.0.0.1"] };

Deno.test("isPublicAddress() refuses private, reserved and embedded-private addresses", () => {
  const refused = [
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.1",
    "10.255.255.255",
    "100.64.0.1",
    "100.127.255.255",
    "127.0.0.1",
    "127.255.0.1",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.255",
    "192.0.0.8",
    "192.168.1.1",
    "198.18.0.1",
    "198.19.255.255",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "[::1]",
    "0:0:0:0:0:0:0:1",
    "fc00::1",
    "fd12:3456::1",
    "FE80::1",
    "fe80::1%eth0",
    "febf::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::FFFF:7F00:1",
    "::ffff:a9fe:a9fe",
    "::127.0.0.1",
    "64:ff9b::127.0.0.1",
    "64:ff9b::a00:1",
    "2002:7f00:1::1",
    "2001:db8::1",
    "2001:DB8:ffff::1",
    "0x7f.1",
    "2130706433",
    "127.1",
    "017700000001",
    "not-an-ip",
    "",
    "1.2.3.4.5",
    "256.1.1.1",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "::ffff:999.0.0.1",
  ];
  const accepted = [
    "1.1.1.1",
    "8.8.8.8",
    "93.184.215.14",
    "9.255.255.255",
    "11.0.0.1",
    "100.63.255.255",
    "100.128.0.1",
    "126.255.255.255",
    "128.0.0.1",
    "169.253.255.255",
    "172.15.255.255",
    "172.32.0.1",
    "192.0.1.1",
    "192.167.255.255",
    "198.17.255.255",
    "198.20.0.1",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "[2606:4700:4700::1111]",
    "2a00:1450:4001:82b::200e",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "::ffff:808:808",
    "64:ff9b::8.8.8.8",
    "2002:808:808::1",
  ];
  for (const ip of refused) assert.equal(isPublicAddress(ip), false, ip);
  for (const ip of accepted) assert.equal(isPublicAddress(ip), true, ip);
});

Deno.test("parseAllow() reads names, addresses and ranges, and names a bad entry", () => {
  assert.deepEqual(parseAllow(undefined), []);
  assert.deepEqual(parseAllow(" "), []);
  assert.deepEqual(
    parseAllow("localhost, Ollama.Internal 10.0.0.0/8,fd00::/8\n127.0.0.1/32 [::1] 192.168.1.5"),
    [
      "localhost",
      "ollama.internal",
      "10.0.0.0/8",
      "fd00::/8",
      "127.0.0.1/32",
      "::1",
      "192.168.1.5",
    ],
  );
  for (
    const bad of [
      "10.0.0.0/33",
      "fd00::/129",
      "*.internal",
      "127.1",
      "http://x",
      "a/b",
      "1.2.3.4/x",
    ]
  ) {
    assert.throws(() => parseAllow(`localhost,${bad}`), (e: Error) => {
      assert.ok(e.message.includes(`"${bad}"`), e.message);
      return true;
    });
  }
});

Deno.test("resolveChecked() refuses private literals, other schemes and credentials", async () => {
  const cases: [string, string][] = [
    ["http://127.0.0.1/", "private_address"],
    ["http://10.1.2.3:8080/x", "private_address"],
    ["http://169.254.169.254/latest/meta-data/", "private_address"],
    ["http://[::1]/", "private_address"],
    ["http://[::ffff:127.0.0.1]/", "private_address"],
    ["http://[fe80::1]/", "private_address"],
    ["http://0x7f.1/", "private_address"],
    ["http://2130706433/", "private_address"],
    ["http://127.1/", "private_address"],
    ["https://0.0.0.0/", "private_address"],
    ["file:///etc/passwd", "scheme"],
    ["ftp://93.184.215.14/", "scheme"],
    ["data:text/plain,hi", "scheme"],
    ["http://user:pw@93.184.215.14/", "credentials_in_url"],
    ["http://user@93.184.215.14/", "credentials_in_url"],
  ];
  for (const [url, reason] of cases) {
    await assert.rejects(resolveChecked(new URL(url), NONE), refusedFor(reason), url);
  }
  assert.equal(await resolveChecked(new URL("http://93.184.215.14/"), NONE), "93.184.215.14");
  assert.equal(await resolveChecked(new URL("http://[2606:4700::1]/"), NONE), "2606:4700::1");
  assert.equal(await resolveChecked(new URL("http://127.0.0.1/"), LOCAL), "127.0.0.1");
  const range = { allow: ["127.0.0.0/8", "fd00::/8"] };
  assert.equal(await resolveChecked(new URL("http://127.1/"), range), "127.0.0.1");
  assert.equal(await resolveChecked(new URL("http://[fd00::5]/"), range), "fd00::5");
  assert.equal(await resolveChecked(new URL("http://[::ffff:127.0.0.1]/"), range), "::ffff:7f00:1");
  await assert.rejects(
    resolveChecked(new URL("http://[::1]/"), range),
    refusedFor("private_address"),
  );
  assert.equal(
    await resolveChecked(new URL("http://localhost/"), { allow: ["localhost"] }),
    "127.0.0.1",
  );
  await assert.rejects(
    resolveChecked(new URL("http://localhost/"), NONE),
    refusedFor("private_address"),
  );
});

Deno.test("resolveChecked() refuses a name if any of its addresses is private", () =>
  withDns({
    "loop.test": { A: ["127.0.0.1"] },
    "ten.test": { A: ["10.0.0.5"] },
    "six.test": { AAAA: ["::1"] },
    "mixed.test": { A: ["93.184.215.14", "10.0.0.5"] },
    "mixed6.test": { A: ["93.184.215.14"], AAAA: ["fd00::1"] },
    "public.test": { A: ["93.184.215.14"], AAAA: ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"] },
    "public6.test": { AAAA: ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"] },
    "empty.test": {},
  }, async (nameServer, queries) => {
    const policy = { allow: [], nameServer };
    for (const name of ["loop.test", "ten.test", "six.test", "mixed.test", "mixed6.test"]) {
      await assert.rejects(
        resolveChecked(new URL(`https://${name}/hook`), policy),
        refusedFor("private_address"),
        name,
      );
    }
    for (const name of ["nx.test", "empty.test"]) {
      await assert.rejects(
        resolveChecked(new URL(`http://${name}/`), policy),
        refusedFor("no_address"),
      );
    }
    assert.equal(await resolveChecked(new URL("http://public.test/"), policy), "93.184.215.14");
    assert.equal(
      await resolveChecked(new URL("http://PUBLIC6.test./"), policy),
      "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    );
    // Allowed by name, or by the range the address is in.
    const byName = { allow: ["ten.test"], nameServer };
    assert.equal(await resolveChecked(new URL("http://ten.test/"), byName), "10.0.0.5");
    await assert.rejects(
      resolveChecked(new URL("http://loop.test/"), byName),
      refusedFor("private_address"),
    );
    const byRange = { allow: ["10.0.0.0/8"], nameServer };
    assert.equal(await resolveChecked(new URL("http://mixed.test/"), byRange), "93.184.215.14");
    assert.ok(queries.length >= 20, `the DNS server was asked (${queries.length})`);
  }));

Deno.test("guardedFetch() reaches a loopback server only when the policy allows it", () =>
  withServer((req) => new Response(`hello ${req.method}`), async (origin, seen) => {
    await assert.rejects(guardedFetch(`${origin}/a`, {}, NONE), refusedFor("private_address", 0));
    await assert.rejects(
      guardedFetch(`${origin}/a`, {}, { allow: ["10.0.0.0/8", "localhost"] }),
      refusedFor("private_address"),
    );
    assert.equal(seen.length, 0);
    for (const policy of [LOCAL, { allow: ["127.0.0.0/8"] }]) {
      const res = await guardedFetch(`${origin}/a?b=1`, { headers: { cookie: "sid=1" } }, policy);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "hello GET");
      assert.equal(res.url, `${origin}/a?b=1`);
      assert.equal(res.redirected, false);
    }
    assert.deepEqual(seen.map((s) => s.path), ["/a?b=1", "/a?b=1"]);
    assert.equal(seen[0].headers.get("cookie"), null);
  }));

Deno.test("guardedFetch() connects to the checked address: a name only the test DNS knows", () =>
  withServer(
    (req) => new Response(new URL(req.url).host),
    (_origin, seen, port) =>
      withDns({ "pinned.test": { A: ["127.0.0.1"] } }, async (nameServer, queries) => {
        const res = await guardedFetch(
          `http://pinned.test:${port}/x`,
          {},
          { allow: ["127.0.0.1/32"], nameServer },
        );
        assert.equal(await res.text(), `pinned.test:${port}`);
        assert.equal(seen[0].host, `pinned.test:${port}`);
        assert.equal(queries.length, 2, "resolved once (A and AAAA), never again to connect");
        await assert.rejects(
          guardedFetch(`http://pinned.test:${port}/x`, {}, { allow: [], nameServer }),
          refusedFor("private_address"),
        );
        assert.equal(seen.length, 1);
      }),
  ));

Deno.test("guardedFetch() over https pins the address and still checks the certificate's name", () =>
  withServer(
    () => new Response("secure"),
    (_origin, seen, port) =>
      withDns({ "pinned.test": { A: ["127.0.0.1"] }, "other.test": { A: ["127.0.0.1"] } }, async (
        nameServer,
      ) => {
        const policy = { allow: ["127.0.0.1"], nameServer };
        const ok = await guardedFetch(`https://pinned.test:${port}/`, {}, policy, {
          caCerts: [CERT],
        });
        assert.equal(await ok.text(), "secure");
        // The same socket, but the certificate is not for other.test: refused by TLS.
        await assert.rejects(
          guardedFetch(`https://other.test:${port}/`, {}, policy, { caCerts: [CERT] }),
          (e: Error) => e instanceof TypeError && /altname|certificate/i.test(e.message),
        );
        // A self-signed certificate the client does not trust.
        await assert.rejects(
          guardedFetch(`https://pinned.test:${port}/`, {}, policy),
          (e: Error) => e instanceof TypeError && /certificate/i.test(e.message),
        );
        assert.equal(seen.length, 1);
      }),
    { cert: CERT, key: KEY },
  ));

Deno.test("guardedFetch() checks every redirect's target again", () =>
  withDns({ "metadata.test": { A: ["169.254.169.254"] } }, (nameServer) =>
    withServer((req) => {
      const to = new URL(req.url).searchParams.get("to")!;
      return new Response(null, { status: 302, headers: { location: to } });
    }, async (origin, seen) => {
      const policy = { allow: ["127.0.0.1"], nameServer };
      const hop = (to: string) =>
        guardedFetch(`${origin}/r?to=${encodeURIComponent(to)}`, {}, policy);
      await assert.rejects(hop("http://10.0.0.1/"), refusedFor("private_address", 1));
      await assert.rejects(hop("http://metadata.test/latest"), refusedFor("private_address", 1));
      await assert.rejects(hop("http://[::1]/"), refusedFor("private_address", 1));
      await assert.rejects(hop("file:///etc/passwd"), refusedFor("scheme", 1));
      await assert.rejects(hop("http://u:p@93.184.215.14/"), refusedFor("credentials_in_url", 1));
      await assert.rejects(hop("http://[zz/"), refusedFor("bad_url", 1));
      assert.equal(seen.length, 6);
    })));

Deno.test("guardedFetch() refuses more than maxRedirects redirects", () =>
  withServer((req) => {
    const n = Number(new URL(req.url).pathname.slice(1));
    return n < 10
      ? new Response(null, { status: 301, headers: { location: `/${n + 1}` } })
      : new Response(`end ${n}`);
  }, async (origin, seen) => {
    await assert.rejects(
      guardedFetch(`${origin}/0`, {}, LOCAL),
      refusedFor("too_many_redirects", 4),
    );
    assert.deepEqual(seen.map((s) => s.path), ["/0", "/1", "/2", "/3"]);
    const res = await guardedFetch(`${origin}/7`, {}, LOCAL);
    assert.equal(await res.text(), "end 10");
    assert.equal(res.url, `${origin}/10`);
    assert.equal(res.redirected, true);
    seen.length = 0;
    await assert.rejects(
      guardedFetch(`${origin}/0`, {}, LOCAL, { maxRedirects: 1 }),
      refusedFor("too_many_redirects", 2),
    );
    assert.equal(seen.length, 2);
  }));

Deno.test("guardedFetch(): 307 and 308 keep the method and body, 303 and 302 after POST get", () =>
  withServer((req) => {
    const u = new URL(req.url);
    const status = Number(u.searchParams.get("status"));
    return status
      ? new Response(null, { status, headers: { location: "/end" } })
      : new Response(`${req.method} done`);
  }, async (origin, seen) => {
    const post = {
      method: "POST",
      body: '{"a":1}',
      headers: { "content-type": "application/json" },
    };
    for (const status of [307, 308, 303, 302, 301]) {
      seen.length = 0;
      const res = await guardedFetch(`${origin}/start?status=${status}`, post, LOCAL);
      const keeps = status >= 307;
      assert.equal(await res.text(), keeps ? "POST done" : "GET done", String(status));
      const [first, second] = seen;
      assert.deepEqual([first.method, first.body], ["POST", '{"a":1}']);
      assert.deepEqual([second.method, second.body], keeps ? ["POST", '{"a":1}'] : ["GET", ""]);
      assert.equal(second.headers.get("content-type"), keeps ? "application/json" : null);
    }
    seen.length = 0;
    const put = await guardedFetch(`${origin}/s?status=302`, { method: "PUT", body: "x" }, LOCAL);
    assert.equal(await put.text(), "PUT done");
    assert.deepEqual(seen.map((s) => [s.method, s.body]), [["PUT", "x"], ["PUT", "x"]]);
  }));

Deno.test("guardedFetch() drops Authorization on a redirect to another origin", () =>
  withServer(() => new Response("b"), (originB, seenB) =>
    withServer(
      () => new Response(null, { status: 307, headers: { location: `${originB}/b` } }),
      async (originA, seenA) => {
        const res = await guardedFetch(
          `${originA}/a`,
          { headers: { authorization: "Bearer t" } },
          LOCAL,
        );
        assert.equal(await res.text(), "b");
        assert.equal(seenA[0].headers.get("authorization"), "Bearer t");
        assert.equal(seenB[0].headers.get("authorization"), null);
      },
    )));

Deno.test("guardedFetch() gives up at timeoutMs", async () => {
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  await withServer(async () => {
    await held;
    return new Response("late");
  }, async (origin) => {
    const t0 = performance.now();
    await assert.rejects(
      guardedFetch(`${origin}/slow`, { timeoutMs: 50 }, LOCAL),
      (e: Error) => e.name === "TimeoutError",
    );
    assert.ok(performance.now() - t0 < 2000);
    release();
  });
});

Deno.test("readCapped() reads at most maxBytes and cancels the rest", () =>
  withServer((req) => {
    const size = Number(new URL(req.url).searchParams.get("size"));
    return new Response(new Uint8Array(size).fill(7));
  }, async (origin) => {
    const big = await readCapped(await guardedFetch(`${origin}/?size=300000`, {}, LOCAL), 1000);
    assert.equal(big.bytes.length, 1000);
    assert.equal(big.truncated, true);
    assert.ok(big.bytes.every((b) => b === 7));
    const small = await readCapped(await guardedFetch(`${origin}/?size=10`, {}, LOCAL), 1000);
    assert.deepEqual([small.bytes.length, small.truncated], [10, false]);
    const exact = await readCapped(await guardedFetch(`${origin}/?size=1000`, {}, LOCAL), 1000);
    assert.deepEqual([exact.bytes.length, exact.truncated], [1000, false]);
  }));
