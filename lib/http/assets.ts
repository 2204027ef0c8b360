/** Island bundles and static files: where they are and under which cache-busting URL. */

export interface Assets {
  /** URL of the island boot module, e.g. "/_build/3f2a…/_boot.js"; null when not built. */
  bootUrl: string | null;
  /** Version tag appended to /static URLs. */
  version: string;
  /** The build's hash (the `/_build/<hash>/` segment); null when not built. */
  hash: string | null;
  /** The built files under that hash, e.g. "_boot.js", "chunk-3M2KKC3V.js". */
  files: readonly string[];
  /** The service worker's script (islands/sw.ts, bundled to _build/sw.js); null when not built. */
  worker: string | null;
  /** Reads a built file for /_build/:hash/:name, or null. */
  readBuilt(hash: string, name: string): Promise<Uint8Array | null>;
}

export interface BuildManifest {
  hash: string;
  files: string[];
}

const SAFE_NAME = /^[A-Za-z0-9_.-]+\.js(\.map)?$/;

/** Loads `_build/manifest.json` (written by scripts/build.ts). */
export async function loadAssets(dir = new URL("../../_build/", import.meta.url)): Promise<Assets> {
  let manifest: BuildManifest | null = null;
  try {
    manifest = JSON.parse(await Deno.readTextFile(new URL("manifest.json", dir)));
  } catch {
    manifest = null;
  }
  const files = new Set(manifest?.files ?? []);
  let worker: string | null = null;
  try {
    if (manifest) worker = await Deno.readTextFile(new URL("sw.js", dir));
  } catch {
    worker = null;
  }
  return {
    bootUrl: manifest ? `/_build/${manifest.hash}/_boot.js` : null,
    version: manifest?.hash.slice(0, 12) ?? "dev",
    hash: manifest?.hash ?? null,
    files: [...files],
    worker,
    async readBuilt(hash, name) {
      if (!manifest || hash !== manifest.hash || !SAFE_NAME.test(name) || !files.has(name)) {
        return null;
      }
      try {
        return await Deno.readFile(new URL(`out/${name}`, dir));
      } catch {
        return null;
      }
    },
  };
}
