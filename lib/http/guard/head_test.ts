import assert from "node:assert/strict";
import fc from "fast-check";
import { HeadTracker } from "./head.ts";

const enc = new TextEncoder();
const D = { headerTimeoutMs: 1000, idleTimeoutMs: 5000, upgradedIdleMs: 60_000 };

function get(path = "/"): string {
  return `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
}
function post(body: string): string {
  return `POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

Deno.test("HeadTracker: the first head must arrive whole within the deadline from accept", () => {
  const h = new HeadTracker(1024, 0);
  assert.equal(h.feed(enc.encode("GET / HTTP/1.1\r\nHo"), 100), null);
  assert.equal(h.expired(999, 100, D), null);
  assert.equal(h.expired(1001, 900, D), "header_timeout", "bytes trickling in do not extend it");
  assert.equal(h.feed(enc.encode("st: x\r\n\r\n"), 500), null);
  assert.equal(h.state, "await");
  assert.equal(h.expired(1001, 500, D), null);
});

Deno.test("HeadTracker: a later head's deadline starts at its first byte", () => {
  const h = new HeadTracker(1024, 0);
  h.feed(enc.encode(get()), 10);
  h.sawServer(enc.encode("HTTP/1.1 200 OK\r\n"), 20);
  assert.equal(h.expired(4000, 20, D), null, "idle between requests, under the idle limit");
  assert.equal(h.expired(5100, 20, D), "idle_timeout");
  h.feed(enc.encode("GET /2 HTTP/1.1\r\n"), 4000);
  assert.equal(h.expired(4900, 4800, D), null);
  assert.equal(h.expired(5001, 4900, D), "header_timeout");
});

Deno.test("HeadTracker: bodies of known length are skipped, a stalled body hits the idle limit", () => {
  const h = new HeadTracker(1024, 0);
  h.feed(enc.encode(`POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345`), 0);
  assert.equal(h.state, "body");
  assert.equal(h.expired(5001, 0, D), "idle_timeout");
  h.feed(enc.encode("67890" + get()), 100);
  assert.equal(h.state, "await");
});

Deno.test("HeadTracker: a head over the byte limit is refused, also when it arrives in pieces", () => {
  const h = new HeadTracker(64, 0);
  assert.equal(h.feed(enc.encode("GET / HTTP/1.1\r\n"), 0), null);
  assert.equal(h.feed(enc.encode("X-A: " + "a".repeat(60) + "\r\n"), 0), "head_too_large");
  const h2 = new HeadTracker(64, 0);
  assert.equal(h2.feed(enc.encode(get("/" + "b".repeat(100))), 0), "head_too_large");
});

Deno.test("HeadTracker: an upgrade is followed only once the server answers 101", () => {
  const h = new HeadTracker(1024, 0);
  const ws =
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n";
  h.feed(enc.encode(ws), 0);
  assert.equal(h.state, "upgrading");
  h.sawServer(enc.encode("HTTP/1.1 101 Switching Protocols\r\n"), 10);
  assert.equal(h.state, "upgraded");
  assert.equal(h.feed(enc.encode("\x81\x85binary-ish frame"), 20), null);
  assert.equal(h.expired(50_000, 20, D), null);
  assert.equal(h.evictionRank(0, 100_000), Infinity, "an upgraded connection is never evicted");

  const refused = new HeadTracker(1024, 0);
  refused.feed(enc.encode(ws), 0);
  refused.sawServer(enc.encode("HTTP/1.1 403 Forbidden\r\n"), 10);
  assert.equal(refused.state, "opaque");
  assert.equal(refused.expired(5011, 10, D), "idle_timeout");
});

Deno.test("HeadTracker: chunked or malformed framing becomes opaque, bounded by idleness", () => {
  const h = new HeadTracker(1024, 0);
  h.feed(enc.encode("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"), 0);
  assert.equal(h.state, "opaque");
  const bad = new HeadTracker(1024, 0);
  bad.feed(enc.encode("NOT HTTP AT ALL\r\n\r\n"), 0);
  assert.equal(bad.state, "opaque");
  const twoLengths = new HeadTracker(1024, 0);
  twoLengths.feed(
    enc.encode("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
    0,
  );
  assert.equal(twoLengths.state, "opaque");
});

Deno.test("HeadTracker: eviction prefers a first head still arriving, then an idle keep-alive", () => {
  const slow = new HeadTracker(1024, 100);
  const idle = new HeadTracker(1024, 0);
  idle.feed(enc.encode(get()), 0);
  assert.equal(idle.evictionRank(0, 10_000), Infinity, "no answer yet: a request is under way");
  idle.sawServer(enc.encode("HTTP/1.1 200 OK\r\n\r\n"), 50);
  const busy = new HeadTracker(1024, 0);
  busy.feed(enc.encode(`POST / HTTP/1.1\r\nContent-Length: 99\r\n\r\n`), 0);
  const ranks = [slow.evictionRank(100, 10_000), idle.evictionRank(50, 10_000)];
  assert.ok(ranks[0] < ranks[1]);
  assert.equal(idle.evictionRank(9_500, 10_000), Infinity, "bytes less than a second ago");
  assert.equal(busy.evictionRank(0, 10_000), Infinity, "a body under way");
});

Deno.test("HeadTracker: any split of pipelined requests into chunks ends between requests", () => {
  const stream = enc.encode(get("/a") + post("hello=1") + get("/b") + post("") + get("/c"));
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }),
      (cuts) => {
        const h = new HeadTracker(256, 0);
        const points = [0, ...cuts.sort((a, b) => a - b), stream.length];
        for (let i = 1; i < points.length; i++) {
          assert.equal(h.feed(stream.subarray(points[i - 1], points[i]), i), null);
        }
        assert.equal(h.state, "await");
      },
    ),
    { numRuns: 500 },
  );
});
