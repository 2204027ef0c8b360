/**
 * `deno task bench [--quick] [--only=room,dm,dmcap,durable,idle,storm,flood]`: seeds a KV file, runs every
 * scenario against HappyChat (a separate process) and the reference server, and writes
 * bench/RESULTS.md. Every loop is bounded in count and time; a watchdog ends the run regardless.
 */
import { say } from "../lib/log.ts";
import { gitCommit, ROOT, type ServerProc, startHappyChat, startReference } from "./procs.ts";
import { seedDms, seedGroup, seedUsers } from "./seed.ts";
import { runRoom } from "./room.ts";
import { runDm, runDmCapacity } from "./dm.ts";
import { runStorm } from "./storm.ts";
import { runIdle } from "./idle.ts";
import { runFlood } from "./flood.ts";
import { batched, onePerMessage, rawSets, seedConvs } from "./durable.ts";
import { renderResults, type Results, type Run } from "./report.ts";
import { limitNotes } from "./notes.ts";
import { otherCpuMeter, waitForQuiet } from "./stats.ts";

// --from=bench/out/results-….json: write RESULTS.md again from a run's saved numbers, run nothing.
const from = Deno.args.find((a) => a.startsWith("--from="))?.slice(7);
if (from) {
  const saved = JSON.parse(await Deno.readTextFile(from)) as Results;
  const file = saved.quick ? "bench/out/RESULTS-quick.md" : "bench/RESULTS.md";
  await Deno.writeTextFile(`${ROOT}/${file}`, renderResults(saved, limitNotes(saved)));
  say(`bench: wrote ${file} from ${from}`);
  Deno.exit(0);
}

const quick = Deno.args.includes("--quick");
const only = Deno.args.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const want = (s: string) => !only || only.includes(s);

const P = quick
  ? {
    room: 200,
    roomRate: 20,
    roomSeconds: 3,
    roomSenders: 20,
    dmUsers: 400,
    dmRate: 1,
    dmSeconds: 3,
    dmCapRates: [200, 400, 800],
    dmCapSeconds: 2,
    idle: 600,
    idleGuarded: 600,
    storm: 300,
    stormSenders: 10,
    stormMsgs: 50,
    durableConvs: [100],
    durableMsgs: 5000,
    onePerMsg: 1000,
    rawSets: 10000,
    flood: 3000,
    floodPerProcess: 3000,
    floodPerAddress: 100,
    floodSeconds: 5,
  }
  : {
    room: 1000,
    roomRate: 50,
    roomSeconds: 10,
    roomSenders: 50,
    dmUsers: 2000,
    dmRate: 1,
    dmSeconds: 10,
    // Total msg/s; the per-user limit (10/s) is far above the top step (4/s each).
    dmCapRates: [125, 250, 500, 750, 1000, 1500, 2000, 3000, 4000, 6000, 8000],
    dmCapSeconds: 5,
    idle: 10000,
    idleGuarded: 6000,
    storm: 2000,
    stormSenders: 20,
    stormMsgs: 200,
    durableConvs: [10, 100, 1000],
    durableMsgs: 40000,
    onePerMsg: 3000,
    rawSets: 40000,
    flood: 25000,
    // Each attacker process stays under its own descriptor limit.
    floodPerProcess: 12500,
    floodPerAddress: 100,
    floodSeconds: 20,
  };

const WATCHDOG_MS = (quick ? 3 : 15) * 60_000;
const started = Date.now();
const runId = `${started.toString(36)}`;
const kvPath = `./data/bench-${runId}.sqlite3`;
const durablePath = `./data/bench-${runId}-durable.sqlite3`;
const live = new Set<ServerProc>();

async function removeKv(path: string): Promise<void> {
  for (const f of [path, `${path}-wal`, `${path}-shm`]) {
    await Deno.remove(`${ROOT}/${f}`).catch(() => {});
  }
}

async function cleanup(): Promise<void> {
  await Promise.all([...live].map((s) => s.stop()));
  await removeKv(kvPath);
  await removeKv(durablePath);
}

const watchdog = setTimeout(async () => {
  say(`bench: watchdog — still running after ${WATCHDOG_MS / 60_000} min, stopping`);
  await cleanup();
  Deno.exit(2);
}, WATCHDOG_MS);
Deno.unrefTimer(watchdog);

/** Starts a server, waits for a quiet machine, runs the scenario, stops the server. */
async function scenario<T>(
  name: string,
  start: () => Promise<ServerProc>,
  body: (s: ServerProc) => Promise<T>,
): Promise<Run<T>> {
  say(`bench: ${name} …`);
  let server: ServerProc | null = null;
  try {
    server = await start();
    live.add(server);
    await waitForQuiet(0.25, quick ? 3000 : 20_000);
    const s = server;
    const other = otherCpuMeter(() => s.cpu());
    const result = await body(server);
    const run = { result, otherCores: other().otherCores };
    say(`bench: ${name}: ${JSON.stringify(result)}`);
    return run;
  } catch (err) {
    say(`bench: ${name} failed: ${(err as Error).stack ?? err}`);
    return { error: (err as Error).message };
  } finally {
    if (server) {
      await server.stop();
      live.delete(server);
    }
  }
}

/**
 * A partial run (--only) keeps the scenarios it did not run from the newest earlier run of the
 * same mode, so RESULTS.md stays whole; the report's header then names both runs.
 */
async function keepEarlierScenarios(r: Results, ran: string[], dir: string): Promise<void> {
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (/^results-\w+\.json$/.test(e.name)) files.push(`${dir}/${e.name}`);
  }
  const stats = await Promise.all(files.map(async (f) => ({ f, at: (await Deno.stat(f)).mtime })));
  stats.sort((a, b) => (b.at?.getTime() ?? 0) - (a.at?.getTime() ?? 0));
  for (const { f } of stats) {
    const prev = JSON.parse(await Deno.readTextFile(f)) as Results;
    if (prev.quick !== r.quick) continue;
    for (const key of ["room", "dm", "dmcap", "durable", "idle", "storm", "flood"] as const) {
      if (!ran.includes(key) && prev[key]) {
        (r as unknown as Record<string, unknown>)[key] = prev[key];
      }
    }
    r.command += ` (other scenarios from the run of ${prev.startedAt}, ${prev.commit})`;
    return;
  }
}

const results: Results = {
  quick,
  command: `deno task bench${Deno.args.length ? " " + Deno.args.join(" ") : ""}`,
  startedAt: new Date(started).toISOString(),
  seconds: 0,
  denoVersion: Deno.version.deno,
  commit: await gitCommit(),
  params: P,
  room: { reference: {}, w1: {}, w2: {} },
  dm: { w1: {}, w2: {} },
  durable: { rows: [] },
  idle: { reference: {}, w1: {} },
  storm: {},
};

try {
  say(`bench: seeding ${kvPath} …`);
  // A fresh clone has no data/ yet (the server makes it at start; the bench opens KV first).
  await Deno.mkdir(`${ROOT}/data`, { recursive: true });
  const kv = await Deno.openKv(kvPath);
  const sized = (s: string, n: number) => (want(s) ? n : 0);
  const needed = Math.max(
    sized("idle", P.idle),
    sized("room", P.room) + Math.max(sized("dm", P.dmUsers), sized("dmcap", P.dmUsers)) +
      sized("storm", P.storm + P.stormSenders),
  );
  const users = await seedUsers(kv, needed);
  let at = 0;
  const take = (n: number) => users.slice(at, at += n);
  const roomUsers = take(sized("room", P.room)),
    dmUsers = take(Math.max(sized("dm", P.dmUsers), sized("dmcap", P.dmUsers))),
    stormUsers = take(sized("storm", P.storm)),
    stormSenders = take(sized("storm", P.stormSenders));
  const roomConv = want("room") ? await seedGroup(kv, "bench room", roomUsers) : "";
  const dms = await seedDms(kv, dmUsers);
  const stormConv = want("storm")
    ? await seedGroup(kv, "bench storm", [...stormSenders, ...stormUsers])
    : "";
  kv.close();
  say(`bench: seeded ${users.length} users in ${((Date.now() - started) / 1000).toFixed(0)} s`);

  if (want("room")) {
    const room = {
      users: roomUsers,
      conv: roomConv,
      rate: P.roomRate,
      seconds: P.roomSeconds,
      senders: P.roomSenders,
    };
    results.room.reference = await scenario(
      "room fan-out, reference server",
      startReference,
      (s) => runRoom(s, { ...room, users: P.room }),
    );
    results.room.w1 = await scenario(
      "room fan-out, WORKERS=1",
      () => startHappyChat(kvPath, 1),
      (s) => runRoom(s, room),
    );
    results.room.w2 = await scenario(
      "room fan-out, WORKERS=2",
      () => startHappyChat(kvPath, 2),
      (s) => runRoom(s, room),
    );
    results.room.guarded = await scenario(
      "room fan-out, WORKERS=1, CONN_GUARD=1",
      () => startHappyChat(kvPath, 1, { CONN_GUARD: "1" }),
      (s) => runRoom(s, room),
    );
  }
  if (want("dm")) {
    const dm = { users: dmUsers, dms, perUserPerSec: P.dmRate, seconds: P.dmSeconds };
    results.dm.w1 = await scenario(
      "DM pairs, WORKERS=1",
      () => startHappyChat(kvPath, 1),
      (s) => runDm(s, dm),
    );
    results.dm.w2 = await scenario(
      "DM pairs, WORKERS=2",
      () => startHappyChat(kvPath, 2),
      (s) => runDm(s, dm),
    );
  }
  if (want("dmcap")) {
    const cap = { users: dmUsers, dms, rates: P.dmCapRates, seconds: P.dmCapSeconds };
    results.dmcap = {
      w1: await scenario(
        "DM capacity, WORKERS=1",
        () => startHappyChat(kvPath, 1),
        (s) => runDmCapacity(s, cap),
      ),
      w2: await scenario(
        "DM capacity, WORKERS=2",
        () => startHappyChat(kvPath, 2),
        (s) => runDmCapacity(s, cap),
      ),
    };
  }
  if (want("storm")) {
    results.storm = await scenario(
      "reconnect storm",
      () => startHappyChat(kvPath, 1),
      (s) =>
        runStorm(s, {
          conv: stormConv,
          droppers: stormUsers,
          senders: stormSenders,
          messages: P.stormMsgs,
          waitMs: 30_000,
        }),
    );
  }
  if (want("idle")) {
    // Each guarded connection holds three descriptors; this machine's limit caps the guard
    // below 10,000, so its run is smaller.
    results.idle.w1 = await scenario(
      "idle connections",
      () => startHappyChat(kvPath, 1),
      (s) => runIdle(s, users.slice(0, P.idle)),
    );
    results.idle.guarded = await scenario(
      "idle connections, CONN_GUARD=1",
      () => startHappyChat(kvPath, 1, { CONN_GUARD: "1" }),
      (s) => runIdle(s, users.slice(0, P.idleGuarded)),
    );
    results.idle.reference = await scenario(
      "idle connections, reference server",
      startReference,
      (s) => runIdle(s, P.idle),
    );
  }
  if (want("flood")) {
    results.flood = await scenario(
      "connection flood",
      () => startHappyChat(kvPath, 1, { CONN_GUARD: "1" }),
      (s) =>
        runFlood(s, {
          connections: P.flood,
          perProcess: P.floodPerProcess,
          perAddress: P.floodPerAddress,
          seconds: P.floodSeconds,
        }),
    );
  }
  if (want("durable")) {
    say("bench: durable send throughput …");
    try {
      const dkv = await Deno.openKv(durablePath);
      for (const n of P.durableConvs) {
        const convs = await seedConvs(dkv, n);
        await waitForQuiet(0.25, quick ? 3000 : 20_000);
        results.durable.rows.push({ ...await batched(dkv, convs, P.durableMsgs, 2000), convs: n });
        if (n === P.durableConvs.at(-1)) {
          results.durable.rows.push({
            ...await onePerMessage(dkv, convs, P.onePerMsg, 1),
            convs: n,
          });
          results.durable.rows.push({
            ...await onePerMessage(dkv, convs, P.onePerMsg, 64),
            convs: n,
          });
        }
      }
      const last = P.durableConvs.at(-1)!;
      results.durable.rows.push({ ...await rawSets(dkv, 1, P.rawSets), convs: 1 });
      results.durable.rows.push({ ...await rawSets(dkv, last, P.rawSets), convs: last });
      dkv.close();
      say(`bench: durable: ${JSON.stringify(results.durable.rows)}`);
    } catch (err) {
      results.durable.error = (err as Error).message;
      say(`bench: durable failed: ${(err as Error).stack}`);
    }
  }
} finally {
  await cleanup();
  clearTimeout(watchdog);
}

results.seconds = (Date.now() - started) / 1000;
const out = `${ROOT}/bench/out`;
await Deno.mkdir(out, { recursive: true });
if (only) await keepEarlierScenarios(results, only, out);
await Deno.writeTextFile(`${out}/results-${runId}.json`, JSON.stringify(results, null, 2));
const md = renderResults(results, limitNotes(results));
const target = quick ? `${out}/RESULTS-quick.md` : `${ROOT}/bench/RESULTS.md`;
await Deno.writeTextFile(target, md);
say(md);
say(`bench: wrote ${target} (${results.seconds.toFixed(0)} s)`);
