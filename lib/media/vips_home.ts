/**
 * Imported before sharp (lib/media/images.ts): libvips, when it starts, looks for its install
 * prefix unless VIPSHOME names one. Its WebAssembly build (used where native code is not allowed,
 * as on Deno Deploy) probes paths outside the app for it, and a read that Deno's permissions refuse
 * ends the process instead of failing quietly. So VIPSHOME names the app's own folder, which the
 * server may read; sharp's libvips has no modules to find there or anywhere.
 */
if (!Deno.env.get("VIPSHOME")) {
  Deno.env.set("VIPSHOME", decodeURIComponent(new URL("../../", import.meta.url).pathname));
}
