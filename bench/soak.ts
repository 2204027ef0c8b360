/**
 * `deno task soak [--messages=100000] [--rate=250] [--users=300] [--disconnect-every=200]
 * [--kills=2] [--down=1500] [--seed=N]`: two HappyChat processes on one KV file (like two hosts),
 * a few hundred users with 1–2 devices each on a random one of them, DMs and groups, a steady
 * stream of messages; devices dropped at random (cleanly or by cutting the connection) and
 * reconnecting, resuming and re-sending like the browser client; servers killed with SIGKILL and
 * restarted on their port. At the end every device is compared with the log read from the KV file:
 * nothing lost, nothing twice, order kept. Writes bench/out/soak.json and bench/out/SOAK.md;
 * exits 1 when anything was lost, doubled or out of order, 2 when the watchdog ended the run.
 * Not part of `deno task test` or `deno task bench`.
 */
import { say } from "../lib/log.ts";
import { keys } from "../lib/kv/keys.ts";
import type { Message } from "../lib/wire/protocol.ts";
import type { ConvHead } from "../lib/chat/conversations.ts";
import { gitCommit, ROOT, type ServerProc, startHappyChat } from "./procs.ts";
import { seedDms, type SeededUser, seedGroup, seedUsers } from "./seed.ts";
import {
  cpuSeconds,
  Latencies,
  machineInfo,
  nowMs,
  otherCpuMeter,
  sleep,
  waitForQuiet,
} from "./stats.ts";
import {
  type ConnRecord,
  type Counters,
  type Ctx,
  Device,
  type ServerSlot,
} from "./soak_device.ts";
import { renderSoak, type SoakSummary } from "./soak_report.ts";

function flag(name: string, def: number): number {
  const raw = Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (raw === undefined) return def;
  const n = Number(raw.replaceAll("_", ""));
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} wants a number, got "${raw}"`);
  return n;
}

const P = {
  messages: flag("messages", 100_000),
  /** Messages per second over all users (each user at most 3/s; the server allows 10/s). */
  rate: flag("rate", 250),
  users: flag("users", 300),
  /** Server processes on the one KV file (1 shows what a single process does with the same load). */
  servers: Math.max(1, flag("servers", 2)),
  disconnectEveryMs: flag("disconnect-every", 200),
  kills: flag("kills", 2),
  downMs: flag("down", 1500),
  /** How long the end waits for every device to have everything (ms). */
  settleMs: flag("settle", 120_000),
  seed: flag("seed", Date.now() % 1_000_000),
};
const PER_USER_PER_SEC = 3;

/** A small seeded PRNG (mulberry32), so the conversations of a run can be made again. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rng = mulberry32(P.seed);
const pick = <T>(xs: T[]): T => xs[Math.floor(rng() * xs.length)];
function shuffle<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const started = Date.now();
const runId = started.toString(36);
const kvPath = `${ROOT}/data/soak-${runId}.sqlite3`;
const command = `deno task soak${Deno.args.length ? " " + Deno.args.join(" ") : ""}`;

// ---- servers, CPU accounting, cleanup, watchdog -------------------------------------------------

interface ProcEntry {
  proc: ServerProc;
  /** CPU seconds at the last sample (a killed process's /proc entry is gone). */
  cpu: number;
  dead: boolean;
}
const procs: ProcEntry[] = [];
const slots: (ServerSlot & { entry?: ProcEntry; gen?: number })[] = [];

function sampleCpu(): void {
  for (const e of procs) {
    if (e.dead) continue;
    try {
      e.cpu = e.proc.cpu();
    } catch { /* exited between samples */ }
  }
}
const serversCpu = () => procs.reduce((n, e) => n + e.cpu, 0);

function track(proc: ServerProc): ProcEntry {
  const e = { proc, cpu: 0, dead: false };
  procs.push(e);
  sampleCpu();
  return e;
}

async function removeKv(): Promise<void> {
  for (const f of [kvPath, `${kvPath}-wal`, `${kvPath}-shm`]) await Deno.remove(f).catch(() => {});
}

type Timer = ReturnType<typeof setTimeout>;
const timers = new Set<Timer>();
const devices: Device[] = [];

async function cleanup(): Promise<void> {
  for (const t of timers) {
    clearTimeout(t);
    clearInterval(t);
  }
  timers.clear();
  for (const d of devices) d.shutdown();
  await Promise.all(
    procs.filter((e) => !e.dead).map(async (e) => {
      await e.proc.stop();
      e.dead = true;
    }),
  );
  await removeKv();
}

const WATCHDOG_MS = 10 * 60_000 + 3 * (P.messages / Math.max(1, P.rate)) * 1000 + P.settleMs;
/** Ends the run at once: the servers killed, the KV file removed. */
async function abort(why: string, code: number): Promise<never> {
  say(`soak: ${why}, stopping`);
  ctxStop();
  for (const e of procs) {
    try {
      if (!e.dead) Deno.kill(e.proc.pid, "SIGKILL");
    } catch { /* gone */ }
  }
  await Promise.race([cleanup(), sleep(15_000)]);
  await removeKv();
  Deno.exit(code);
}

const watchdog = setTimeout(
  () => abort(`watchdog — still running after ${(WATCHDOG_MS / 60_000).toFixed(1)} min`, 2),
  WATCHDOG_MS,
);
Deno.unrefTimer(watchdog);
// Ctrl-C or a kill: the servers are processes of their own and would outlive this one.
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(sig, () => abort(sig, 130));
}

// ---- the run -----------------------------------------------------------------------------------

const problems: string[] = [];
let problemCount = 0;
function problem(text: string): void {
  problemCount++;
  if (problems.length < 60) problems.push(text);
  if (problemCount <= 20) say(`soak: ${text}`);
}

const counters: Counters = {
  sendFrames: 0,
  resends: 0,
  acked: 0,
  repeatAcks: 0,
  resendsDeduped: 0,
  ackTimeouts: 0,
  errors: new Map(),
  connects: 0,
  connectFailures: 0,
  resumes: 0,
  disconnectsClean: 0,
  disconnectsAbrupt: 0,
  closedByServer: 0,
  gaps: 0,
  historyPages: 0,
  doubled: 0,
  outOfOrder: 0,
  connHoles: 0,
  belowResume: 0,
  conflicts: 0,
};
const ctx: Ctx = {
  t0: 0,
  rng,
  servers: slots,
  soakConvs: new Set(),
  sent: new Map(),
  observed: new Map(),
  maxAcked: new Map(),
  counters,
  latency: new Latencies(),
  latencySame: new Latencies(),
  latencyCross: new Latencies(),
  latencyCalm: new Latencies(),
  killWindows: [],
  ackLatency: new Latencies(),
  stopping: false,
  problem,
  harnessError: (text: string) => {
    harnessErrors++;
    problem(text);
  },
};
function ctxStop(): void {
  ctx.stopping = true;
}

const rel = (t: number) => ((t - ctx.t0) / 1000).toFixed(1);

interface ConvInfo {
  id: string;
  kind: "dm" | "group";
  members: number[];
}
const convs = new Map<string, ConvInfo>();
const userConvs: string[][] = [];
const userDevices: Device[][] = [];
const kills: SoakSummary["kills"] = [];
let created = 0;
let sendSeconds = 0;
let summary: SoakSummary | null = null;
let loadgenLag: SoakSummary["loadgenLag"] | null = null;
/** The soak's own failures (a restart that failed, a frame handler that threw): the run fails. */
let harnessErrors = 0;

try {
  await Deno.mkdir(`${ROOT}/data`, { recursive: true });
  await Deno.mkdir(`${ROOT}/bench/out`, { recursive: true });
  say(`soak: seed ${P.seed}; seeding ${P.users} users into ${kvPath} …`);
  const kv = await Deno.openKv(kvPath);
  const users: SeededUser[] = shuffle(await seedUsers(kv, P.users, "soak"));
  const index = new Map(users.map((u, i) => [u.id, i]));
  for (let i = 0; i < users.length; i++) userConvs.push([]);
  // Two DMs per user: pairs (0,1), (2,3), … and (1,2), (3,4), …
  for (const round of [users, [...users.slice(1), users[0]]]) {
    const pairs = round.slice(0, round.length - (round.length % 2));
    const ids = await seedDms(kv, pairs);
    ids.forEach((id, i) => {
      if (convs.has(id)) return;
      const members = [index.get(pairs[2 * i].id)!, index.get(pairs[2 * i + 1].id)!];
      convs.set(id, { id, kind: "dm", members });
      for (const m of members) userConvs[m].push(id);
    });
  }
  // Groups of 5–50 until the users are in 1.5 groups on average.
  const groupSizes: number[] = [];
  let memberships = 0;
  while (memberships < 1.5 * users.length) {
    const size = Math.min(users.length, 5 + Math.floor(rng() * 46));
    const members = shuffle(users.map((_, i) => i)).slice(0, size);
    const id = await seedGroup(kv, `soak ${groupSizes.length}`, members.map((i) => users[i]));
    convs.set(id, { id, kind: "group", members });
    for (const m of members) userConvs[m].push(id);
    groupSizes.push(size);
    memberships += size;
  }
  kv.close();
  for (const c of convs.keys()) {
    ctx.soakConvs.add(c);
    ctx.observed.set(c, new Map());
  }
  const dmCount = [...convs.values()].filter((c) => c.kind === "dm").length;
  say(
    `soak: ${users.length} users, ${dmCount} DMs, ${groupSizes.length} groups (${
      groupSizes.join(", ")
    } members)`,
  );

  // The servers on the one KV file.
  for (const name of "ABCDEFGH".slice(0, P.servers)) {
    const proc = await startHappyChat(kvPath, 1);
    const entry = track(proc);
    slots.push({ name, port: proc.port, origin: proc.origin, entry });
  }
  say(
    `soak: servers ${
      slots.map((x) => `${x.name} on ${x.port}`).join(", ")
    }; waiting for a quiet machine …`,
  );
  await waitForQuiet(0.25, 20_000);

  // Devices: 1–2 per user.
  let deviceCount = 0;
  users.forEach((u, i) => {
    const n = rng() < 0.5 ? 1 : 2;
    userDevices.push([]);
    for (let k = 0; k < n; k++) {
      const d = new Device(ctx, deviceCount++, i, u.token, userConvs[i]);
      d.name = `u${i}d${k}`;
      devices.push(d);
      userDevices[i].push(d);
    }
  });
  ctx.t0 = nowMs();
  const tick = setInterval(() => {
    for (const d of devices) d.tick();
  }, 250);
  timers.add(tick);
  const sampler = setInterval(sampleCpu, 1000);
  timers.add(sampler);
  for (let i = 0; i < devices.length; i += 50) {
    for (const d of devices.slice(i, i + 50)) d.connect();
    await sleep(100);
  }
  const connectedBy = nowMs() + 60_000;
  while (devices.some((d) => d.state !== "ready") && nowMs() < connectedBy) await sleep(100);
  const notReady = devices.filter((d) => d.state !== "ready").length;
  if (notReady) throw new Error(`${notReady} of ${devices.length} devices did not connect`);
  say(`soak: ${devices.length} devices connected in ${rel(nowMs())} s`);

  // ---- sending, random drops, kills ----
  const other = otherCpuMeter(serversCpu);
  const lg0 = cpuSeconds("self");
  const recent = users.map(() => [0, 0, 0]);
  const cidOf = (n: number) => `s${runId}-${n.toString(36)}`;
  const killAt = Array.from(
    { length: P.kills },
    (_, k) => Math.floor((P.messages * (k + 1)) / (P.kills + 1)),
  );
  const killing: Promise<void>[] = [];

  /** Makes one message on `device` or on a random user's device; false when all are at 3/s. */
  const createOne = (device?: Device): boolean => {
    let d = device;
    if (!d) {
      const t = nowMs();
      for (let tries = 0; tries < 20 && !d; tries++) {
        const u = Math.floor(rng() * users.length);
        // At most 3 a second per user: the oldest of its last 3 sends must be a second old.
        if (t - Math.min(...recent[u]) >= 1000 / PER_USER_PER_SEC * 3) d = pick(userDevices[u]);
      }
      if (!d) return false;
    }
    const u = d.userIndex;
    const r = recent[u];
    r[r.indexOf(Math.min(...r))] = nowMs();
    d.create(pick(userConvs[u]), cidOf(created));
    created++;
    for (let k = 0; k < killAt.length; k++) {
      if (created === killAt[k]) {
        killing.push(
          killServer(k % slots.length).catch((err) => {
            harnessErrors++;
            problem(`kill/restart of server ${slots[k % slots.length].name} failed: ${err}`);
          }),
        );
      }
    }
    return true;
  };

  const killServer = async (i: number): Promise<void> => {
    const slot = slots[i];
    const entry = slot.entry!;
    const dropped = devices.filter((d) => d.conn?.rec.server === slot.name).length;
    const t = nowMs();
    ctx.killWindows.push([t, t + 15_000]);
    sampleCpu();
    say(
      `soak: SIGKILL server ${slot.name} (pid ${entry.proc.pid}) at ${
        rel(t)
      } s, ${dropped} devices on it`,
    );
    try {
      Deno.kill(entry.proc.pid, "SIGKILL");
    } catch { /* gone */ }
    await entry.proc.stop();
    entry.dead = true;
    // Whatever connects to the port from now on reaches the new process (A, then A2, A3, …).
    const was = slot.name;
    slot.gen = (slot.gen ?? 1) + 1;
    slot.name = `${was[0]}${slot.gen}`;
    await sleep(P.downMs);
    const proc = await startHappyChat(kvPath, 1, {}, slot.port);
    slot.entry = track(proc);
    const restartMs = nowMs() - t;
    kills.push({
      server: was,
      atS: (t - ctx.t0) / 1000,
      devicesDropped: dropped,
      downMs: P.downMs,
      restartMs,
    });
    say(`soak: server ${was} back as ${slot.name} after ${(restartMs / 1000).toFixed(1)} s`);
  };

  // --disconnect-every=0: no random drops.
  const chaos = P.disconnectEveryMs > 0
    ? setInterval(() => {
      for (let tries = 0; tries < 10; tries++) {
        const d = pick(devices);
        const conn = d.conn;
        if (!conn) continue;
        const r = rng();
        if (r < 0.5) d.drop("clean");
        else if (r < 0.75 && d.state === "ready" && created < P.messages) {
          // Mid-stream: a send goes out, and the connection is cut 0–20 ms later.
          createOne(d);
          const t = setTimeout(() => {
            timers.delete(t);
            if (d.conn === conn) d.drop("abort");
          }, rng() * 20);
          timers.add(t);
        } else d.drop("abort");
        return;
      }
    }, P.disconnectEveryMs)
    : undefined;
  if (chaos !== undefined) timers.add(chaos);

  // The load generator's own event-loop lag: its latency figures are only as good as this.
  const lag = new Latencies();
  let lagPrev = nowMs();
  const lagTimer = setInterval(() => {
    const t = nowMs();
    lag.add(Math.max(0, t - lagPrev - 100));
    lagPrev = t;
  }, 100);
  timers.add(lagTimer);
  const sendStart = nowMs();
  let lastLog = sendStart;
  say(`soak: sending ${P.messages} messages at ${P.rate}/s …`);
  while (created < P.messages) {
    const due = Math.min(P.messages, Math.floor(((nowMs() - sendStart) * P.rate) / 1000) + 1);
    while (created < due && createOne());
    await sleep(10);
    if (nowMs() - lastLog > 10_000) {
      lastLog = nowMs();
      sampleCpu();
      say(
        `soak: ${rel(lastLog)} s: sent ${created}, acked ${counters.acked}, drops ${
          counters.disconnectsClean + counters.disconnectsAbrupt
        }, resumes ${counters.resumes}, errors ${
          JSON.stringify(Object.fromEntries(counters.errors))
        }, problems ${problemCount}`,
      );
    }
  }
  sendSeconds = (nowMs() - sendStart) / 1000;
  if (chaos !== undefined) {
    clearInterval(chaos);
    timers.delete(chaos);
  }
  await Promise.all(killing);
  say(
    `soak: all ${created} sent in ${
      sendSeconds.toFixed(0)
    } s; waiting for every device to settle …`,
  );

  // ---- settle: every device connected, nothing pending, has up to the newest acked seq ----
  const settleBy = nowMs() + P.settleMs;
  while (nowMs() < settleBy && !devices.every((d) => d.settled())) await sleep(200);
  const unsettled = devices.filter((d) => !d.settled());
  if (unsettled.length) {
    problem(
      `${unsettled.length} devices not settled after ${P.settleMs / 1000} s, e.g. ${
        unsettled.slice(0, 5).map((d) =>
          `${d.name} (${d.state}, ${d.pending.size} pending, ${d.fills.size} fills)`
        ).join(", ")
      }`,
    );
  }
  await sleep(1000);
  clearInterval(lagTimer);
  timers.delete(lagTimer);
  loadgenLag = lag.summary();
  sampleCpu();
  const otherCores = other().otherCores;
  const loadgenS = cpuSeconds("self") - lg0;
  const settledAt = nowMs();

  // ---- stop, then read the log from the KV file ----
  ctx.stopping = true;
  clearInterval(tick);
  timers.delete(tick);
  for (const d of devices) d.shutdown();
  await sleep(500);
  sampleCpu();
  const serversS = serversCpu();
  clearInterval(sampler);
  timers.delete(sampler);
  await Promise.all(
    procs.filter((e) => !e.dead).map(async (e) => {
      await e.proc.stop();
      e.dead = true;
    }),
  );
  say(`soak: settled at ${rel(settledAt)} s; servers stopped; reading the log …`);

  const check: SoakSummary["check"] = {
    convs: convs.size,
    logMessages: 0,
    logHoles: 0,
    lostStored: 0,
    doubledStored: 0,
    unacked: 0,
    unexpected: 0,
    devices: devices.length,
    deviceMessages: 0,
    lostDelivered: 0,
    mismatched: 0,
    doubledDelivered: counters.doubled,
    outOfOrder: counters.outOfOrder,
    connHoles: counters.connHoles,
    belowResume: counters.belowResume,
    lostByPath: {},
    lostTail: 0,
  };
  const kv2 = await Deno.openKv(kvPath);
  const logs = new Map<string, Map<number, Message>>();
  const heads = new Map<string, number>();
  const byCid = new Map<string, Message[]>();
  for (const c of convs.keys()) {
    const head = (await kv2.get<ConvHead>(keys.convHead(c))).value?.seq ?? 0;
    heads.set(c, head);
    const log = new Map<number, Message>();
    for await (const e of kv2.list<Message>({ prefix: keys.msgs(c) })) {
      log.set(e.key[2] as number, e.value);
    }
    logs.set(c, log);
    check.logMessages += log.size;
    const top = Math.max(head, maxKey(log));
    if (top !== head) problem(`log: ${c} has messages up to seq ${top} but its head says ${head}`);
    const holes: number[] = [];
    for (let s = 1; s <= top; s++) if (!log.has(s)) holes.push(s);
    if (holes.length) {
      check.logHoles += holes.length;
      problem(`log: ${c} lacks seqs ${holes.slice(0, 20).join(", ")} (head ${head})`);
    }
    for (const [seq, m] of log) {
      if (m.seq !== seq || m.conv !== c) {
        problem(`log: ${c} key seq ${seq} holds ${m.conv} ${m.seq}`);
      }
      const info = m.cid ? ctx.sent.get(m.cid) : undefined;
      if (!info || m.kind !== "text") {
        check.unexpected++;
        problem(`log: ${c} seq ${seq} was not sent by any device (${m.kind}, cid ${m.cid})`);
        continue;
      }
      const list = byCid.get(m.cid!) ?? [];
      list.push(m);
      byCid.set(m.cid!, list);
    }
    // What devices saw against the log.
    const obs = ctx.observed.get(c)!;
    for (const [seq, id] of obs) {
      const m = log.get(seq);
      if (!m || m.id !== id) {
        check.mismatched++;
        problem(`${c} seq ${seq}: devices saw message ${id}, the log has ${m?.id ?? "nothing"}`);
      }
    }
  }
  kv2.close();
  for (const [cid, info] of ctx.sent) {
    const stored = byCid.get(cid) ?? [];
    if (stored.length > 1) {
      check.doubledStored += stored.length - 1;
      problem(
        `stored twice: cid ${cid} (${info.conv}) at seqs ${stored.map((m) => m.seq).join(", ")}`,
      );
    }
    if (!info.seq) {
      check.unacked++;
      if (!stored.length) {
        check.lostStored++;
        problem(
          `never acked and not stored: cid ${cid} in ${info.conv}${
            info.refused ? ` (refused: ${info.refused})` : ""
          }`,
        );
      } else problem(`never acked but stored: cid ${cid} in ${info.conv} at seq ${stored[0].seq}`);
      continue;
    }
    if (!stored.some((m) => m.seq === info.seq && m.conv === info.conv)) {
      check.lostStored++;
      problem(
        `acked but not in the log at its seq: cid ${cid} in ${info.conv}, acked seq ${info.seq} via ${info.ackedVia}, stored at ${
          stored.map((m) => m.seq).join(", ") || "nothing"
        }`,
      );
    }
  }
  // Every device against the log: (baseline, head] merged by seq.
  const lostByDevice: string[] = [];
  for (const d of devices) {
    for (const c of d.convs) {
      const head = heads.get(c)!, log = logs.get(c)!;
      const base = d.baseline.get(c) ?? 0;
      const bits = d.held.get(c);
      const missing: number[] = [];
      for (let s = base + 1; s <= head; s++) {
        check.deviceMessages++;
        if (!bits?.has(s)) missing.push(s);
      }
      const top = d.highest.get(c) ?? 0;
      for (let s = head + 1; s <= top; s++) {
        if (bits?.has(s) && !log.has(s)) {
          check.mismatched++;
          problem(`${d.name} holds ${c} seq ${s}, which the log does not have`);
        }
      }
      if (!missing.length) continue;
      check.lostDelivered += missing.length;
      // The run of missing seqs that ends at the head (nothing newer arrived after them).
      let k = missing.length - 1;
      if (missing[k] === head) {
        while (k > 0 && missing[k - 1] === missing[k] - 1) k--;
        check.lostTail += missing.length - k;
      }
      for (const seq of missing) {
        const path = lostPath(d, log.get(seq));
        check.lostByPath[path] = (check.lostByPath[path] ?? 0) + 1;
      }
      if (lostByDevice.length < 30) lostByDevice.push(describeLost(d, c, missing, log));
    }
  }
  for (const x of lostByDevice) problem(x);

  const lost = check.lostStored + check.lostDelivered;
  const doubled = check.doubledStored + check.doubledDelivered;
  const ok = lost === 0 && doubled === 0 && check.outOfOrder === 0 && check.logHoles === 0 &&
    check.unacked === 0 && check.unexpected === 0 && check.mismatched === 0 &&
    counters.conflicts === 0 && harnessErrors === 0;
  summary = {
    ok,
    startedAt: new Date(started).toISOString(),
    command,
    commit: await gitCommit(),
    denoVersion: Deno.version.deno,
    machine: machineInfo(),
    seconds: (Date.now() - started) / 1000,
    sendSeconds,
    params: {
      servers: P.servers,
      messages: P.messages,
      rate: P.rate,
      users: users.length,
      devices: devices.length,
      dms: dmCount,
      groups: groupSizes.length,
      groupSizes,
      disconnectEveryMs: P.disconnectEveryMs,
      kills: P.kills,
      downMs: P.downMs,
      seed: P.seed,
    },
    messages: {
      sent: created,
      sendFrames: counters.sendFrames,
      resends: counters.resends,
      acked: counters.acked,
      repeatAcks: counters.repeatAcks,
      resendsDeduped: counters.resendsDeduped,
      ackTimeouts: counters.ackTimeouts,
      errors: Object.fromEntries(counters.errors),
    },
    connections: {
      disconnectsClean: counters.disconnectsClean,
      disconnectsAbrupt: counters.disconnectsAbrupt,
      closedByServer: counters.closedByServer,
      connectFailures: counters.connectFailures,
      resumes: counters.resumes,
      gaps: counters.gaps,
    },
    kills,
    check,
    lost,
    doubled,
    outOfOrder: check.outOfOrder,
    latency: ctx.latency.summary(),
    latencySameServer: ctx.latencySame.summary(),
    latencyCrossServer: ctx.latencyCross.summary(),
    latencyCalm: ctx.latencyCalm.summary(),
    loadgenLag: loadgenLag!,
    ackLatency: ctx.ackLatency.summary(),
    cpu: { serversS, loadgenS, otherCores },
    problems: problemCount > problems.length
      ? [...problems, `… ${problemCount - problems.length} more`]
      : problems,
  };
} catch (err) {
  say(`soak: failed: ${(err as Error).stack ?? err}`);
} finally {
  ctx.stopping = true;
  await cleanup();
  clearTimeout(watchdog);
}

function maxKey(m: Map<number, unknown>): number {
  let top = 0;
  for (const k of m.keys()) if (k > top) top = k;
  return top;
}

/**
 * "sender's server → receiver's server" for a message a device lacks: the server its sender's
 * send went through, and the one the device was connected to when it was stored (or, when it was
 * between connections then, the one it connected to next).
 */
function lostPath(d: Device, m?: Message): string {
  if (!m) return "?";
  const via = (m.cid ? ctx.sent.get(m.cid)?.sentVia : undefined) ?? "?";
  const t = m.at - ctx.t0;
  const rec = d.history.find((r) => r.openedAt <= t && (r.closedAt ?? Infinity) >= t);
  if (rec) return `${via} → ${rec.server}`;
  const next = d.history.find((r) => r.openedAt > t);
  return `${via} → offline, then ${next ? next.server : "never"}`;
}

/** One device's missing messages in one conversation, with what it did around them. */
function describeLost(
  d: Device,
  conv: string,
  missing: number[],
  log: Map<number, Message>,
): string {
  const ranges: string[] = [];
  for (let i = 0; i < missing.length;) {
    let j = i;
    while (j + 1 < missing.length && missing[j + 1] === missing[j] + 1) j++;
    ranges.push(i === j ? `${missing[i]}` : `${missing[i]}–${missing[j]}`);
    i = j + 1;
  }
  const first = log.get(missing[0]), last = log.get(missing.at(-1)!);
  const storedAt = (m?: Message) => (m ? `${rel(m.at)} s` : "?");
  const sender = (m?: Message) => {
    const info = m?.cid ? ctx.sent.get(m.cid) : undefined;
    return info ? `${devices[info.device].name} via ${info.ackedVia || "?"}` : "?";
  };
  const from = first ? first.at - ctx.t0 - 5000 : 0, to = last ? last.at - ctx.t0 + 5000 : 0;
  const conns = d.history.filter((r: ConnRecord) =>
    (r.closedAt ?? Infinity) >= from && r.openedAt <= to
  ).map((r) =>
    `#${r.id} on ${r.server} ${(r.openedAt / 1000).toFixed(1)}–${
      r.closedAt === undefined ? "end" : (r.closedAt / 1000).toFixed(1)
    } s (resumed ${r.resumedAt === undefined ? "never" : (r.resumedAt / 1000).toFixed(1)}, resume ${
      r.resume?.[conv] ?? "none"
    }, ended: ${r.how ?? "-"}${r.code ? ` ${r.code}` : ""})`
  );
  return `lost: ${d.name} lacks ${conv} (${convs.get(conv)?.kind}) seqs ${
    ranges.join(", ")
  } of head ${maxKey(log)}; stored ${storedAt(first)}–${storedAt(last)}, first sent by ${
    sender(first)
  }; its connections then: ${conns.join("; ") || "none"}`;
}

if (!summary) {
  say("soak: no result (see above)");
  Deno.exit(1);
}
const s = summary;
await Deno.writeTextFile(`${ROOT}/bench/out/soak.json`, JSON.stringify(s, null, 2));
const md = renderSoak(s).join("\n");
await Deno.writeTextFile(`${ROOT}/bench/out/SOAK.md`, md);
say(md);
say(`soak: wrote bench/out/soak.json and bench/out/SOAK.md (${s.seconds.toFixed(0)} s)`);
Deno.exit(s.ok ? 0 : 1);
