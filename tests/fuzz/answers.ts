/**
 * Matches one frame from the server to the request it answers (by cid, rid, or type and
 * conversation: socket.ts keeps those unique among open requests; errors with neither rid nor
 * cid go through anon.ts) and checks it. Broadcasts (`read`, `typing`, `presence`) are checked
 * on their own. Returns what is wrong, or null.
 */
import {
  HISTORY_PAGE_MAX_CHARS,
  RESUME_MAX_PER_CONV,
  type ServerFrame,
} from "../../lib/wire/protocol.ts";
import { errorMismatch } from "./oracle.ts";
import {
  checkMembers,
  checkMessage,
  checkPage,
  checkReceipts,
  checkSync,
  checkSyncGap,
  storedCost,
  textCost,
} from "./checks.ts";
import type { FuzzSocket } from "./socket.ts";

type ErrorFrame = Extract<ServerFrame, { type: "error" }>;

/**
 * An error about one frame: found by its cid or rid (socket.ts keeps those unique among open
 * frames), or, without either, held until it is clear which frame it answers (anon.ts).
 */
function checkError(s: FuzzSocket, f: ErrorFrame): string | null {
  if (f.code === "internal") return `"internal" error`;
  if (!s.world.documented.has(f.code)) return `error code "${f.code}" is not in docs/protocol.md`;
  if (f.cid === undefined && f.rid === undefined) return s.anon.add(f);
  const e = f.cid !== undefined
    ? s.open.find((x) => x.k === "send" && x.cid === f.cid)
    : s.open.find((x) => x.rid === f.rid);
  if (!e) return "an error no open request can have caused";
  if (f.rid !== e.rid) return `error rid ${f.rid}, the frame had ${e.rid}`;
  if (e.k === "send" && f.cid !== e.cid) return `error cid ${f.cid} about a send of ${e.cid}`;
  const p = errorMismatch(e, f.code, f.message);
  if (p) return `${p}: ${e.wire.slice(0, 300)}`;
  if (f.code !== "rate_limited") {
    s.done(e, f.code === "not_member" ? "ran" : "either");
    return null;
  }
  s.done(e, "refused");
  // A refusal on arrival comes in the order of the frames, like pongs and bad_frame.
  return s.anon.arrived(e.n);
}

function checkAck(s: FuzzSocket, f: Extract<ServerFrame, { type: "ack" }>): string | null {
  const e = s.open.find((x) => x.k === "send" && x.cid === f.cid);
  if (!e || e.k !== "send") return "an ack no open send asked for";
  if (!e.member) return `ack for a send to "${e.conv}", which the user is not in`;
  if (f.conv !== e.conv || f.rid !== e.rid) {
    return `ack for "${f.conv}" rid ${f.rid}, sent to "${e.conv}" rid ${e.rid}`;
  }
  const key = `${e.conv}\u0000${s.user.id}\u0000${e.cid}`;
  const first = s.world.acks.get(key);
  if (first && (first.seq !== f.seq || first.id !== f.id || first.at !== f.at)) {
    return `a retried cid got seq ${f.seq} id ${f.id}, first ack had seq ${first.seq} id ${first.id}`;
  }
  if (f.seq <= (s.user.joined.get(e.conv) ?? 0)) return `ack seq ${f.seq} at or below the join`;
  s.world.acks.set(key, { seq: f.seq, id: f.id, at: f.at });
  s.world.stats.acks++;
  s.world.seen(f.conv, f.seq);
  s.done(e, "ran");
  return null;
}

function checkHistory(s: FuzzSocket, f: Extract<ServerFrame, { type: "history" }>): string | null {
  const e = s.open.find((x) =>
    (x.k === "history" || (x.k === "sync" && !x.got)) && x.conv === f.conv
  );
  if (!e || (e.k !== "history" && e.k !== "sync")) {
    return "a history answer no open request asked for";
  }
  if (!e.member) return `history of "${e.conv}", which the user is not in`;
  if (f.rid !== e.rid) return `history rid ${f.rid}, the frame had ${e.rid}`;
  const members = s.world.members.get(e.conv)!;
  for (const m of f.messages) {
    const p = checkMessage(m, e.conv, members);
    if (p) return p;
    s.world.seen(m.conv, m.seq);
  }
  const seqs = f.messages.map((m) => m.seq);
  const cost = f.messages.reduce((n, m) => n + textCost(m), 0);
  if (e.k === "sync") {
    if (f.hasMore) return "hasMore in the answer to sync";
    if (cost > HISTORY_PAGE_MAX_CHARS) return `sync answered ${cost} units of text, not a gap`;
    e.got = seqs;
    return null;
  }
  const short: { before?: number } = {};
  const p = checkPage(e, seqs, f.hasMore, cost, short);
  if (p) return `${p}, for ${e.wire.slice(0, 200)}`;
  if (short.before !== undefined) {
    // A page that ends early: the message before it would have taken it over the text bound.
    const [conv, seq, wire] = [e.conv, short.before, e.wire.slice(0, 200)];
    s.world.later(async (kv) => {
      const total = cost + await storedCost(kv, conv, seq - 1, seq);
      return total > HISTORY_PAGE_MAX_CHARS
        ? null
        : `a page of ${seqs.length} ended before seq ${seq}, which fits (${total} units), for ${wire}`;
    });
  }
  s.done(e, "ran");
  return null;
}

function checkSynced(s: FuzzSocket, f: Extract<ServerFrame, { type: "synced" }>): string | null {
  const e = s.open.find((x) => x.k === "sync" && x.got && x.conv === f.conv);
  if (!e || e.k !== "sync") return "synced without its history";
  if (f.rid !== e.rid) return `synced rid ${f.rid}, the frame had ${e.rid}`;
  const p = checkSync(e, e.got!, f.lastSeq);
  if (p) return `${p}, for ${e.wire.slice(0, 200)}`;
  s.world.seen(f.conv, f.lastSeq);
  s.done(e, "ran");
  return null;
}

function checkGap(s: FuzzSocket, f: Extract<ServerFrame, { type: "gap" }>): string | null {
  const e = s.open.find((x) => x.k === "sync" && !x.got && x.conv === f.conv);
  if (!e || e.k !== "sync") return "a gap no hello or sync asked for";
  if (!e.member) return `gap of "${e.conv}", which the user is not in`;
  const p = checkSyncGap(e, f.after, f.lastSeq);
  if (p) return `${p}, for ${e.wire.slice(0, 200)}`;
  if (f.lastSeq - f.after <= RESUME_MAX_PER_CONV) {
    // Few enough messages: only their text can make this a gap.
    const [conv, after, upTo, wire] = [e.conv, f.after, f.lastSeq, e.wire.slice(0, 200)];
    s.world.later(async (kv) => {
      const total = await storedCost(kv, conv, after, upTo);
      return total > HISTORY_PAGE_MAX_CHARS
        ? null
        : `gap of ${upTo - after} messages with ${total} units of text, for ${wire}`;
    });
  }
  s.done(e, "ran");
  return null;
}

function checkRequest(
  s: FuzzSocket,
  f: Extract<ServerFrame, { type: "receipts" | "members" }>,
): string | null {
  const e = s.open.find((x) => x.k === f.type && x.conv === f.conv);
  if (!e || (e.k !== "receipts" && e.k !== "members")) return `a ${f.type} answer nobody asked for`;
  if (!e.member) return `${f.type} of "${e.conv}", which the user is not in`;
  if (f.rid !== e.rid) return `${f.type} rid ${f.rid}, the frame had ${e.rid}`;
  const members = s.world.members.get(e.conv)!;
  const p = f.type === "receipts"
    ? checkReceipts(f.reads, members)
    : checkMembers(f.members, members);
  if (p) return p;
  s.done(e, "ran");
  return null;
}

/** Checks an answer; one that completes a frame may settle which frame a rid-less error had. */
export function matchAnswer(s: FuzzSocket, f: ServerFrame): string | null {
  const problem = matchOne(s, f);
  return problem ?? (s.anon.pending.length ? s.anon.resolve() : null);
}

function matchOne(s: FuzzSocket, f: ServerFrame): string | null {
  const own = (conv: string) => s.user.own.includes(conv);
  switch (f.type) {
    case "error":
      return checkError(s, f);
    case "ack":
      return checkAck(s, f);
    case "history":
      return checkHistory(s, f);
    case "synced":
      return checkSynced(s, f);
    case "gap":
      return checkGap(s, f);
    case "receipts":
    case "members":
      return checkRequest(s, f);
    case "read":
      if (!own(f.conv) || !s.world.members.get(f.conv)!.has(f.user)) {
        return "read receipt from outside";
      }
      return Number.isSafeInteger(f.seq) && f.seq >= 0 ? null : `read seq ${f.seq}`;
    case "typing":
      if (!own(f.conv) || f.user === s.user.id) return "typing of the user itself, or from outside";
      return s.world.members.get(f.conv)!.has(f.user) ? null : "typing of a non-member";
    case "presence":
      return s.user.peers.has(f.user) ? null : `presence of "${f.user}", not a DM partner`;
    default:
      return `a "${f.type}" frame: no frame of the fuzz can cause one`;
  }
}
