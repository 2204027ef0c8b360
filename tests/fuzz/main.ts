/**
 * Runs the WebSocket frame fuzzer against a fresh real server and checks the server afterwards.
 * Used by tests/attack_ws_fuzz_test.ts (10^4 frames) and by `deno task fuzz` (this file as a
 * program: FUZZ_FRAMES, default 10^5; FUZZ_SEED, default random; prints a summary). FUZZ_TRACE
 * names a file to write every frame of the run to, both ways, with its time and socket.
 */
import { setLogSink } from "../../lib/log.ts";
import { keys } from "../../lib/kv/keys.ts";
import type { Message } from "../../lib/wire/protocol.ts";
import { startTestServer, type TestServer } from "../helpers.ts";
import { WsClient } from "../ws_client.ts";
import { runSockets } from "./run.ts";
import { World } from "./world.ts";

export interface FuzzResult {
  seed: number;
  failure: string | null;
  summary: string;
}

/** Every acked message is stored once where its ack says; nothing else was stored. */
async function checkStore(world: World): Promise<string | null> {
  const kv = world.server.kv;
  for (const [key, ack] of world.acks) {
    const [conv, user, cid] = key.split("\u0000");
    const m = (await kv.get<Message>(keys.msg(conv, ack.seq))).value;
    if (!m || m.cid !== cid || m.from !== user || m.id !== ack.id) {
      return `acked ${cid} (seq ${ack.seq} in "${conv}") is not what is stored: ${
        JSON.stringify(m)
      }`;
    }
  }
  for (const conv of world.members.keys()) {
    const seen = new Set<string>();
    let seq = 0;
    for await (const e of kv.list<Message>({ prefix: keys.msgs(conv) })) {
      const m = e.value;
      if (m.seq !== ++seq) return `"${conv}" has seq ${m.seq} where ${seq} belongs`;
      if (m.kind !== "text" || m.from === "bot" || /^(pre|early)\d+$/.test(m.cid ?? "")) continue;
      const triple = `${conv}\u0000${m.from}\u0000${m.cid}`;
      if (seen.has(triple)) return `cid ${m.cid} of ${m.from} stored twice in "${conv}"`;
      seen.add(triple);
      if (!world.sends.has(triple)) return `stored a message nobody sent: ${JSON.stringify(m)}`;
    }
  }
  return null;
}

/** The checks the answers left for the end, against the store. */
async function checkLater(world: World): Promise<string | null> {
  for (const check of world.laterChecks) {
    const problem = await check(world.server.kv);
    if (problem) return problem;
  }
  return null;
}

/** The server after the fuzz: up, holding no connection or presence, and still chatting. */
async function checkAfter(server: TestServer, world: World): Promise<string | null> {
  const health = await fetch(server.url("/healthz"));
  await health.body?.cancel();
  if (health.status !== 200) return `/healthz answered ${health.status}`;
  const hub = server.rt.hub;
  const held = () => hub.byUser.size + hub.byConv.size + hub.presenceSubs.size;
  // Commands of closed sockets end, and give back the user's slots.
  const running = () => [...hub.commands.values()].reduce((n, g) => n + g.now, 0);
  const slots = () => world.users.reduce((n, u) => n + hub.workOf(u.id), 0);
  const until = Date.now() + 5000;
  while ((held() || running() || slots()) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
  }
  if (held()) {
    return `after every socket closed, the hub still holds connections: ${hub.byUser.size} users, ${hub.byConv.size} conversations, ${hub.presenceSubs.size} presence watches`;
  }
  if (running() || slots()) {
    return `after every socket closed, ${running()} commands still run and ${slots()} of the users' command slots are taken`;
  }
  const online = await server.rt.presence.online(world.users.map((u) => u.id));
  const ghosts = [...online].filter(([, p]) => p.online).map(([u]) => u);
  if (ghosts.length) return `users ${ghosts} still online after every socket closed`;
  const [a, b] = world.users;
  const dm = a.own.find((c) => b.own.includes(c) && world.members.get(c)!.size === 2)!;
  const [wa, wb] = [
    await WsClient.connect(server, a.client),
    await WsClient.connect(server, b.client),
  ];
  try {
    for (let i = 0;; i++) {
      wa.send({ type: "send", conv: dm, cid: `after${i}`, text: "still works" });
      const f = await Promise.race([wa.next("ack"), wa.next("error")]);
      if (f.type === "ack") break;
      if (f.code !== "rate_limited" || i > 20) return `a fresh socket's send got "${f.code}"`;
      await new Promise((r) => setTimeout(r, 200));
    }
    await wb.next("msg", (f) => f.msg.text === "still works", 5000);
  } finally {
    await Promise.all([wa.close(), wb.close()]);
  }
  return null;
}

function summarize(world: World, seed: number, ms: number): string {
  const s = world.stats;
  const sorted = (o: Record<string, number>) =>
    Object.entries(o).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v}`).join(", ");
  return [
    `seed ${seed}: ${s.frames} frames in ${
      (ms / 1000).toFixed(1)
    } s, ${s.reconnects} reconnects, ${s.acks} acks, ${s.mayBusy} commands on a maybe full queue`,
    `  predicted: ${sorted(s.byPrediction)}`,
    `  received:  ${sorted(s.answers)}`,
    `  errors:    ${sorted(s.errors)}`,
    `  closes:    ${sorted(s.closes)}`,
  ].join("\n");
}

export async function runFuzz(
  opts: { frames: number; seed: number; perUser?: number },
): Promise<FuzzResult> {
  const started = Date.now();
  const server = await startTestServer();
  const lines: string[] = [];
  setLogSink((line) => lines.push(line));
  let world: World | null = null;
  let failure: string | null = null;
  try {
    world = await World.create(server);
    await runSockets(world, { frames: opts.frames, seed: opts.seed, perUser: opts.perUser ?? 4 });
    failure = world.failure ?? await checkStore(world) ?? await checkLater(world) ??
      await checkAfter(server, world);
  } catch (err) {
    failure = world?.failure ?? (err as Error).stack ?? String(err);
  } finally {
    await server.close();
  }
  const errors = lines.filter((l) => /"level":"error"/.test(l));
  if (errors.length) {
    failure = `${failure ?? ""}\nthe server logged errors:\n${errors.slice(0, 5).join("\n")}`
      .trim();
  }
  const tracePath = Deno.env.get("FUZZ_TRACE");
  if (tracePath && world?.trace) {
    let text = world.trace.join("\n");
    for (const [id, label] of world.labels) text = text.replaceAll(id, `${id} (${label})`);
    await Deno.writeTextFile(tracePath, text + "\n");
  }
  const summary = world ? summarize(world, opts.seed, Date.now() - started) : `seed ${opts.seed}`;
  return { seed: opts.seed, failure, summary };
}

if (import.meta.main) {
  const frames = Number(Deno.env.get("FUZZ_FRAMES") ?? 100_000);
  const seed = Number(Deno.env.get("FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 31));
  const out = (s: string) => Deno.stdout.writeSync(new TextEncoder().encode(s + "\n"));
  out(`fuzzing /ws with ${frames} frames, seed ${seed} (FUZZ_SEED=${seed} repeats the frames)`);
  const r = await runFuzz({ frames, seed });
  out(r.summary);
  if (r.failure) {
    out(`FAILED (FUZZ_SEED=${seed}):\n${r.failure}`);
    Deno.exit(1);
  }
  out("ok: no internal error, no error logged, every answer as documented, the server still up");
}
