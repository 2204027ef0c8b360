/**
 * The soak's summary (bench/out/soak.json) and its markdown section, written to bench/out/SOAK.md
 * by the soak and added to bench/RESULTS.md by a full bench run (bench/report.ts).
 */
import { fmt } from "./stats.ts";

export interface LatencySummary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface SoakSummary {
  ok: boolean;
  startedAt: string;
  command: string;
  commit: string;
  denoVersion: string;
  machine: { nproc: number; cpu: string; ramGiB: number; kernel: string };
  seconds: number;
  /** From the first message to the last one sent. */
  sendSeconds: number;
  params: {
    servers: number;
    messages: number;
    rate: number;
    users: number;
    devices: number;
    dms: number;
    groups: number;
    groupSizes: number[];
    disconnectEveryMs: number;
    kills: number;
    downMs: number;
    seed: number;
  };
  messages: {
    /** Distinct messages (cids) the devices made. */
    sent: number;
    /** `send` frames written, resends included. */
    sendFrames: number;
    /** Sends again after a reconnect, an error or an ack timeout (same cid). */
    resends: number;
    acked: number;
    /** Acks for a cid that was already acked (a resend of a stored message). */
    repeatAcks: number;
    resendsDeduped: number;
    ackTimeouts: number;
    errors: Record<string, number>;
  };
  connections: {
    disconnectsClean: number;
    disconnectsAbrupt: number;
    /** Sockets the servers closed or that broke (the kills, shutdowns). */
    closedByServer: number;
    connectFailures: number;
    /** Hellos answered with `resumed` after a reconnect. */
    resumes: number;
    gaps: number;
  };
  kills: {
    server: string;
    atS: number;
    devicesDropped: number;
    downMs: number;
    restartMs: number;
  }[];
  check: {
    convs: number;
    logMessages: number;
    /** Seqs missing from 1..head in the log. */
    logHoles: number;
    /** Acked cids not in the log, or stored at another seq than their ack said. */
    lostStored: number;
    /** Cids stored more than once. */
    doubledStored: number;
    /** Cids never acked by the end (stored or not). */
    unacked: number;
    /** Messages in the log that no device sent. */
    unexpected: number;
    devices: number;
    /** Device × message pairs compared with the log. */
    deviceMessages: number;
    /** Messages in the log a device did not end up with. */
    lostDelivered: number;
    /** Seqs a device holds that the log does not have, or with another message id. */
    mismatched: number;
    /** The same seq twice on one connection. */
    doubledDelivered: number;
    /** A seq below one already received on the same connection. */
    outOfOrder: number;
    /** A seq skipped on a connection (informational: shows as lost unless filled later). */
    connHoles: number;
    /** A seq at or below the connection's resume point (informational: merged by seq). */
    belowResume: number;
    /** Missing device messages by "sender's server → the device's server when it was stored". */
    lostByPath: Record<string, number>;
    /** Of the missing ones, those in a run of seqs that ends at the conversation's head. */
    lostTail: number;
  };
  lost: number;
  doubled: number;
  outOfOrder: number;
  /** Send (first send frame) → receipt on another device, live deliveries only. */
  latency: LatencySummary;
  /** The same for sender and receiver on the same server, and on different ones. */
  latencySameServer: LatencySummary;
  latencyCrossServer: LatencySummary;
  /** Sent and received outside the 15 s after each kill. */
  latencyCalm?: LatencySummary;
  /** The load generator's event-loop lag (100 ms timer), during sending and settling. */
  loadgenLag?: LatencySummary;
  /** First send frame → ack. */
  ackLatency: LatencySummary;
  cpu: { serversS: number; loadgenS: number; otherCores: number };
  /** The first problems found, in words. */
  problems: string[];
}

const n = (x: number) => x.toLocaleString("en-US");
const ms = (x: number) => `${fmt(x, 1)} ms`;

/** The "## Soak" section. `where` says where it comes from (RESULTS.md names the file). */
export function renderSoak(s: SoakSummary, where = ""): string[] {
  const p = s.params, m = s.messages, c = s.connections, k = s.check;
  const o: string[] = ["## Soak", ""];
  if (where) o.push(where, "");
  o.push(
    `- Verdict: ${
      s.ok ? "**passed**" : "**FAILED**"
    }: lost ${s.lost}, doubled ${s.doubled}, out of order ${s.outOfOrder}.`,
    `- Date: ${s.startedAt} (took ${fmt(s.seconds, 0)} s, sending ${
      fmt(s.sendSeconds, 0)
    } s); code: \`${s.commit}\`; Deno ${s.denoVersion}`,
    `- Machine: ${s.machine.nproc} CPUs (nproc), ${s.machine.cpu}, ${
      fmt(s.machine.ramGiB, 1)
    } GiB RAM, Linux ${s.machine.kernel}`,
    `- Command: \`${s.command}\``,
    `- Setup: ${
      p.servers === 1
        ? "one HappyChat process (WORKERS=1, CONN_GUARD=0)"
        : `${p.servers} HappyChat processes (WORKERS=1 each, CONN_GUARD=0)`
    } on one KV file; ${n(p.users)} users with ${
      n(p.devices)
    } devices (1–2 each, each on a random server), ${n(p.dms)} DMs and ${n(p.groups)} groups of ${
      Math.min(...p.groupSizes)
    }–${Math.max(...p.groupSizes)} members; ${p.rate} msg/s in total; ${
      p.disconnectEveryMs > 0
        ? `one random device dropped every ${p.disconnectEveryMs} ms (half cleanly, half by cutting the TCP connection, some right after a send)`
        : "no random drops"
    }; ${
      p.kills > 0
        ? `${p.kills} server kill${
          p.kills > 1 ? "s" : ""
        } (SIGKILL, restarted on the same port after ${p.downMs} ms)`
        : "no server kills"
    }; seed ${p.seed}.`,
    `- Messages: ${n(m.sent)} sent, ${n(m.acked)} acked; ${n(m.sendFrames)} send frames (${
      n(m.resends)
    } resends with the same cid, of which ${
      n(m.resendsDeduped)
    } were answered with the message stored by an earlier attempt; ${
      n(m.repeatAcks)
    } repeated acks, ${n(m.ackTimeouts)} ack timeouts); errors ${JSON.stringify(m.errors)}.`,
    `- Connections: ${n(c.disconnectsClean + c.disconnectsAbrupt)} random disconnects (${
      n(c.disconnectsClean)
    } clean, ${n(c.disconnectsAbrupt)} abrupt), ${
      n(c.closedByServer)
    } closed by a server or broken, ${n(c.resumes)} resumes, ${
      n(c.connectFailures)
    } failed connect attempts (retried), ${n(c.gaps)} gaps.`,
    `- Kills: ${
      s.kills.map((x) =>
        `${x.server} at ${fmt(x.atS, 0)} s (${n(x.devicesDropped)} devices dropped, back after ${
          fmt(x.restartMs / 1000, 1)
        } s)`
      ).join("; ") || "none"
    }.`,
    `- Log (read from the KV file after the servers stopped): ${k.convs} conversations, ${
      n(k.logMessages)
    } messages; holes ${k.logHoles}; acked but not stored (or at another seq) ${k.lostStored}; stored twice ${k.doubledStored}; never acked ${k.unacked}; not sent by any device ${k.unexpected}.`,
    `- Devices: ${n(k.devices)} checked, ${
      n(k.deviceMessages)
    } device × message pairs: missing ${k.lostDelivered}, mismatched ${k.mismatched}; per connection: doubled ${k.doubledDelivered}, out of order ${k.outOfOrder}, skipped seqs ${k.connHoles}, at or below the resume point ${k.belowResume}.${
      k.lostDelivered && k.lostTail !== undefined
        ? ` Of the missing, ${
          n(k.lostTail)
        } are the newest messages of their conversation (nothing newer reached the device after them).`
        : ""
    }${
      Object.keys(k.lostByPath).length
        ? ` Missing by sender's server → the device's server when it was stored: ${
          Object.entries(k.lostByPath).sort((a, b) => b[1] - a[1]).map(([path, x]) =>
            `${path}: ${n(x)}`
          ).join(", ")
        }.`
        : ""
    }`,
    `- Latency, send → another device (live deliveries, from the first send frame): p50 ${
      ms(s.latency.p50)
    }, p99 ${ms(s.latency.p99)}, max ${ms(s.latency.max)} (${
      n(s.latency.n)
    } samples); same server p50 ${ms(s.latencySameServer.p50)}, p99 ${
      ms(s.latencySameServer.p99)
    } (${n(s.latencySameServer.n)}); across servers p50 ${ms(s.latencyCrossServer.p50)}, p99 ${
      ms(s.latencyCrossServer.p99)
    } (${n(s.latencyCrossServer.n)})${
      s.latencyCalm && p.kills > 0
        ? `; outside the 15 s after each kill p50 ${ms(s.latencyCalm.p50)}, p99 ${
          ms(s.latencyCalm.p99)
        } (${n(s.latencyCalm.n)})`
        : ""
    }; send → ack: p50 ${ms(s.ackLatency.p50)}, p99 ${ms(s.ackLatency.p99)}, max ${
      ms(s.ackLatency.max)
    }.`,
    `- CPU: servers ${fmt(s.cpu.serversS, 1)} s, load generator ${fmt(s.cpu.loadgenS, 1)} s${
      s.loadgenLag
        ? ` (its event-loop lag p99 ${ms(s.loadgenLag.p99)}, max ${ms(s.loadgenLag.max)})`
        : ""
    }; other processes used ${fmt(s.cpu.otherCores, 2)} cores meanwhile.`,
  );
  if (s.problems.length) {
    o.push("", "Problems found (first ones):", "", ...s.problems.map((x) => `- ${x}`));
  }
  o.push("");
  return o;
}
