/** Writes bench/RESULTS.md from the measured numbers: machine, date, command, then each scenario. */
import type { RoomResult } from "./room.ts";
import type { DmCapacity, DmResult, DmStep } from "./dm.ts";
import type { StormResult } from "./storm.ts";
import type { FloodResult } from "./flood.ts";
import type { IdleResult } from "./idle.ts";
import type { ThroughputResult } from "./durable.ts";
import { fmt, machineInfo } from "./stats.ts";
import { renderSoak, type SoakSummary } from "./soak_report.ts";

export interface Run<T> {
  result?: T;
  error?: string;
  /** CPU cores used by other processes on the machine during the measured phase. */
  otherCores?: number;
}

export interface Results {
  quick: boolean;
  command: string;
  startedAt: string;
  seconds: number;
  denoVersion: string;
  commit: string;
  params: Record<string, unknown>;
  room: {
    reference: Run<RoomResult>;
    w1: Run<RoomResult>;
    w2: Run<RoomResult>;
    /** WORKERS=1 with the connection guard relaying every byte (the others run without it). */
    guarded?: Run<RoomResult>;
  };
  dm: { w1: Run<DmResult>; w2: Run<DmResult> };
  /** Absent in results saved before the capacity scenario existed. */
  dmcap?: { w1: Run<DmCapacity>; w2: Run<DmCapacity> };
  durable: { rows: (ThroughputResult & { convs: number })[]; error?: string };
  /** guarded: with the connection guard (its cap here is below 10,000, so fewer connections). */
  idle: { reference: Run<IdleResult>; w1: Run<IdleResult>; guarded?: Run<IdleResult> };
  storm: Run<StormResult>;
  /** Absent in results saved before the flood scenario existed. */
  flood?: Run<FloodResult>;
}

const ms = (n: number) => `${fmt(n, 1)} ms`;
let quickMode = false;
const yes = (ok: boolean) =>
  (ok ? "**met**" : "**NOT met**") + (quickMode ? " (quick-mode size, not the target's)" : "");

function lat(l: { p50: number; p90: number; p99: number; max: number; n: number }): string {
  return `p50 ${ms(l.p50)}, p90 ${ms(l.p90)}, p99 ${ms(l.p99)}, max ${ms(l.max)} (${
    l.n.toLocaleString("en-US")
  } samples)`;
}

function other<T>(r: Run<T>): string {
  return r.otherCores === undefined
    ? ""
    : ` Other processes used ${fmt(r.otherCores, 2)} cores meanwhile.`;
}

function fail<T>(r: Run<T>): string | null {
  if (r.error) return `failed to run: \`${r.error.split("\n")[0]}\``;
  return r.result ? null : "not run";
}

/** One "- name: …" line per run: `line` for a run with a result, why not otherwise. */
function runLines<T>(runs: [string, Run<T>][], line: (d: T, x: Run<T>) => string): string[] {
  return runs.map(([name, x]) =>
    `- ${name}: ${x.result && !x.error ? line(x.result, x) : fail(x)}`
  );
}

function roomLine(name: string, r: Run<RoomResult>): string {
  const f = fail(r);
  if (f || !r.result) return `| ${name} | ${f} |||||||`;
  const x = r.result;
  return `| ${name} | ${x.members} | ${x.acked}/${x.sent} | ${
    x.delivered.toLocaleString("en-US")
  } | ${x.lost} / ${x.doubled} | ${fmt(x.latency.p50)} / ${fmt(x.latency.p99)} / ${
    fmt(x.latency.max)
  } | ${fmt(x.serverCpuS, 2)} s | ${fmt(x.cpuPerDeliveredUs, 2)} µs | ${
    fmt(x.loadgenCpuS, 2)
  } s | ${fmt(r.otherCores ?? NaN, 2)} |`;
}

export function verdicts(r: Results) {
  const room = r.room.w1.result, ref = r.room.reference.result;
  const ratio = room && ref ? room.cpuPerDeliveredUs / ref.cpuPerDeliveredUs : NaN;
  const dm = r.dm.w1.result;
  const storm = r.storm.result;
  const idle = r.idle.w1.result;
  const durable = r.durable.rows.filter((x) => x.path.startsWith("MessageLog"));
  const rate = (path: string, convs: number) =>
    r.durable.rows.find((x) => x.path.startsWith(path) && x.convs === convs)?.perSec ?? NaN;
  // Issue 9: the batched path against the store's own set rate in the same run.
  const durableRatio10 = rate("MessageLog", 10) / rate("raw KV sets, one", 1);
  const durableRatio1000 = rate("MessageLog", 1000) / rate("raw KV sets, spread", 1000);
  const idleRef = r.idle.reference.result;
  const helloRatio = idle && idleRef
    ? (idle.serverCpuS / idle.connections) / (idleRef.serverCpuS / idleRef.connections)
    : NaN;
  const c1 = r.dmcap?.w1.result, c2 = r.dmcap?.w2.result;
  const capRatio = c1 && c2 && c1.capacity > 0 ? c2.capacity / c1.capacity : NaN;
  return {
    ratio,
    capRatio,
    dmcap: capRatio >= 1.6,
    durableRatio10,
    durableRatio1000,
    durableRatios: durableRatio10 >= 0.6 && durableRatio1000 >= 0.5,
    helloRatio,
    hello: helloRatio <= 3,
    room: !!room && room.lost === 0 && room.doubled === 0 && room.acked === room.sent &&
      room.latency.p99 <= 25 && ratio <= 1.0,
    dm: !!dm && dm.lost === 0 && dm.doubled === 0 && dm.acked === dm.sent && dm.latency.p99 <= 50,
    durable: durable.length > 0 && durable.every((x) => x.perSec >= 20_000),
    // RSS is counted in KiB (the "kB" of /proc/<pid>/status).
    idle: !!idle && idle.perConnKiB <= 24,
    storm: !!storm && storm.incomplete === 0 && storm.lost === 0 && storm.doubled === 0 &&
      storm.allCompleteMs !== null &&
      storm.allCompleteMs <= 5000,
    flood: !!r.flood?.result && r.flood.result.alive && r.flood.result.healthDuring.failed === 0 &&
      r.flood.result.healthAfter.failed === 0 && r.flood.result.healthDuring.max <= 1000 &&
      r.flood.result.healthAfter.max <= 1000,
  };
}

export function renderResults(r: Results, notes: string[]): string {
  quickMode = r.quick;
  const m = machineInfo();
  const v = verdicts(r);
  const o: string[] = [];
  o.push(
    `# HappyChat benchmark results${
      r.quick ? " (quick mode: smaller numbers, not the targets' sizes)" : ""
    }`,
    "",
  );
  o.push(`- Date: ${r.startedAt} (run took ${fmt(r.seconds, 0)} s)`);
  o.push(
    `- Machine: ${m.nproc} CPUs (nproc), ${m.cpu}, ${fmt(m.ramGiB, 1)} GiB RAM, Linux ${m.kernel}`,
  );
  o.push(`- Deno ${r.denoVersion}; code: \`${r.commit}\``);
  o.push(`- Command: \`${r.command}\``);
  o.push(
    `- The server under test is a separate process (\`deno run\` main.ts with the start task's permission flags, WORKERS=1 or 2, a`,
  );
  o.push(
    `  seeded KV file under ./data/ deleted afterwards); its CPU is utime+stime from /proc/<pid>/stat, its memory VmRSS.`,
  );
  o.push(
    `- It runs as in production behind a TLS proxy, with CONN_GUARD=0 (the proxy holds the client connections there); rows marked CONN_GUARD=1 run with the app's own connection guard relaying every byte, as when nothing is in front of it.`,
  );
  o.push(
    `  The load generator runs on the same ${m.nproc} cores. "Other" = CPU cores used by other processes on the machine during`,
  );
  o.push(`  the measured phase (this machine is shared; those numbers are noise in ours).`);
  o.push("", "## Targets", "");
  o.push("| target | measured | verdict |", "|---|---|---|");
  const room = r.room.w1.result, ref = r.room.reference.result;
  o.push(
    `| Room fan-out: nothing lost, p99 ≤ 25 ms, CPU per delivered msg ≤ 1.0× reference | ${
      room
        ? `lost ${room.lost}, doubled ${room.doubled}, p99 ${ms(room.latency.p99)}, CPU/msg ${
          fmt(room.cpuPerDeliveredUs, 2)
        } µs vs reference ${ref ? fmt(ref.cpuPerDeliveredUs, 2) : "n/a"} µs = ${fmt(v.ratio, 2)}×`
        : fail(r.room.w1)
    } | ${yes(v.room)} |`,
  );
  const dm = r.dm.w1.result;
  o.push(
    `| DM pairs: nothing lost, p99 ≤ 50 ms | ${
      dm ? `lost ${dm.lost}, doubled ${dm.doubled}, p99 ${ms(dm.latency.p99)}` : fail(r.dm.w1)
    } | ${yes(v.dm)} |`,
  );
  const c1 = r.dmcap?.w1.result, c2 = r.dmcap?.w2.result;
  const capTxt = (c: DmCapacity | undefined, run: Run<DmCapacity> | undefined) =>
    c
      ? `${c.atTop ? "≥ " : ""}${c.capacity.toLocaleString("en-US")} msg/s`
      : run
      ? fail(run)
      : "not run";
  o.push(
    `| DM capacity (highest total rate held with p99 ≤ 50 ms, nothing lost, doubled or refused): 2 isolates ≥ 1.6× one | 1 isolate ${
      capTxt(c1, r.dmcap?.w1)
    }; 2 isolates ${capTxt(c2, r.dmcap?.w2)}${
      Number.isFinite(v.capRatio) ? ` = ${fmt(v.capRatio, 2)}×` : ""
    } | ${yes(v.dmcap)} |`,
  );
  const best = r.durable.rows.filter((x) => x.path.startsWith("MessageLog"));
  o.push(
    `| Durable send throughput ≥ 20,000 msg/s (batched) | ${
      best.map((x) => `${fmt(x.perSec, 0)}/s over ${x.convs} convs`).join("; ") || r.durable.error
    } | ${yes(v.durable)} |`,
  );
  const rawOne = r.durable.rows.find((x) => x.path.startsWith("raw KV sets, one"));
  const rawSpread = r.durable.rows.find((x) => x.path.startsWith("raw KV sets, spread"));
  o.push(
    `| Durable batched appends vs raw KV sets of the same run: ≥ 0.6× over 10 convs, ≥ 0.5× the spread rate over 1000 | ${
      rawOne && rawSpread
        ? `${fmt(v.durableRatio10, 2)}× (of ${fmt(rawOne.perSec, 0)}/s); ${
          fmt(v.durableRatio1000, 2)
        }× (of ${fmt(rawSpread.perSec, 0)}/s)`
        : r.durable.error ?? "not run"
    } | ${yes(v.durableRatios)} |`,
  );
  const idle = r.idle.w1.result;
  o.push(
    `| Idle logged-in connections ≤ 24 KiB RSS each | ${
      idle
        ? `${idle.connections.toLocaleString("en-US")} connections: ${
          fmt(idle.perConnKiB, 1)
        } KiB (${fmt((idle.perConnKiB * 1024) / 1000, 1)} kB decimal) each`
        : fail(r.idle.w1)
    } | ${yes(v.idle)} |`,
  );
  const idleRef = r.idle.reference.result;
  o.push(
    `| Connect: server CPU per hello ≤ 3× the reference server's per connect | ${
      idle && idleRef
        ? `${fmt((idle.serverCpuS / idle.connections) * 1e6, 0)} µs vs ${
          fmt((idleRef.serverCpuS / idleRef.connections) * 1e6, 0)
        } µs = ${fmt(v.helloRatio, 2)}×`
        : fail(r.idle.w1)
    } | ${yes(v.hello)} |`,
  );
  const fl = r.flood?.result;
  o.push(
    `| ${
      fl ? fl.connections.toLocaleString("en-US") : "25,000"
    } idle or trickling connections: server up, /healthz within 1 s during and after | ${
      fl
        ? `alive ${fl.alive}; /healthz during max ${
          ms(fl.healthDuring.max)
        } (${fl.healthDuring.failed} failed), after max ${
          ms(fl.healthAfter.max)
        } (${fl.healthAfter.failed} failed)`
        : r.flood
        ? fail(r.flood)
        : "not run"
    } | ${yes(v.flood)} |`,
  );
  const st = r.storm.result;
  o.push(
    `| Reconnect storm: all have every message within 5 s, none lost or doubled | ${
      st
        ? `${st.clients} clients, ${st.acked} msgs: all complete after ${
          st.allCompleteMs === null ? "never (timed out)" : ms(st.allCompleteMs)
        }; incomplete ${st.incomplete}, lost ${st.lost}, doubled ${st.doubled}`
        : fail(r.storm)
    } | ${yes(v.storm)} |`,
  );
  const r2 = r.room.w2.result, d2 = r.dm.w2.result;
  o.push(
    `| Scale: 2 isolates vs 1, same load (ratio reported) | ${
      r2 && room
        ? `room p99 ${fmt(r2.latency.p99 / room.latency.p99, 2)}×, CPU/msg ${
          fmt(r2.cpuPerDeliveredUs / room.cpuPerDeliveredUs, 2)
        }×`
        : "room n/a"
    }; ${
      d2 && dm
        ? `DM p99 ${fmt(d2.latency.p99 / dm.latency.p99, 2)}×, CPU/msg ${
          fmt(d2.cpuPerDeliveredUs / dm.cpuPerDeliveredUs, 2)
        }×`
        : "DM n/a"
    } | reported |`,
  );
  if (notes.length) {
    o.push(
      "",
      "## What limits the numbers (missed or borderline targets)",
      "",
      ...notes.map((n) => `- ${n}`),
    );
  }

  o.push("", "## Room fan-out", "");
  o.push(
    `One group, every member connected with a real session; ${r.params.roomRate} msg/s for ${r.params.roomSeconds} s, sent round-robin by ${r.params.roomSenders} members (the per-user limit is 10/s). Every message goes to every member, the sender included. Latency: the send time is in the text; measured at every other member. The reference server is plain Deno WebSocket broadcast (bench/reference_server.ts): no auth, no storage, one JSON frame serialized once per message.`,
    "",
  );
  o.push(
    "| server | members | acked/sent | delivered | lost / doubled | latency p50 / p99 / max (ms) | server CPU | server CPU per delivered msg | load-gen CPU | other (cores) |",
  );
  o.push("|---|---|---|---|---|---|---|---|---|---|");
  o.push(
    roomLine("reference", r.room.reference),
    roomLine("HappyChat, WORKERS=1", r.room.w1),
    roomLine("HappyChat, WORKERS=2", r.room.w2),
    ...(r.room.guarded ? [roomLine("HappyChat, WORKERS=1, CONN_GUARD=1", r.room.guarded)] : []),
  );
  if (room) o.push("", `HappyChat WORKERS=1 ack latency (send → durable ack): ${lat(room.ack)}.`);

  o.push("", "## DM pairs", "");
  o.push(
    `${r.params.dmUsers} users in ${
      Number(r.params.dmUsers) / 2
    } DMs, each sending ${r.params.dmRate} msg/s for ${r.params.dmSeconds} s (evenly staggered). Latency is send → the peer's receipt.`,
    "",
  );
  o.push(
    ...runLines(
      [["WORKERS=1", r.dm.w1], ["WORKERS=2", r.dm.w2]],
      (d, x) =>
        `acked ${d.acked}/${d.sent}, delivered ${
          d.delivered.toLocaleString("en-US")
        }, lost ${d.lost}, doubled ${d.doubled}, errors ${JSON.stringify(d.errors)}; latency ${
          lat(d.latency)
        }; ack ${lat(d.ack)}; server CPU ${fmt(d.serverCpuS, 2)} s = ${
          fmt(d.cpuPerDeliveredUs, 1)
        } µs per delivered msg; load-gen CPU ${fmt(d.loadgenCpuS, 2)} s.${other(x)}`,
    ),
  );

  o.push("", "## DM capacity", "");
  if (r.dmcap) {
    o.push(
      `The DM pairs load at rising total send rates, ${
        r.params.dmCapSeconds ?? "?"
      } s each, until a step is not held (p99 over 50 ms, or anything lost, doubled or refused). Each step connects every user afresh.`,
      "",
    );
    const stepTxt = (s: DmStep) =>
      `${s.rate.toLocaleString("en-US")}/s: p99 ${ms(s.p99)}${
        s.lost || s.doubled || s.errors
          ? `, lost ${s.lost}, doubled ${s.doubled}, refused ${s.errors}`
          : ""
      }${
        s.serverCores !== undefined
          ? ` (cores: server ${fmt(s.serverCores, 2)}, load gen ${fmt(s.loadgenCores ?? NaN, 2)})`
          : ""
      }${s.held ? "" : " (not held)"}`;
    o.push(
      ...runLines<DmCapacity>(
        [["WORKERS=1", r.dmcap.w1], ["WORKERS=2", r.dmcap.w2]],
        (c, x) =>
          `${c.users} users; capacity ${c.atTop ? "at least " : ""}${
            c.capacity.toLocaleString("en-US")
          } msg/s. ${c.steps.map(stepTxt).join("; ")}.${other(x)}`,
      ),
    );
  } else o.push("- not run");
  o.push("", "## Durable send throughput (in one process)", "");
  o.push(
    `Messages appended with the membership check, idempotency key, per-conversation seq and (batched path) fan-out event, on a KV file; a message counts when its commit has resolved. Conversations have two members; messages go round-robin over them.`,
    "",
  );
  o.push(
    "| path | conversations | messages | in flight | seconds | msg/s | CPU s (whole process) |",
    "|---|---|---|---|---|---|---|",
  );
  for (const x of r.durable.rows) {
    o.push(
      `| ${x.path} | ${x.convs} | ${x.messages.toLocaleString("en-US")} | ${x.inFlight} | ${
        fmt(x.seconds, 2)
      } | ${fmt(x.perSec, 0)} | ${fmt(x.cpuS, 2)} |`,
    );
  }
  if (r.durable.error) o.push("", `Failed: \`${r.durable.error}\``);

  o.push("", "## Idle logged-in connections", "");
  o.push(
    `Each connection has a real session, said hello and got "resumed", then sits idle. Per connection = (server RSS 3 s after the last hello − RSS before the first connect) / connections, in KiB (the "kB" of /proc VmRSS). The reference server's number is what Deno's own WebSocket server costs per connection.`,
    "",
  );
  o.push(...runLines(
    [
      ["HappyChat, WORKERS=1", r.idle.w1],
      ...(r.idle.guarded ? [["HappyChat, WORKERS=1, CONN_GUARD=1", r.idle.guarded]] : []),
      ["reference server", r.idle.reference],
    ] as [string, Run<IdleResult>][],
    (d, x) =>
      `${d.connections.toLocaleString("en-US")} connections in ${fmt(d.connectSeconds, 1)} s; RSS ${
        fmt(d.rssBeforeMiB, 1)
      } → ${fmt(d.rssAfterMiB, 1)} MiB = ${
        fmt(d.perConnKiB, 1)
      } KiB per connection (total RSS / connections: ${
        fmt((d.rssAfterMiB * 1024) / d.connections, 1)
      } KiB; load generator: ${
        fmt(d.loadgenPerConnKiB, 1)
      } KiB per client socket); server CPU for the connects ${fmt(d.serverCpuS, 2)} s.${other(x)}`,
  ));

  o.push("", "## Reconnect storm", "");
  if (st) {
    o.push(
      `${st.clients} members of one group (plus ${r.params.stormSenders} connected senders) drop their sockets; ${st.sent} messages are sent over about a second; halfway through, all ${st.clients} reconnect at once, each resuming from the last seq it saw. Measured from the start of the storm.`,
      "",
    );
    o.push(
      `- Acked ${st.acked}/${st.sent}; every client had every message after ${
        st.allCompleteMs === null ? "— (not within the wait)" : ms(st.allCompleteMs)
      }; per client: ${lat(st.perClient)}; hello answered ("resumed", after the replay): ${
        lat(st.resumed)
      }.`,
    );
    o.push(
      `- Incomplete clients ${st.incomplete}, messages lost ${st.lost}, doubled ${st.doubled}; failed connect attempts ${st.failedConnectAttempts} (retried), never reconnected ${st.neverReconnected}.`,
    );
    o.push(
      `- ${
        st.frames.toLocaleString("en-US")
      } message frames reached the clients (senders included); server CPU ${
        fmt(st.serverCpuS, 2)
      } s, load-generator CPU ${fmt(st.loadgenCpuS, 2)} s from the drop to the end.${
        other(r.storm)
      }`,
    );
  } else o.push(`- ${fail(r.storm)}`);
  o.push("", "## Connection flood", "");
  if (fl) {
    o.push(
      `Attacker processes open ${fl.connections.toLocaleString("en-US")} TCP connections from ${
        Math.ceil(fl.connections / Number(r.params.floodPerAddress ?? 100))
      } loopback addresses (${
        r.params.floodPerAddress ?? 100
      } each): half send nothing, half send a request head one header line every 10 s. Meanwhile /healthz is asked on a new connection every 200 ms; then the attackers close and /healthz is asked 20 more times. The server runs with its defaults (the connection guard on, its total cap measured from the descriptor limit).`,
      "",
      `- Attacker sockets open at once, at most: ${
        fl.attackersOpenPeak.toLocaleString("en-US")
      }; server still running: ${fl.alive}.`,
      `- /healthz during: ${lat(fl.healthDuring)}, failed ${fl.healthDuring.failed}; after: ${
        lat(fl.healthAfter)
      }, failed ${fl.healthAfter.failed}.${
        fl.failures?.length ? ` Failed probes: ${fl.failures.join("; ")}.` : ""
      }${fl.slow?.length ? ` Probes over 250 ms: ${fl.slow.join("; ")}.` : ""}${
        fl.listenOverflows === undefined
          ? ""
          : ` Handshakes the kernel dropped meanwhile (TcpExtListenOverflows + ListenDrops): ${
            fl.listenOverflows.toLocaleString("en-US")
          }.`
      }`,
      `- Server RSS ${fmt(fl.rssBeforeMiB, 1)} → peak ${fmt(fl.rssPeakMiB, 1)} → after ${
        fmt(fl.rssAfterMiB, 1)
      } MiB.`,
      `- Guard counters: ${
        Object.entries(fl.guard).map(([k, n]) => `${k} ${n.toLocaleString("en-US")}`).join(", ")
      }.${other(r.flood!)}`,
    );
  } else o.push(`- ${r.flood ? fail(r.flood) : "not run"}`);
  if (!r.quick) o.push(...soakSection(), ...lighthouseSection());
  o.push("");
  return o.join("\n");
}

/**
 * "## Soak" from the newest `deno task soak` (bench/out/soak.json, its own run, not this one's),
 * or nothing when there is none.
 */
function soakSection(): string[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(new URL("./out/soak.json", import.meta.url));
  } catch {
    return [];
  }
  try {
    const s = JSON.parse(text) as SoakSummary;
    const lines = renderSoak(
      s,
      "From bench/out/soak.json: the newest `deno task soak`, a run of its own (its date, code and command below), not part of this bench run.",
    );
    while (lines.at(-1) === "") lines.pop();
    return ["", ...lines];
  } catch (err) {
    return [
      "",
      "## Soak",
      "",
      `- bench/out/soak.json could not be shown: \`${(err as Error).message}\``,
    ];
  }
}

/**
 * "## Lighthouse" from the newest `deno task lighthouse` (bench/out/LIGHTHOUSE.md, its own run with
 * its own date, machine and commit), or nothing when there is none.
 */
export function lighthouseSection(): string[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(new URL("./out/LIGHTHOUSE.md", import.meta.url));
  } catch {
    return [];
  }
  const body = text.replace(/^# Lighthouse \S+\n/, "").trim().replace(/^#/gm, "##");
  return [
    "",
    "## Lighthouse",
    "",
    "From bench/out/LIGHTHOUSE.md: the newest `deno task lighthouse`, a run of its own (its date, code and command below), not part of this bench run.",
    "",
    ...body.split("\n"),
  ];
}
