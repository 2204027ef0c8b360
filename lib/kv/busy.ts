/**
 * Several isolates on one local KV file (one per core) are several SQLite connections, and a
 * write can meet "database is locked" when another commits at the same moment. Nothing was
 * written then, so the same write is tried again after a short random pause.
 */

const ATTEMPTS = 30;

/** True for SQLite's "database is locked" (SQLITE_BUSY). */
export function isBusy(err: unknown): boolean {
  return err instanceof Error && /database is locked|SQLITE_BUSY/i.test(err.message);
}

async function retry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isBusy(err) || attempt >= ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * attempt)));
    }
  }
}

const RETRIED = new Set(["get", "getMany", "set", "delete"]);

/** The same KV handle, with every write (and point read) retried on SQLITE_BUSY. */
export function retryOnBusy(kv: Deno.Kv): Deno.Kv {
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          // An atomic operation can be committed again: its checks make a repeat safe.
          op.commit = () => retry(commit);
          return op;
        };
      }
      if (typeof value !== "function") return value;
      if (typeof prop === "string" && RETRIED.has(prop)) {
        return (...args: unknown[]) =>
          retry(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      }
      return value.bind(target);
    },
  });
}
