/**
 * Plain statements of what limits a missed target, from the numbers of the same run: attached
 * to RESULTS.md only for the targets that were missed.
 */
import { type Results, verdicts } from "./report.ts";
import { fmt } from "./stats.ts";

export function limitNotes(r: Results): string[] {
  const v = verdicts(r);
  const notes: string[] = [];
  const room = r.room.w1.result, ref = r.room.reference.result;
  if (!v.room && room) {
    const parts = [];
    if (room.latency.p99 > 25) {
      parts.push(
        `p99 ${fmt(room.latency.p99)} ms against the reference server's ${
          ref ? fmt(ref.latency.p99) : "n/a"
        } ms on the same load: every message is ${room.members} socket writes by the server and ${room.members} frames parsed by the load generator, which shares the ${navigator.hardwareConcurrency} cores`,
      );
    }
    if (!(v.ratio <= 1.0)) {
      parts.push(`server CPU per delivered message ${fmt(v.ratio, 2)}× the reference's`);
    }
    if (room.lost || room.doubled) parts.push(`${room.lost} lost, ${room.doubled} doubled`);
    notes.push(`Room fan-out: ${parts.join("; ")}.`);
  }
  if (v.room && room && (room.latency.p99 > 22.5 || v.ratio > 0.9)) {
    notes.push(
      `Room fan-out: met, narrowly — p99 ${
        fmt(room.latency.p99)
      } ms against 25 (the reference server: ${
        ref ? fmt(ref.latency.p99) : "n/a"
      } ms on the same load); CPU per delivered message ${
        fmt(v.ratio, 2)
      }× the reference's, against 1.0×. The load generator parses ${room.members} frames per message on the same ${navigator.hardwareConcurrency} cores (${
        fmt(room.loadgenCpuS / room.wallS, 2)
      } cores busy), so a run with other work on the machine can miss it.`,
    );
  }
  const dm = r.dm.w1.result;
  if (!v.dm && dm) {
    const perMsg = (dm.serverCpuS / dm.acked) * 1e6;
    notes.push(
      `DM pairs: p99 ${fmt(dm.latency.p99)} ms. The server spent ${
        fmt(perMsg, 0)
      } µs of CPU per message (durable append with membership, friendship and idempotency checks, ack, two deliveries), i.e. ${
        fmt(dm.serverCpuS / dm.wallS, 2)
      } cores at this rate, while the load generator used ${
        fmt(dm.loadgenCpuS / dm.wallS, 2)
      } cores of the same machine.`,
    );
  }
  const rows = r.durable.rows;
  if (!v.durable && rows.length) {
    const raw = rows.filter((x) => x.path.startsWith("raw KV"));
    const rawTxt = raw.map((x) =>
      `${fmt(x.perSec, 0)} sets/s ${
        x.convs === 1 ? "in one conversation's key range" : `spread over ${x.convs} conversations`
      }`
    ).join(" and ");
    notes.push(
      `Durable throughput: a message is one KV write (the message), plus per commit and conversation its head, per commit and sender its record (the last 32 cids, for idempotent retries), and per commit one fan-out entry and the stream head; each conversation's head is the one check. With few conversations a commit carries many messages each (about one write a message); when every message is in another conversation it costs about three writes and a check, and KV's limit of 100 checks per atomic op caps a commit at about 90 messages. The KV store itself (SQLite: a WAL append and a fixed cost per commit, then a cost per key) did ${rawTxt} in this run with no app logic at all.`,
    );
  }
  const idle = r.idle.w1.result, idleRef = r.idle.reference.result;
  if (v.idle && idle && idle.perConnKiB > 22.8) {
    notes.push(
      `Idle connections: ${fmt(idle.perConnKiB, 2)} KiB each is within ${
        fmt((1 - idle.perConnKiB / 24) * 100, 1)
      }% of the target, counted in KiB like VmRSS (${
        fmt((idle.perConnKiB * 1024) / 1000, 1)
      } kB decimal). Deno's own WebSocket server (the reference) accounts for ${
        idleRef ? fmt(idleRef.perConnKiB, 1) : "n/a"
      } KiB of it.`,
    );
  }
  if (!v.idle && idle) {
    notes.push(
      `Idle connections: ${
        fmt(idle.perConnKiB, 1)
      } KiB each, of which Deno's own WebSocket server (the reference) accounts for ${
        idleRef ? fmt(idleRef.perConnKiB, 1) : "n/a"
      } KiB; the rest is the connection's state (subscriptions, presence, cursors) and V8 heap growth from the hellos.`,
    );
  }
  const st = r.storm.result;
  if (!v.storm && st) {
    notes.push(
      `Reconnect storm: ${
        st.allCompleteMs === null
          ? `${st.incomplete} clients still incomplete after the wait`
          : `the last client was complete after ${fmt(st.allCompleteMs, 0)} ms`
      }; ${st.clients} hellos at once each read the conversation list and replay up to ${st.acked} messages from KV, ${
        fmt(st.serverCpuS, 1)
      } s of server CPU in all.`,
    );
  }
  const fl = r.flood?.result;
  if (!v.flood && fl?.alive) {
    const d = fl.healthDuring;
    notes.push(
      `Connection flood: the server stayed up and /healthz answered in ${
        fmt(d.p90, 1)
      } ms at p90, but its worst probe during the flood took ${
        fmt(d.max, 0)
      } ms (${d.failed} of ${d.n} failed or took over 5 s). The attackers share the server's 2 cores; when they open connections faster than the guard's accept loops (GUARD_THREADS) take them, a new client waits in the kernel's accept queue behind them, and when that queue is full (${
        fl.listenOverflows ?? "?"
      } handshakes dropped by the kernel in this run) its handshake is retried after a second or more, before the guard sees it. Afterwards: max ${
        fmt(fl.healthAfter.max, 1)
      } ms.`,
    );
  }
  const d1 = r.dm.w1.result, d2 = r.dm.w2.result;
  if (d1 && d2 && (d2.latency.p99 > 2 * d1.latency.p99 || Object.keys(d2.errors).length)) {
    notes.push(
      `Scale: with 2 isolates the DM load got slower, not faster (p99 ${fmt(d1.latency.p99)} → ${
        fmt(d2.latency.p99)
      } ms, errors ${
        JSON.stringify(d2.errors)
      }). No key is shared by the isolates any more (each writes its own fan-out streams), but on one SQLite file their commits still take one lock in turn, each with its fixed cost, as two streams of smaller batches; the two people of a DM are often on different isolates, so a commit often finds its kept head stale and is tried again; and each isolate also dispatches the other's events. docs/architecture.md, "Why one isolate on a local file", has the measurements.`,
    );
  }
  return notes;
}
