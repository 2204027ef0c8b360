/**
 * Builds the island bundles into _build/out with `deno bundle` (code splitting, minified) and
 * writes _build/manifest.json. With --if-stale it does nothing when the sources are unchanged.
 */
import { say } from "../lib/log.ts";

const root = new URL("../", import.meta.url);
const buildDir = new URL("_build/", root);
const SOURCE_DIRS = ["islands", "lib", "components", "static"];

async function* walk(dir: URL): AsyncGenerator<URL> {
  for await (const e of Deno.readDir(dir)) {
    const u = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
    if (e.isDirectory) yield* walk(u);
    else if (/\.(ts|tsx|css|svg|webmanifest|js)$/.test(e.name) && !e.name.endsWith("_test.ts")) {
      yield u;
    }
  }
}

async function sourceHash(): Promise<string> {
  const parts: string[] = [];
  for (const d of SOURCE_DIRS) {
    const files: URL[] = [];
    for await (const f of walk(new URL(`${d}/`, root))) files.push(f);
    files.sort((a, b) => a.href.localeCompare(b.href));
    for (const f of files) {
      parts.push(f.pathname.slice(root.pathname.length), await Deno.readTextFile(f));
    }
  }
  parts.push(await Deno.readTextFile(new URL("deno.json", root)));
  // What this script writes besides the bundles (the emoji data) changes with it too.
  parts.push(await Deno.readTextFile(new URL("scripts/build.ts", root)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\0")));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("").slice(
    0,
    20,
  );
}

async function currentHash(): Promise<string | null> {
  try {
    return JSON.parse(await Deno.readTextFile(new URL("manifest.json", buildDir))).hash;
  } catch {
    return null;
  }
}

async function islandEntries(): Promise<string[]> {
  const out = ["islands/_boot.ts"];
  for await (const e of Deno.readDir(new URL("islands/", root))) {
    if (e.isFile && e.name.endsWith(".tsx") && !e.name.startsWith("_")) {
      out.push(`islands/${e.name}`);
    }
  }
  return out.sort();
}

async function build(hash: string): Promise<void> {
  const outDir = new URL("out/", buildDir);
  await Deno.remove(outDir, { recursive: true }).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
  await Deno.mkdir(outDir, { recursive: true });
  const entries = await islandEntries();
  // By name, not Deno.execPath(): the task allows `--allow-run=deno`, which Deno resolves through
  // PATH, and Deno.execPath() is the symlink's target when deno is a symlink (npm install -g, brew).
  const cmd = new Deno.Command("deno", {
    args: [
      "bundle",
      "-q",
      "--platform",
      "browser",
      "--code-splitting",
      "--minify",
      "--outdir",
      "_build/out",
      ...entries,
    ],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  });
  const { code } = await cmd.output();
  if (code !== 0) {
    say(`error: building the island bundles failed (deno bundle exited ${code})`);
    Deno.exit(1);
  }
  await writeEmojiData(new URL("emoji-data.js", outDir));
  await bundleWorker();
  const files: string[] = [];
  for await (const e of Deno.readDir(outDir)) if (e.isFile) files.push(e.name);
  await Deno.writeTextFile(
    new URL("manifest.json", buildDir),
    JSON.stringify({ hash, files: files.sort() }, null, 2),
  );
}

/**
 * The service worker (islands/sw.ts) into _build/sw.js, outside out/: one classic script without
 * imports (a worker registered without `type: "module"` works in every browser), served at /sw.js
 * by routes/sw.ts, never under /_build/.
 */
async function bundleWorker(): Promise<void> {
  const args = ["bundle", "-q", "--platform", "browser", "--minify"];
  const cmd = new Deno.Command("deno", {
    args: [...args, "--output", "_build/sw.js", "islands/sw.ts"],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  });
  const { code } = await cmd.output();
  if (code !== 0) {
    say(`error: building the service worker failed (deno bundle exited ${code})`);
    Deno.exit(1);
  }
}

interface EmojibaseEntry {
  hexcode: string;
  unicode: string;
  label: string;
  group?: number;
  order?: number;
  tags?: string[];
  skins?: { hexcode: string; unicode: string }[];
}

/**
 * The emoji picker's data (islands/chat/EmojiPicker.tsx), from emojibase-data: a module the picker
 * loads only when opened, next to the bundles. Per emoji: the character, its group, its English
 * and Chinese names, the words it is found by (both names and keywords, lower case) and its five
 * skin tones if it has them. Without the "component" group (bare skin tones and hair styles).
 */
async function writeEmojiData(to: URL): Promise<void> {
  const load = async (lang: string) => ({
    list: (await import(`emojibase-data/${lang}/compact.json`, { with: { type: "json" } }))
      .default as EmojibaseEntry[],
    groups: ((await import(`emojibase-data/${lang}/messages.json`, { with: { type: "json" } }))
      .default as { groups: { order: number; message: string }[] }).groups,
  });
  const [en, zh] = [await load("en"), await load("zh")];
  const zhByHex = new Map(zh.list.map((e) => [e.hexcode, e]));
  const list = en.list
    .filter((e) => e.group !== undefined && e.group !== 2)
    .sort((a, b) => (a.order ?? 0) - (b.order ?? 0))
    .map((e) => {
      const z = zhByHex.get(e.hexcode);
      const words = [e.label, ...(e.tags ?? []), z?.label ?? "", ...(z?.tags ?? [])]
        .join(" ").toLowerCase();
      // The five with one skin tone each (people in pairs also have the mixed ones).
      const skins = e.skins
        ?.filter((s) => s.hexcode.match(/1F3F[B-F]/g)?.length === 1)
        .map((s) => s.unicode);
      const entry = [e.unicode, e.group, e.label, z?.label ?? "", words];
      return skins?.length === 5 ? [...entry, skins] : entry;
    });
  const names = (g: { order: number; message: string }[]) =>
    Object.fromEntries(g.filter((x) => x.order !== 2).map((x) => [x.order, x.message]));
  const data = { groups: { en: names(en.groups), "zh-CN": names(zh.groups) }, list };
  await Deno.writeTextFile(to, `export default ${JSON.stringify(data)};\n`);
}

if (import.meta.main) {
  const ifStale = Deno.args.includes("--if-stale");
  const hash = await sourceHash();
  if (ifStale && (await currentHash()) === hash) Deno.exit(0);
  await build(hash);
  say(`built ${hash} (${(await islandEntries()).length} entries)`);
}
