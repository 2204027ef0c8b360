/**
 * One set of permission flags per process (scripts/flags.ts): deno.json's tasks spell the same
 * flags, and no script, bench or test spells the server's flags again.
 */
import assert from "node:assert/strict";
import { BUILD_FLAGS, DEV_FLAGS, SERVER_FLAGS } from "../scripts/flags.ts";

const root = new URL("../", import.meta.url);
const FLAGS_OF: Record<string, readonly string[]> = {
  "main.ts": SERVER_FLAGS,
  "scripts/build.ts": BUILD_FLAGS,
  "scripts/dev.ts": DEV_FLAGS,
};

/** A task's `deno run` steps: the script each runs and the permission flags before it. */
export function runSteps(task: string): { script: string; flags: string[] }[] {
  return task.split("&&").map((step) => step.trim().split(/\s+/)).filter((w) =>
    w[0] === "deno" && w[1] === "run"
  ).map((words) => {
    const at = words.findIndex((w, i) => i > 1 && !w.startsWith("-"));
    return { script: words[at], flags: words.slice(2, at).filter((w) => w.startsWith("--allow")) };
  });
}

/** The steps whose flags differ from scripts/flags.ts, as "task: script". */
export function disagreements(tasks: Record<string, string>): string[] {
  const bad: string[] = [];
  for (const name of ["start", "dev", "build"]) {
    for (const { script, flags } of runSteps(tasks[name] ?? "")) {
      const want = FLAGS_OF[script];
      if (!want || flags.join(" ") !== want.join(" ")) bad.push(`${name}: ${script}`);
    }
  }
  return bad;
}

Deno.test("deno.json's start, dev and build tasks use the flags of scripts/flags.ts", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  assert.deepEqual(runSteps(tasks.start).map((s) => s.script), ["scripts/build.ts", "main.ts"]);
  assert.deepEqual(runSteps(tasks.dev).map((s) => s.script), ["scripts/dev.ts"]);
  assert.deepEqual(runSteps(tasks.build).map((s) => s.script), ["scripts/build.ts"]);
  assert.deepEqual(disagreements(tasks), []);
  // A task that widens the server's write permission is caught.
  const wider = tasks.start.replace("--allow-write=data", "--allow-write=data,/tmp");
  assert.deepEqual(disagreements({ ...tasks, start: wider }), ["start: main.ts"]);
});

Deno.test("no script, bench or test spells the server's flags again", async () => {
  const spelled: string[] = [];
  for (const dir of ["scripts", "bench", "tests"]) {
    for await (const e of Deno.readDir(new URL(`${dir}/`, root))) {
      if (!e.isFile || !/\.tsx?$/.test(e.name)) continue;
      const path = `${dir}/${e.name}`;
      if (path === "scripts/flags.ts" || path === "tests/flags_test.ts") continue;
      const text = await Deno.readTextFile(new URL(path, root));
      if (/["'`]--allow-(write=data|ffi=\.\/node_modules|sys=hostname)/.test(text)) {
        spelled.push(path);
      }
    }
  }
  assert.deepEqual(spelled, []);
});
