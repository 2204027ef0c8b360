/** Structured logs: one JSON line per event. The only module that writes to the console. */

export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEYS = /pass|token|secret|cookie|authorization/i;

let minLevel: Level = "info";
let sink: (line: string, level: Level) => void = (line, level) => {
  // deno-lint-ignore no-console
  (level === "error" || level === "warn" ? console.error : console.log)(line);
};

/** Sets the lowest level written (LOG_LEVEL). */
export function setLogLevel(level: Level): void {
  minLevel = level;
}

export function getLogLevel(): Level {
  return minLevel;
}

/** Writes a line another thread made (its level already checked there): one place for output. */
export function passLine(line: string, level: Level): void {
  sink(line, level);
}

/** Replaces where lines go (tests capture them). Returns the previous sink. */
export function setLogSink(next: typeof sink): typeof sink {
  const prev = sink;
  sink = next;
  return prev;
}

/** Drops any field whose name looks like a secret, so a token can never reach a log. */
function scrub(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_KEYS.test(k)) out[k] = "[redacted]";
    else if (v instanceof Error) out[k] = { name: v.name, message: v.message };
    else out[k] = v;
  }
  return out;
}

function write(level: Level, event: string, fields: Record<string, unknown> = {}): void {
  if (ORDER[level] < ORDER[minLevel]) return;
  sink(JSON.stringify({ t: new Date().toISOString(), level, event, ...scrub(fields) }), level);
}

/** The logger: `log.info("user.registered", { userId })`. */
export const log = {
  debug: (event: string, fields?: Record<string, unknown>) => write("debug", event, fields),
  info: (event: string, fields?: Record<string, unknown>) => write("info", event, fields),
  warn: (event: string, fields?: Record<string, unknown>) => write("warn", event, fields),
  error: (event: string, fields?: Record<string, unknown>) => write("error", event, fields),
};

/** One plain line for a human at startup (not JSON): e.g. a fatal config error. */
export function say(line: string): void {
  // deno-lint-ignore no-console
  console.error(line);
}
