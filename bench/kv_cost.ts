/**
 * `deno run -A bench/kv_cost.ts`: what one Deno KV operation costs on this machine, in CPU per
 * thread (the isolate's own thread, and KV's SQLite worker thread "sw-0"), on a KV file with
 * 10,000 users' sessions, records and conversation entries. The floor under any request that
 * reads KV: a hello reads the session, the user, the conversation list and the summaries.
 */
import { say } from "../lib/log.ts";
import { fmt } from "./stats.ts";

const N = 10_000;
const dir = await Deno.makeTempDir({ prefix: "kv-cost-" });
const kv = await Deno.openKv(`${dir}/kv.sqlite3`);

for (let i = 0; i < N; i += 200) {
  const op = kv.atomic();
  for (let j = i; j < i + 200; j++) {
    op.set(["session", `t${j}`], { userId: `u${j}`, createdAt: Date.now(), ua: "x".repeat(40) });
    op.set(["user", `u${j}`], { id: `u${j}`, username: `user${j}`, hash: "h".repeat(80) });
    op.set(["user_conv", `u${j}`, `c${j}`], { convId: `c${j}`, kind: "dm", peerId: "bot" });
  }
  await op.commit();
}

/** CPU seconds so far of each thread of this process, by thread name. */
function threads(): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of Deno.readDirSync("/proc/self/task")) {
    const name = Deno.readTextFileSync(`/proc/self/task/${t.name}/comm`).trim();
    const stat = Deno.readTextFileSync(`/proc/self/task/${t.name}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
  }
  return out;
}

async function measure(name: string, op: (i: number) => Promise<unknown>, inFlight = 100) {
  const before = threads();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < N) await op(next++);
  }));
  const wallUs = (performance.now() - t0) * 1000 / N;
  const per = [...threads()]
    .map(([k, v]) => [k, (v - (before.get(k) ?? 0)) * 1e6 / N] as const)
    .filter(([, us]) => us >= 1);
  const total = per.reduce((s, [, us]) => s + us, 0);
  say(
    `${name.padEnd(26)} CPU ${fmt(total, 0).padStart(4)} µs (${
      per.map(([k, us]) => `${k} ${fmt(us, 0)}`).join(", ")
    }); wall ${fmt(wallUs, 0)} µs, ${inFlight} in flight`,
  );
}

say(`Deno ${Deno.version.deno}; ${N.toLocaleString("en-US")} operations each`);
await measure("get (warm-up)", (i) => kv.get(["session", `t${i}`]));
await measure("get", (i) => kv.get(["session", `t${i}`]));
await measure("getMany, 2 keys", (i) => kv.getMany([["session", `t${i}`], ["user", `u${i}`]]));
await measure("getMany, 5 keys", (i) =>
  kv.getMany([
    ["session", `t${i}`],
    ["user", `u${i}`],
    ["user", `u${(i + 1) % N}`],
    ["user", `u${(i + 2) % N}`],
    ["user", `u${(i + 3) % N}`],
  ]));
await measure("list, 1 entry", async (i) => {
  for await (const _ of kv.list({ prefix: ["user_conv", `u${i}`] })) { /* read it */ }
});
await measure("set, one per commit", (i) => kv.set(["seen", `u${i}`], i));
kv.close();
await Deno.remove(dir, { recursive: true });
