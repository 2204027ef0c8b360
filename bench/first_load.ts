/**
 * `deno run -A bench/first_load.ts [_build/out]`: the JavaScript the chat page loads before anyone
 * touches it: _boot.js, ChatApp.js and every chunk they import statically, followed through the
 * bundle files (a dynamic import(), like the emoji picker's, is not followed). Raw and gzip bytes.
 */
import { say } from "../lib/log.ts";

const dir = Deno.args[0] ?? "_build/out";
const seen = new Set<string>();
const STATIC_IMPORT = /(?:^|[;}\s])import\s*(?:[\w{},*\s$]+from\s*)?["']\.\/([\w.-]+\.js)["']/g;

async function walk(name: string): Promise<void> {
  if (seen.has(name)) return;
  seen.add(name);
  const src = await Deno.readTextFile(`${dir}/${name}`);
  for (const m of src.matchAll(STATIC_IMPORT)) await walk(m[1]);
}

async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

await walk("_boot.js");
await walk("ChatApp.js");
let raw = 0;
let gz = 0;
for (const name of seen) {
  const bytes = await Deno.readFile(`${dir}/${name}`);
  raw += bytes.length;
  gz += await gzipSize(bytes);
}
say(`chat page first load: ${seen.size} files, ${raw} bytes, ${gz} bytes gzip (each file alone)`);
