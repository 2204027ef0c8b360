/** HappyChat: `deno task start`. Every setting is an environment variable (README.md). */
import { ConfigError, loadConfig } from "./lib/config.ts";
import { startServer } from "./lib/server.ts";
import { log, say, setLogLevel } from "./lib/log.ts";

try {
  const level = Deno.env.get("LOG_LEVEL");
  if (level === "debug" || level === "info" || level === "warn" || level === "error") setLogLevel(level);
  const config = loadConfig();
  const running = await startServer(config);
  say(`HappyChat is running at ${config.appOrigin} (port ${running.port})`);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, async () => {
      log.info("server.stopping", { signal: sig });
      await running.close();
      Deno.exit(0);
    });
  }
} catch (err) {
  if (err instanceof ConfigError) {
    say(`error: ${err.message}`);
    Deno.exit(1);
  }
  throw err;
}
