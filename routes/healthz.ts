/** /healthz: 200 while the server answers and KV reads. */
import { Hono } from "hono";
import type { Env } from "../lib/http/state.ts";

export const healthz = new Hono<Env>();

healthz.get("/", async (c) => {
  await c.var.deps.kv.get(["healthz"]);
  return c.json({ ok: true });
});
