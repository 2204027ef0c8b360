/**
 * The flooding client of tests/flood.ts, run as its own process so that its memory and its
 * event loop are not the server's. Input: one JSON argument (FloodPlan); output: one JSON line
 * (FloodAnswers) on stdout.
 */
export interface FloodPlan {
  url: string;
  cookie: string;
  origin: string;
  conv: string;
  sockets: number;
  seconds: number;
  /** History requests per socket every 200 ms. */
  perTick: number;
  limit: number;
}

export interface FloodAnswers {
  sent: number;
  /** Answers by kind: "history", or "error:<code>". */
  answers: Record<string, number>;
  /** Sockets closed during the flood, by close code (1006 when the connection just dropped). */
  closed: Record<string, number>;
  unanswered: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A lean socket: counts answers by type and code without keeping them. */
async function open(plan: FloodPlan) {
  const headers = { cookie: plan.cookie, origin: plan.origin };
  // Deno's WebSocket takes request headers; the DOM types do not know that option.
  const ws = new WebSocket(plan.url, { headers } as unknown as string[]);
  const s = { ws, answers: {} as Record<string, number>, closed: 0, ready: false, answered: 0 };
  ws.onmessage = (e) => {
    const type = (e.data as string).slice(0, 40).match(/^\{"type":"([a-z_]+)"/)?.[1] ?? "?";
    if (type === "resumed") s.ready = true;
    if (type !== "history" && type !== "error") return;
    const key = type === "error" ? `error:${JSON.parse(e.data).code}` : type;
    s.answered++;
    s.answers[key] = (s.answers[key] ?? 0) + 1;
  };
  ws.onclose = (e) => s.closed = e.code || 1006;
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("WebSocket failed to open"));
  });
  ws.send(JSON.stringify({ type: "hello", v: 1 }));
  while (!s.ready) await sleep(5);
  return s;
}

export async function flood(plan: FloodPlan): Promise<FloodAnswers> {
  const socks: Awaited<ReturnType<typeof open>>[] = [];
  for (let i = 0; i < plan.sockets; i++) socks.push(await open(plan));
  let sent = 0;
  const end = performance.now() + plan.seconds * 1000;
  while (performance.now() < end) {
    for (const [i, s] of socks.entries()) {
      if (s.ws.readyState !== WebSocket.OPEN) continue;
      for (let k = 0; k < plan.perTick; k++) {
        const rid = `s${i}-${sent++}`;
        s.ws.send(JSON.stringify({ type: "history", rid, conv: plan.conv, limit: plan.limit }));
      }
    }
    // Never a catch-up tick: at most 5 ticks in any second, as the server counts them.
    await sleep(200);
  }
  const answered = () => socks.reduce((t, s) => t + s.answered, 0);
  const until = performance.now() + 60_000;
  while (answered() < sent && performance.now() < until && socks.some((s) => !s.closed)) {
    await sleep(50);
  }
  const answers: Record<string, number> = {};
  const closed: Record<string, number> = {};
  for (const s of socks) {
    for (const [k, v] of Object.entries(s.answers)) answers[k] = (answers[k] ?? 0) + v;
    if (s.closed) closed[s.closed] = (closed[s.closed] ?? 0) + 1;
    s.ws.close();
  }
  return { sent, answers, closed, unanswered: sent - answered() };
}

if (import.meta.main) {
  const result = await flood(JSON.parse(Deno.args[0]) as FloodPlan);
  await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(result) + "\n"));
  Deno.exit(0);
}
