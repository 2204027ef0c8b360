/**
 * `deno task lighthouse`: Lighthouse (npm:lighthouse@12.2.3, mobile form factor, "simulate"
 * throttling) on the login page and on the chat page `/` of a logged-in user. The app runs in this
 * process on 127.0.0.1 with a KV file in a temporary directory; Chromium (/usr/bin/chromium, or env
 * CHROMIUM_PATH, as for the tests) is started headless per page with --remote-debugging-port and Lighthouse connects
 * to it. Prints a table of the four category scores, the chat page's JavaScript on the wire, the
 * audits that keep a category under 1.0, and the machine's facts; writes them to
 * bench/out/LIGHTHOUSE.md and bench/out/lighthouse-<id>.json (with the full reports beside them).
 * Exit code 0 also when a target is missed; non-zero only when the run itself failed.
 * `--runs=N`: each page N times (a fresh Chromium each); the median performance run stands for it.
 * `--trace`: also writes each page's Chromium trace (lighthouse-<id>-<page>.trace.json, for the
 * DevTools Performance panel).
 */
import lighthouse from "lighthouse";
import { say } from "../lib/log.ts";
import { signUp, startTestServer, type TestServer } from "../tests/helpers.ts";
import { ROOT } from "./procs.ts";
import { CHROMIUM_FLAGS, chromiumPath } from "../tests/chromium.ts";

const CHROME = await chromiumPath() ?? "/usr/bin/chromium";
const CHROME_FLAGS = [
  "--headless=new",
  ...CHROMIUM_FLAGS,
  "--no-default-browser-check",
  "--disable-dev-shm-usage",
  "--remote-debugging-address=127.0.0.1",
  "--remote-debugging-port=0",
  "about:blank",
];
const CATEGORIES = ["performance", "accessibility", "best-practices", "seo"] as const;
type Category = typeof CATEGORIES[number];
const TARGETS: Record<Category, number> = {
  performance: 0.95,
  accessibility: 1,
  "best-practices": 1,
  seo: 0.95,
};
const JS_TARGET_BYTES = 60 * 1024;
const RUNS = Math.max(1, Number(Deno.args.find((a) => a.startsWith("--runs="))?.slice(7) ?? 1));
const WATCHDOG_MS = (5 + 3 * RUNS) * 60_000;

interface Audit {
  id: string;
  score: number | null;
  scoreDisplayMode: string;
  numericValue?: number;
  details?: { type: string; items?: Record<string, unknown>[] };
}
interface Lhr {
  lighthouseVersion: string;
  finalDisplayedUrl: string;
  runWarnings: string[];
  runtimeError?: { code: string; message: string };
  environment: { hostUserAgent: string; benchmarkIndex: number };
  configSettings: { formFactor: string; throttlingMethod: string };
  categories: Record<string, { score: number | null; auditRefs: { id: string; weight: number }[] }>;
  audits: Record<string, Audit>;
}

interface PageResult {
  page: string;
  url: string;
  scores: Record<Category, number | null>;
  /** Per category under 1.0: its weighted audits that scored under 1 ("id (score)"). */
  failing: Partial<Record<Category, string[]>>;
  metrics: Record<string, number | null>;
  js?: { requests: number; transferBytes: number; resourceBytes: number };
  totalTransferBytes: number | null;
  runWarnings: string[];
  benchmarkIndex: number;
  /** With --runs=N: every run's performance score; the rest of the result is the median run's. */
  performanceRuns?: number[];
}

function loadavg(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").trim();
  } catch {
    return "unavailable";
  }
}

async function output(cmd: string, args: string[]): Promise<string> {
  try {
    const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(o.stdout).trimEnd();
  } catch {
    return "unavailable";
  }
}

/** HEAD, and the files the pages are built from that differ from it (read-only git). */
async function commit(): Promise<string> {
  const git = (args: string[]) => output("git", ["-C", ROOT, ...args]);
  const head = (await git(["rev-parse", "--short", "HEAD"])) || "unknown";
  const paths = ["islands", "components", "static", "lib", "routes", "main.ts", "deno.json"];
  const dirty = (await git(["status", "--porcelain", "--", ...paths]))
    .split("\n").filter(Boolean).map((l) => l.slice(3));
  return dirty.length ? `${head} + uncommitted changes to ${dirty.join(", ")}` : head;
}

/** A headless Chromium listening for DevTools on a free loopback port. */
interface Browser {
  port: number;
  close(): Promise<void>;
}

async function launchChromium(userDataDir: string): Promise<Browser> {
  const child = new Deno.Command(CHROME, {
    args: [...CHROME_FLAGS.slice(0, -1), `--user-data-dir=${userDataDir}`, CHROME_FLAGS.at(-1)!],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, 5000);
    await child.status;
    clearTimeout(timer);
  };
  // Chromium prints "DevTools listening on ws://127.0.0.1:<port>/devtools/browser/<id>".
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Chromium gave no DevTools port: ${seen}`)),
      30_000,
    );
    (async () => {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += value;
        const m = seen.match(/DevTools listening on ws:\/\/[\d.]+:(\d+)\//);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
          break;
        }
      }
      if (!seen.match(/DevTools listening/)) {
        clearTimeout(timer);
        reject(new Error(`Chromium exited: ${seen.slice(-2000)}`));
      }
    })().catch(reject);
  }).catch(async (err) => {
    await close();
    throw err;
  });
  // Keep draining stderr so Chromium never blocks on a full pipe.
  (async () => {
    try {
      while (!(await reader.read()).done) { /* drop */ }
    } catch { /* closed */ }
  })();
  return { port, close };
}

/** Lighthouse ran but could not measure the page (its `runtimeError`). */
class LighthouseRunError extends Error {}
const ATTEMPTS = 3;

function summarize(page: string, lhr: Lhr): PageResult {
  if (lhr.runtimeError) {
    throw new LighthouseRunError(
      `Lighthouse ${page}: ${lhr.runtimeError.code}: ${lhr.runtimeError.message}`,
    );
  }
  const scores = {} as Record<Category, number | null>;
  const failing: Partial<Record<Category, string[]>> = {};
  for (const c of CATEGORIES) {
    const cat = lhr.categories[c];
    scores[c] = cat?.score ?? null;
    if (cat && (cat.score ?? 0) < 1) {
      failing[c] = cat.auditRefs
        .filter((r) => r.weight > 0)
        .map((r) => lhr.audits[r.id])
        .filter((a) => a && a.score !== null && a.score < 1 && a.scoreDisplayMode !== "informative")
        .map((a) => `${a.id} (${a.score})`);
    }
  }
  const metric = (id: string) => lhr.audits[id]?.numericValue ?? null;
  const metrics = {
    "first-contentful-paint ms": metric("first-contentful-paint"),
    "largest-contentful-paint ms": metric("largest-contentful-paint"),
    "total-blocking-time ms": metric("total-blocking-time"),
    "cumulative-layout-shift": metric("cumulative-layout-shift"),
    "speed-index ms": metric("speed-index"),
    "interactive ms": metric("interactive"),
  };
  const requests = lhr.audits["network-requests"]?.details?.items ?? [];
  const scripts = requests.filter((r) => r.resourceType === "Script");
  const js = {
    requests: scripts.length,
    transferBytes: scripts.reduce((s, r) => s + Number(r.transferSize ?? 0), 0),
    resourceBytes: scripts.reduce((s, r) => s + Number(r.resourceSize ?? 0), 0),
  };
  return {
    page,
    url: lhr.finalDisplayedUrl,
    scores,
    failing,
    metrics,
    js,
    totalTransferBytes: lhr.audits["total-byte-weight"]?.numericValue ?? null,
    runWarnings: lhr.runWarnings,
    benchmarkIndex: lhr.environment.benchmarkIndex,
  };
}

const fmtScore = (s: number | null) => (s === null ? "n/a" : s.toFixed(2));
const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;

function render(
  r: { id: string; machine: Record<string, string>; pages: PageResult[]; lighthouse: string },
): string {
  const lines: string[] = [];
  lines.push(`# Lighthouse ${r.id}`, "");
  lines.push(
    `Lighthouse ${r.lighthouse}, mobile form factor, throttling "simulate" (the default mobile ` +
      `profile), app on loopback with a temporary KV. Command: \`deno task lighthouse\`.`,
    "",
  );
  lines.push("| machine | |", "| --- | --- |");
  for (const [k, v] of Object.entries(r.machine)) lines.push(`| ${k} | ${v} |`);
  lines.push("");
  lines.push(
    "| page | performance | accessibility | best-practices | seo |",
    "| --- | --- | --- | --- | --- |",
  );
  lines.push(
    `| target | ≥ ${TARGETS.performance} | ${TARGETS.accessibility.toFixed(1)} | ` +
      `${TARGETS["best-practices"].toFixed(1)} | ≥ ${TARGETS.seo} |`,
  );
  for (const p of r.pages) {
    const cells = CATEGORIES.map((c) => {
      const s = p.scores[c];
      const miss = s === null || s < TARGETS[c];
      return `${fmtScore(s)}${miss ? " ✗" : ""}`;
    });
    lines.push(`| ${p.page} | ${cells.join(" | ")} |`);
  }
  lines.push("");
  const chat = r.pages.find((p) => p.page === "chat /");
  if (chat?.js) {
    const miss = chat.js.transferBytes > JS_TARGET_BYTES;
    lines.push(
      `Chat page JavaScript on the wire (network-requests, resourceType Script, transferSize): ` +
        `${chat.js.transferBytes} bytes = ${kb(chat.js.transferBytes)} in ${chat.js.requests} ` +
        `requests (${kb(chat.js.resourceBytes)} uncompressed); target ≤ ${kb(JS_TARGET_BYTES)}` +
        `${miss ? " ✗ missed" : " ✓"}. All bytes of the page (total-byte-weight): ` +
        `${kb(chat.totalTransferBytes ?? 0)}.`,
      "",
    );
  }
  for (const p of r.pages) {
    const m = Object.entries(p.metrics).map(([k, v]) =>
      `${k} ${v === null ? "n/a" : Math.round(v * 1000) / 1000}`
    );
    lines.push(`- ${p.page} (${p.url}): ${m.join(", ")}; benchmarkIndex ${p.benchmarkIndex}`);
    if (p.performanceRuns && p.performanceRuns.length > 1) {
      lines.push(
        `  - performance of the ${p.performanceRuns.length} runs: ` +
          `${p.performanceRuns.map(fmtScore).join(", ")} (the median run is shown)`,
      );
    }
    for (const [c, ids] of Object.entries(p.failing)) {
      lines.push(`  - ${c} under 1.0, failing: ${ids.length ? ids.join(", ") : "(none weighted)"}`);
    }
    for (const w of p.runWarnings) lines.push(`  - warning: ${w}`);
  }
  lines.push("");
  return lines.join("\n");
}

// ---- the run ----

const id = Date.now().toString(36);
const outDir = `${ROOT}/bench/out`;
const tmp = await Deno.makeTempDir({ prefix: "happychat-lighthouse-" });
const loadStart = loadavg();
let server: TestServer | null = null;
const browsers = new Set<Browser>();

async function cleanup(): Promise<void> {
  await Promise.all([...browsers].map((b) => b.close().catch(() => {})));
  browsers.clear();
  if (server) {
    const s = server;
    server = null;
    await s.close().catch(() => {});
  }
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}

const watchdog = setTimeout(async () => {
  say(`lighthouse: watchdog — still running after ${WATCHDOG_MS / 60_000} min, stopping`);
  await cleanup();
  Deno.exit(2);
}, WATCHDOG_MS);
Deno.unrefTimer(watchdog);
const onSignal = async () => {
  say("lighthouse: interrupted, cleaning up");
  await cleanup();
  Deno.exit(130);
};
Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);

async function audit(
  page: string,
  url: string,
  cookie: string | undefined,
  run: number,
): Promise<PageResult> {
  // Lighthouse sometimes fails to record a load on a busy machine (NO_NAVSTART, NO_FCP): try again.
  for (let attempt = 1;; attempt++) {
    try {
      return await auditOnce(page, url, cookie, run);
    } catch (err) {
      if (!(err instanceof LighthouseRunError) || attempt >= ATTEMPTS) throw err;
      say(`lighthouse: ${page}: ${err.message}; attempt ${attempt + 1} of ${ATTEMPTS}`);
    }
  }
}

async function auditOnce(
  page: string,
  url: string,
  cookie: string | undefined,
  run: number,
): Promise<PageResult> {
  const profile = await Deno.makeTempDir({ dir: tmp, prefix: "chromium-" });
  const browser = await launchChromium(profile);
  browsers.add(browser);
  try {
    say(
      `lighthouse: ${page}${
        run ? ` run ${run}` : ""
      } ${url} (Chromium DevTools port ${browser.port}) …`,
    );
    const result = await lighthouse(url, {
      port: browser.port,
      output: "json",
      logLevel: "error",
      formFactor: "mobile",
      throttlingMethod: "simulate",
      onlyCategories: [...CATEGORIES],
      ...(cookie ? { extraHeaders: { Cookie: cookie } } : {}),
    });
    if (!result) throw new Error(`Lighthouse returned nothing for ${page}`);
    const lhr = result.lhr as unknown as Lhr;
    lighthouseVersion = lhr.lighthouseVersion;
    const name = page.replace(/\W+/g, "_").replace(/_$/, "") + (run ? `-${run}` : "");
    const file = `${outDir}/lighthouse-${id}-${name}.json`;
    await Deno.writeTextFile(file, JSON.stringify(lhr));
    const trace = (result.artifacts as unknown as { Trace?: unknown }).Trace;
    if (Deno.args.includes("--trace") && trace) {
      await Deno.writeTextFile(file.replace(/\.json$/, ".trace.json"), JSON.stringify(trace));
    }
    const r = summarize(page, lhr);
    say(`lighthouse: ${page}: ${JSON.stringify(r.scores)} (report ${file.slice(ROOT.length + 1)})`);
    return r;
  } finally {
    await browser.close();
    browsers.delete(browser);
  }
}

let exitCode = 0;
let lighthouseVersion = "?";
try {
  await Deno.mkdir(outDir, { recursive: true });
  // The bundles the server serves, built as `deno task start` would (nothing when unchanged).
  const build = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-A", "scripts/build.ts", "--if-stale"],
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!build.success) throw new Error("scripts/build.ts --if-stale failed");

  server = await startTestServer({ env: { DENO_KV_PATH: `${tmp}/kv.sqlite3` } });
  const { client } = await signUp(server);
  const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  // The cookie must open the chat page itself, not send it to the login page.
  const check = await client.fetch("/");
  await check.body?.cancel();
  if (check.status !== 200) throw new Error(`GET / with the session cookie: ${check.status}`);

  // The run with the median performance score stands for the page, as Lighthouse advises.
  const median = async (page: string, url: string, cookie?: string) => {
    const runs: PageResult[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await audit(page, url, cookie, RUNS > 1 ? i + 1 : 0));
    const perf = (r: PageResult) => r.scores.performance ?? 0;
    const sorted = [...runs].sort((a, b) => perf(a) - perf(b));
    return { ...sorted[Math.floor((sorted.length - 1) / 2)], performanceRuns: runs.map(perf) };
  };
  const pages: PageResult[] = [];
  pages.push(await median("login /login", server.url("/login")));
  pages.push(await median("chat /", server.url("/"), cookie));

  const chromeVersion = await output(CHROME, ["--version"]);
  const machine = {
    nproc: String(navigator.hardwareConcurrency),
    "loadavg at start": loadStart,
    "loadavg at end": loadavg(),
    cpu: (await output("sh", ["-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"])).trim() ||
      "unknown",
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    chromium: chromeVersion,
    commit: await commit(),
    date: new Date().toISOString(),
  };
  const report = { id, machine, pages, lighthouse: lighthouseVersion };
  await Deno.writeTextFile(`${outDir}/lighthouse-${id}.json`, JSON.stringify(report, null, 2));
  const md = render(report);
  await Deno.writeTextFile(`${outDir}/LIGHTHOUSE.md`, md);
  // deno-lint-ignore no-console
  console.log(md);
  say(`lighthouse: wrote bench/out/LIGHTHOUSE.md and bench/out/lighthouse-${id}.json`);
} catch (err) {
  say(`lighthouse: failed: ${(err as Error).stack ?? err}`);
  exitCode = 1;
} finally {
  await cleanup();
  clearTimeout(watchdog);
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
}
Deno.exit(exitCode);
