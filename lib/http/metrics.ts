/** Counters for GET /metrics in the Prometheus text format (per isolate). */

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const requests = new Map<string, number>();
const histo = new Map<string, { counts: number[]; sum: number; count: number }>();
let openSockets = 0;

function label(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Records one finished request by route pattern (not raw path, to bound the label set). */
export function observeRequest(
  method: string,
  route: string,
  status: number,
  seconds: number,
): void {
  const k = `${method} ${route} ${status}`;
  requests.set(k, (requests.get(k) ?? 0) + 1);
  const hk = `${method} ${route}`;
  let h = histo.get(hk);
  if (!h) histo.set(hk, h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 });
  BUCKETS.forEach((b, i) => {
    if (seconds <= b) h.counts[i]++;
  });
  h.sum += seconds;
  h.count++;
}

export function socketOpened(): void {
  openSockets++;
}

export function socketClosed(): void {
  openSockets--;
}

/** The metrics page body. */
export function renderMetrics(): string {
  const out: string[] = [
    "# HELP happychat_http_requests_total HTTP requests by route and status.",
    "# TYPE happychat_http_requests_total counter",
  ];
  for (const [k, n] of requests) {
    const [method, route, status] = k.split(" ");
    out.push(
      `happychat_http_requests_total{method="${label(method)}",route="${
        label(route)
      }",status="${status}"} ${n}`,
    );
  }
  out.push(
    "# HELP happychat_http_request_duration_seconds HTTP request latency.",
    "# TYPE happychat_http_request_duration_seconds histogram",
  );
  for (const [k, h] of histo) {
    const [method, route] = k.split(" ");
    const l = `method="${label(method)}",route="${label(route)}"`;
    BUCKETS.forEach((b, i) =>
      out.push(`happychat_http_request_duration_seconds_bucket{${l},le="${b}"} ${h.counts[i]}`)
    );
    out.push(`happychat_http_request_duration_seconds_bucket{${l},le="+Inf"} ${h.count}`);
    out.push(`happychat_http_request_duration_seconds_sum{${l}} ${h.sum}`);
    out.push(`happychat_http_request_duration_seconds_count{${l}} ${h.count}`);
  }
  out.push(
    "# HELP happychat_websockets_open Open WebSocket connections.",
    "# TYPE happychat_websockets_open gauge",
    `happychat_websockets_open ${openSockets}`,
  );
  return out.join("\n") + "\n";
}

/** The connection guard's counters (lib/http/guard/guard.ts), when it runs. */
export function renderGuardMetrics(stats: {
  open: number;
  maxTotal: number;
  accepted: number;
  acceptErrors: number;
  refused: Record<string, number | undefined>;
  closed: Record<string, number | undefined>;
}): string {
  const out = [
    "# HELP happychat_guard_connections_open Client connections the guard holds.",
    "# TYPE happychat_guard_connections_open gauge",
    `happychat_guard_connections_open ${stats.open}`,
    "# HELP happychat_guard_connections_max Client connections the guard may hold at once.",
    "# TYPE happychat_guard_connections_max gauge",
    `happychat_guard_connections_max ${stats.maxTotal}`,
    "# HELP happychat_guard_accepted_total Client connections accepted.",
    "# TYPE happychat_guard_accepted_total counter",
    `happychat_guard_accepted_total ${stats.accepted}`,
    "# HELP happychat_guard_accept_errors_total Failed accepts (out of descriptors, mostly).",
    "# TYPE happychat_guard_accept_errors_total counter",
    `happychat_guard_accept_errors_total ${stats.acceptErrors}`,
    "# HELP happychat_guard_refused_total Connections closed at once, by reason.",
    "# TYPE happychat_guard_refused_total counter",
  ];
  for (const [k, n] of Object.entries(stats.refused)) {
    out.push(`happychat_guard_refused_total{reason="${label(k)}"} ${n ?? 0}`);
  }
  out.push(
    "# HELP happychat_guard_closed_total Connections the guard ended, by reason.",
    "# TYPE happychat_guard_closed_total counter",
  );
  for (const [k, n] of Object.entries(stats.closed)) {
    out.push(`happychat_guard_closed_total{reason="${label(k)}"} ${n ?? 0}`);
  }
  return out.join("\n") + "\n";
}
