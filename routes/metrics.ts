/** /metrics: Prometheus text, for loopback or `Authorization: Bearer $METRICS_TOKEN`. */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";
import { renderGuardMetrics, renderMetrics } from "../lib/http/metrics.ts";
import { isLocalRequest } from "../lib/http/security.ts";
import { HttpError } from "../lib/errors.ts";

export const metrics = new Hono<Env>();

metrics.get("/", async (c) => {
  const token = c.var.deps.config.metricsToken;
  const auth = c.req.header("Authorization");
  const ok = isLocalRequest(c) || (token && auth === `Bearer ${token}`);
  if (!ok) {
    throw new HttpError(403, "forbidden", "Metrics are only served to loopback or with a token");
  }
  const guard = await c.var.deps.guard?.stats();
  return c.text(renderMetrics() + (guard ? renderGuardMetrics(guard) : ""), 200, {
    "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
  });
});
