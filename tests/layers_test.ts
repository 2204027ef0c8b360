/**
 * Imports point one way (docs/architecture.md "Layers"): routes → realtime → domain → kv → wire
 * (the domain reaches the engine only through lib/chat/events.ts, which the engine implements),
 * the browser (islands, components, lib/client) → wire only, and the app assembled at the top.
 * Reads every import of every source file and fails on an edge the table below does not allow.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");

/** Which layer a repo-relative path belongs to, or null for files outside the rule (tests, tools). */
export function layerOf(path: string): string | null {
  if (/_test\.tsx?$|(^|\/)_fixture\.ts$|(^|\/)_test_kv\.ts$/.test(path)) return null;
  if (path === "main.ts" || path === "worker.ts") return "main"; // the two entry points
  const m = path.match(/^lib\/([a-z0-9_]+)\//);
  if (m) return DOMAIN.has(m[1]) ? "domain" : m[1];
  if (path.startsWith("lib/")) return "base"; // lib/log.ts, lib/ids.ts, lib/errors.ts
  for (const top of ["routes", "islands", "components", "scripts"]) {
    if (path.startsWith(top + "/")) return top;
  }
  return null;
}

const DOMAIN = new Set(["accounts", "social", "groups", "chat", "bots", "push"]);

/** What the server's lower layers may all import: data, wire formats, texts, log and ids. */
const BELOW = ["kv", "mail", "media", "wire", "i18n", "base"];

/** Layer → the layers it may import (besides itself). */
export const ALLOWED: Record<string, string[]> = {
  main: ["routes", "http", "domain", "realtime", ...BELOW],
  http: ["domain", "realtime", ...BELOW],
  routes: ["http", "components", "islands", "domain", "realtime", ...BELOW],
  realtime: ["domain", ...BELOW],
  domain: BELOW,
  mail: ["kv", "wire", "i18n", "base"],
  media: ["kv", "base"],
  kv: ["wire", "base"],
  base: [],
  wire: ["i18n"],
  i18n: [],
  client: ["wire", "i18n"],
  components: ["islands", "client", "wire", "i18n"],
  islands: ["components", "client", "wire", "i18n"],
  scripts: ["base"],
};

/** The relative imports of one file (static, type-only, re-exports and dynamic). */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.\.?\/[^"']+)["']/gm;
  for (const m of source.matchAll(re)) out.push(m[1]);
  return out;
}

/** The edges that break the rule, as "from → to". */
export function violations(edges: [string, string][]): string[] {
  const bad: string[] = [];
  for (const [from, to] of edges) {
    const a = layerOf(from), b = layerOf(to);
    if (a === null || b === null || a === b) continue;
    if (!ALLOWED[a]?.includes(b)) bad.push(`${from} (${a}) → ${to} (${b})`);
  }
  return bad;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const e of Deno.readDirSync(join(ROOT, dir))) {
    const p = join(dir, e.name);
    if (e.isDirectory) sources(p, out);
    else if (/\.tsx?$/.test(e.name)) out.push(p);
  }
  return out;
}

function repoEdges(): [string, string][] {
  const edges: [string, string][] = [];
  for (
    const file of [
      "main.ts",
      "worker.ts",
      ...["lib", "routes", "islands", "components", "scripts"].flatMap((d) => sources(d)),
    ]
  ) {
    for (const spec of importsOf(Deno.readTextFileSync(join(ROOT, file)))) {
      edges.push([file, relative(ROOT, resolve(ROOT, dirname(file), spec))]);
    }
  }
  return edges;
}

Deno.test("imports point one way: no module imports a layer above its own", () => {
  const edges = repoEdges();
  assert.ok(edges.length > 300, `only ${edges.length} imports found: the reader is broken`);
  assert.deepEqual(violations(edges), []);
});

Deno.test("the rule catches a reverse edge (wire importing the realtime engine, kv importing a route)", () => {
  assert.deepEqual(
    violations([
      ["lib/wire/protocol.ts", "lib/realtime/hub.ts"],
      ["lib/kv/keys.ts", "routes/ws.ts"],
      ["islands/ChatApp.tsx", "lib/chat/conversations.ts"],
      ["lib/groups/groups.ts", "lib/realtime/realtime.ts"],
      ["lib/chat/history.ts", "lib/kv/keys.ts"],
      ["lib/http/app.ts", "routes/mod.ts"],
      ["lib/http/server.ts", "components/Layout.tsx"],
    ]).length,
    6,
  );
  assert.deepEqual(
    importsOf(
      `import type { A } from "./a.ts";\nexport { b } from "../b.ts";\nawait import("./c.ts");`,
    ),
    [
      "./a.ts",
      "../b.ts",
      "./c.ts",
    ],
  );
});
