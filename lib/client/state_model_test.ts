/** A model test of the reducer: random in-order delivery with duplicates, pages, gaps. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Action, emptyState, reduce } from "./state.ts";
import type { ConvSummary, Message } from "../wire/protocol.ts";

function summary(id: string, kind: "dm" | "group"): ConvSummary {
  return { id, kind, title: "", lastSeq: 0, lastAt: 1, last: null, readSeq: 0 };
}
function msg(seq: number, conv: string): Message {
  return {
    conv,
    seq,
    id: `m${seq}`,
    from: seq % 2 ? "bob" : "me",
    kind: "text",
    text: `t${seq}`,
    at: 100 + seq,
  };
}

Deno.test("model: in-order delivery with duplicates, hidden messages, gaps and pages keeps the window whole and ordered", () => {
  // Per conversation the server has committed `committed` messages, some hidden from this user (a
  // blocked sender's), and delivered up to `delivered` live (hidden ones count, but are not sent).
  const ops = [
    "commit",
    "commit",
    "hide",
    "deliver",
    "deliver",
    "dup",
    "request",
    "reply",
    "older",
    "gap",
  ] as const;
  const step = fc.record({
    conv: fc.constantFrom("d1", "g1"),
    op: fc.constantFrom(...ops),
    n: fc.nat(40),
    limit: fc.integer({ min: 1, max: 5 }),
  });
  fc.assert(
    fc.property(fc.array(step, { minLength: 10, maxLength: 200, size: "large" }), (steps) => {
      let s = reduce(emptyState(), {
        type: "welcome",
        v: 1,
        me: { id: "me", username: "me", nickname: "Me", avatarUrl: null },
        convs: [summary("d1", "dm"), summary("g1", "group")],
        isolate: "i",
      });
      const committed: Record<string, number> = { d1: 0, g1: 0 };
      const delivered: Record<string, number> = { d1: 0, g1: 0 };
      const hidden: Record<string, Set<number>> = { d1: new Set(), g1: new Set() };
      /** The newest visible message given to the client, and the newest seq it was told of. */
      const top: Record<string, number> = { d1: 0, g1: 0 };
      const told: Record<string, number> = { d1: 0, g1: 0 };
      const inFlight: Record<string, Extract<Action, { type: "history" }> | null> = {
        d1: null,
        g1: null,
      };
      const give = (conv: string, seq: number) => {
        top[conv] = Math.max(top[conv], seq);
        told[conv] = Math.max(told[conv], seq);
      };
      /** The server's page: the last `limit` messages this user may see before `before`. */
      const page = (
        conv: string,
        before: number,
        limit: number,
      ): Extract<Action, { type: "history" }> => {
        const visible = Array.from({ length: before - 1 }, (_, i) => i + 1).filter((q) =>
          !hidden[conv].has(q)
        );
        const seqs = visible.slice(-limit);
        return {
          type: "history",
          conv,
          messages: seqs.map((q) => msg(q, conv)),
          hasMore: visible.length > seqs.length,
        };
      };
      /** Where the last gap left this connection: the server never sends anything at or before it again. */
      const since: Record<string, number> = { d1: 0, g1: 0 };
      for (const { conv, op, n, limit } of steps) {
        const c = s.convs[conv];
        if (op === "commit") committed[conv]++;
        if (op === "hide") hidden[conv].add(++committed[conv]);
        if (op === "deliver" && delivered[conv] < committed[conv]) {
          const seq = ++delivered[conv];
          if (!hidden[conv].has(seq)) {
            (s = reduce(s, { type: "msg", msg: msg(seq, conv) }), give(conv, seq));
          }
        }
        // A duplicate of something this connection already delivered.
        const old = since[conv] + 1 + (n % Math.max(1, delivered[conv] - since[conv]));
        if (op === "dup" && old <= delivered[conv] && !hidden[conv].has(old)) {
          s = reduce(s, { type: "msg", msg: msg(old, conv) });
          give(conv, old);
        }
        // The client asks for the newest page when a conversation is first shown or after a gap;
        // the server reads it now, and live messages may overtake the reply.
        if (op === "request" && !c.loaded && !inFlight[conv]) {
          inFlight[conv] = page(conv, committed[conv] + 1, limit);
        }
        if (op === "reply" && inFlight[conv]) {
          s = reduce(s, inFlight[conv]!);
          for (const x of inFlight[conv]!.messages) give(conv, x.seq);
          inFlight[conv] = null;
        }
        if (op === "older" && c.loaded && c.hasMore && c.messages.length) {
          const p = page(conv, c.messages[0].seq, limit);
          s = reduce(s, p);
          for (const x of p.messages) give(conv, x.seq);
        }
        if (op === "gap") {
          // A gap comes with a new connection: a page asked for on the old one never arrives.
          inFlight[conv] = null;
          s = reduce(s, { type: "gap", conv, after: delivered[conv], lastSeq: committed[conv] });
          delivered[conv] = since[conv] = committed[conv];
          told[conv] = Math.max(told[conv], committed[conv]);
        }
      }
      for (const conv of ["d1", "g1"]) {
        const c = s.convs[conv];
        const got = c.messages.map((x) => x.seq);
        if (got.length) {
          const whole = Array.from({ length: got.at(-1)! - got[0] + 1 }, (_, i) => got[0] + i)
            .filter((q) => !hidden[conv].has(q));
          assert.deepEqual(
            got,
            whole,
            `${conv}: every visible message between the first and the last, once, in order`,
          );
          assert.equal(got.at(-1), top[conv], "the window reaches the newest message given");
        }
        assert.equal(c.summary.lastSeq, told[conv]);
        const olderVisible = got.length &&
          Array.from({ length: got[0] - 1 }, (_, i) => i + 1).some((q) => !hidden[conv].has(q));
        if (c.loaded && olderVisible) assert.ok(c.hasMore, "older messages stay reachable");
        for (const x of c.messages) assert.equal(x.conv, conv);
      }
    }),
    { numRuns: 1000 },
  );
});
