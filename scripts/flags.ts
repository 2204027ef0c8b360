/**
 * The permissions of each HappyChat process, in one place. scripts/dev.ts, bench/ and the process
 * tests spawn with these; deno.json's tasks must spell them out (a task is a plain string), and
 * tests/flags_test.ts fails when the two differ.
 */

/** The server (main.ts): the docs/architecture.md "Permissions" table says why each one. */
export const SERVER_FLAGS: readonly string[] = [
  "--allow-net",
  "--allow-read=.",
  "--allow-write=data",
  "--allow-env",
  "--allow-sys=hostname,networkInterfaces,cpus,osRelease",
  "--allow-ffi=./node_modules",
];

/**
 * What Deno Deploy allows an app (tests/deploy_limits_test.ts runs the server with these): no
 * native code, no subprocess, no writes to disk. The island bundles must be built beforehand.
 */
export const DEPLOY_FLAGS: readonly string[] = [
  "--allow-net",
  "--allow-read=.",
  "--allow-env",
  "--allow-sys=hostname,networkInterfaces,cpus,osRelease",
  "--deny-ffi",
  "--deny-run",
  "--deny-write",
];

/** The island build (scripts/build.ts): it runs `deno bundle` by name, which PATH resolves. */
export const BUILD_FLAGS: readonly string[] = [
  "--allow-read=.",
  "--allow-write=_build",
  "--allow-run=deno",
  "--allow-env",
];

/**
 * scripts/dev.ts itself: it watches the sources and runs the build and the server as child
 * processes, which get their own flags (above), not these.
 */
export const DEV_FLAGS: readonly string[] = ["--allow-read=.", "--allow-run=deno"];
