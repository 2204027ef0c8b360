import assert from "node:assert/strict";
import { DELIVERIES_PER_BOT, WebhookDispatcher } from "./dispatch.ts";
import { keys } from "../kv/keys.ts";
import { setLogSink } from "../log.ts";

/** Bots with webhooks, a person, and one message in a DM and one in a group. */
async function world(kv: Deno.Kv) {
  for (const id of ["slowbot", "okbot"]) {
    await kv.set(keys.user(id), {
      id,
      bot: {
        owner: "o",
        description: "",
        tokenHash: null,
        webhookUrl: `https://${id}.example/`,
        webhookSecret: "s",
      },
    });
  }
  await kv.set(keys.user("amy"), { id: "amy" });
  await kv.set(keys.msg("dm1", 1), { conv: "dm1", seq: 1, from: "amy", text: "hi" });
  await kv.set(keys.msg("g1", 1), {
    conv: "g1",
    seq: 1,
    from: "amy",
    text: "@x",
    mentions: ["okbot", "amy", "all"],
  });
}

const amy = { id: "amy", username: "amy", nickname: "Amy" };

Deno.test("webhooks: one bot's slow endpoint holds at most its share; others still get theirs", async () => {
  const kv = await Deno.openKv(":memory:");
  const lines: string[] = [];
  const prev = setLogSink((line) => lines.push(line));
  await world(kv);
  const calls: string[] = [];
  const release: (() => void)[] = [];
  const d = new WebhookDispatcher(kv, { allow: [] }, (target, payload) => {
    calls.push(`${target.url} ${(payload as { convKind: string }).convKind}`);
    return new Promise((resolve) =>
      release.push(() => resolve({ ok: true, attempts: 1, deliveryId: "x" }))
    );
  });
  for (let i = 0; i < DELIVERIES_PER_BOT + 4; i++) {
    await d.notify({ conv: "dm1", seq: 1, kind: "dm", peer: "slowbot", sender: amy });
  }
  assert.equal(calls.length, DELIVERIES_PER_BOT);
  assert.equal(lines.filter((l) => l.includes("webhook.dropped")).length, 4);
  // A group message goes to the bots among its mentions only (not to people, not for "all").
  await d.notify({
    conv: "g1",
    seq: 1,
    kind: "group",
    mentions: ["okbot", "amy", "all"],
    sender: amy,
  });
  // A DM with a person (no bot) goes nowhere.
  await d.notify({ conv: "dm1", seq: 1, kind: "dm", peer: "amy", sender: amy });
  assert.deepEqual(calls.slice(DELIVERIES_PER_BOT), ["https://okbot.example/ group"]);
  for (const r of release) r();
  await d.settled();
  // Its share is free again.
  await d.notify({ conv: "dm1", seq: 1, kind: "dm", peer: "slowbot", sender: amy });
  assert.equal(calls.length, DELIVERIES_PER_BOT + 2);
  for (const r of release.slice(DELIVERIES_PER_BOT + 1)) r();
  await d.settled();
  setLogSink(prev);
  kv.close();
});
