/**
 * Starting the real server process the way `deno task start` does (same Deno, same permission
 * flags, read from deno.json): a setting that cannot work ends it with exit code 1 and one line
 * on stderr; a good start serves /healthz and SIGTERM stops it cleanly.
 */
import assert from "node:assert/strict";

import { serverCommand } from "./process_server.ts";

const root = new URL("../", import.meta.url);

function command(env: Record<string, string>): Deno.Command {
  return serverCommand({ DENO_KV_PATH: ":memory:", ...env }, "piped");
}

/** Runs main.ts to its end; asserts exit code 1 and a single `error: …` line, returned. */
async function failsWithOneLine(env: Record<string, string>): Promise<string> {
  const out = await command(env).output();
  const stderr = new TextDecoder().decode(out.stderr).trimEnd();
  assert.equal(out.code, 1, `exit code 1, stderr:\n${stderr}`);
  const lines = stderr.split("\n");
  assert.equal(lines.length, 1, `one line on stderr, got:\n${stderr}`);
  assert.match(lines[0], /^error: \S/);
  assert.doesNotMatch(lines[0], /\bat .+:\d+:\d+/, "no stack trace");
  return lines[0];
}

Deno.test("startup: a port already in use stops the start with one line naming the port", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const line = await failsWithOneLine({ PORT: String(taken.addr.port) });
    assert.match(line, new RegExp(`Port ${taken.addr.port} is already in use`));
  } finally {
    taken.close();
  }
});

Deno.test("startup: a DENO_KV_PATH that cannot be created stops the start with one line", async () => {
  // The KV file's folder would be a regular file: no user, root included, can create it.
  const blocker = `data/startup_test_${crypto.randomUUID()}.tmp`;
  await Deno.mkdir(new URL("data/", root), { recursive: true });
  await Deno.writeTextFile(new URL(blocker, root), "not a folder");
  try {
    const line = await failsWithOneLine({ DENO_KV_PATH: `${blocker}/kv.sqlite3` });
    assert.match(line, /DENO_KV_PATH/);
    assert.ok(line.includes(`${blocker}/kv.sqlite3`), line);
  } finally {
    await Deno.remove(new URL(blocker, root));
  }
});

Deno.test("startup: a DENO_KV_PATH outside the writable data/ folder stops the start with one line", async () => {
  const line = await failsWithOneLine({ DENO_KV_PATH: "/nonexistent-happychat/kv.sqlite3" });
  assert.match(line, /DENO_KV_PATH/);
  assert.match(line, /only \.\/data\//, "says where it may write, not which flag to add");
});

Deno.test("startup: an SMTP_URL that is not smtp:// or smtps:// stops the start with one line", async () => {
  const line = await failsWithOneLine({ SMTP_URL: "http://x" });
  assert.match(line, /SMTP_URL/);
  const garbage = await failsWithOneLine({ SMTP_URL: "smtp://user:hunter2@" });
  assert.match(garbage, /SMTP_URL/);
  assert.ok(!garbage.includes("hunter2"), "the password is not echoed");
});

Deno.test("startup: a bad PORT stops the start with one line", async () => {
  assert.match(await failsWithOneLine({ PORT: "eighty" }), /PORT.*"eighty"/);
  assert.match(await failsWithOneLine({ PORT: "70000" }), /PORT.*"70000"/);
});

/** Reads stderr until a line matches, keeping the rest of the stream drained. */
async function waitForLine(
  stream: ReadableStream<Uint8Array>,
  re: RegExp,
): Promise<{ line: string; rest: Promise<string> }> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the server ended before printing ${re}; stderr:\n${seen}`);
    seen += decoder.decode(value, { stream: true });
    const line = seen.split("\n").find((l) => re.test(l));
    if (!line) continue;
    const rest = (async () => {
      let tail = "";
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        tail += decoder.decode(r.value, { stream: true });
      }
      return tail;
    })();
    return { line, rest };
  }
}

Deno.test("startup: PORT=0 starts on a free port, serves /healthz, and SIGTERM exits with code 0", async () => {
  const child = command({}).spawn();
  const stdout = child.stdout.pipeTo(new WritableStream());
  try {
    const { line, rest } = await waitForLine(child.stderr, /HappyChat is running at/);
    const m = line.match(/running at (\S+) \(port (\d+)\)/);
    assert.ok(m, line);
    const [origin, port] = [new URL(m[1]), Number(m[2])];
    assert.ok(port > 0);
    assert.equal(Number(origin.port), port, "the printed origin has the port it listens on");
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true });
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0, `exit code 0 after SIGTERM; stderr after start:\n${await rest}`);
    assert.equal((await rest).trim(), "", "nothing more on stderr");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already ended
    }
    await child.status;
    await stdout;
  }
});
