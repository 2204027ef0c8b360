/**
 * /api/bot: what a bot does over plain HTTP with its token (`Authorization: Bearer hcb_…`), for
 * bots that do not keep a WebSocket open (docs/bots.md#http-api): who it is, its conversations,
 * the messages of one after a seq, and sending. Sending follows the rules any member follows: a bot
 * posts only where it is a member, and a DM only while it and the person are friends.
 */
import { Hono } from "hono";
import type { Ctx, Env } from "../../lib/http/state.ts";
import { body, readJson } from "../../lib/http/body.ts";
import { HttpError } from "../../lib/errors.ts";
import { bearerToken, botByToken, type BotUser } from "../../lib/bots/bots.ts";
import { listUserConvs, requireMember, type UserConv } from "../../lib/chat/conversations.ts";
import { summarize, userCard } from "../../lib/chat/conv_list.ts";
import { range, visibleTo } from "../../lib/chat/history.ts";
import { textMessage } from "../../lib/chat/send_rules.ts";
import { hitLimit } from "../../lib/kv/rate_limit.ts";
import { keys } from "../../lib/kv/keys.ts";
import { parseClientFrame } from "../../lib/wire/protocol.ts";

export const botApi = new Hono<Env>();

/** Messages one call returns at most. */
export const BOT_PAGE_MAX = 100;
/** Messages a bot sends over HTTP per minute (on /ws the socket's own limits apply). */
export const BOT_SENDS_PER_MINUTE = 60;

async function requireBot(c: Ctx): Promise<BotUser> {
  const token = bearerToken(c.req.header("Authorization"));
  const bot = token ? await botByToken(c.var.deps.kv, token) : null;
  if (!bot) throw new HttpError(401, "unauthorized", "Unknown or revoked bot token");
  return bot;
}

botApi.get("/me", body.none, async (c) => {
  const bot = await requireBot(c);
  return c.json({ bot: userCard(bot) });
});

botApi.get("/convs", body.none, async (c) => {
  const bot = await requireBot(c);
  const { kv } = c.var.deps;
  const entries = await listUserConvs(kv, bot.id);
  return c.json({ convs: await summarize(kv, bot.id, entries, bot.locale) });
});

botApi.get("/convs/:id/messages", body.none, async (c) => {
  const bot = await requireBot(c);
  const { kv } = c.var.deps;
  const conv = c.req.param("id");
  const after = Number(c.req.query("after") ?? "0");
  if (!Number.isSafeInteger(after) || after < 0) {
    throw new HttpError(400, "bad_input", 'Query "after" must be a seq (a whole number ≥ 0)');
  }
  const m = await requireMember(kv, conv, bot.id);
  const head = (await kv.get<{ seq: number }>(keys.convHead(conv))).value?.seq ?? 0;
  const from = Math.max(after, m.joinedSeq);
  const messages = (await range(kv, conv, from, head, BOT_PAGE_MAX))
    .filter((x) => visibleTo(x, bot.id));
  const last = messages.at(-1)?.seq ?? from;
  return c.json({ messages, lastSeq: head, hasMore: last < head });
});

botApi.post("/convs/:id/messages", body.json, async (c) => {
  const bot = await requireBot(c);
  const { kv, rt } = c.var.deps;
  const b = readJson(c);
  const parsed = parseClientFrame(JSON.stringify({
    type: "send",
    conv: c.req.param("id"),
    cid: b.cid ?? crypto.randomUUID(),
    text: b.text ?? "",
    ...(b.reply !== undefined ? { reply: b.reply } : {}),
    ...(b.mentions !== undefined ? { mentions: b.mentions } : {}),
  }));
  if ("code" in parsed) throw new HttpError(400, "bad_input", parsed.message);
  if (parsed.type !== "send") throw new Error("a send frame parsed as another");
  const f = parsed;
  const limit = await hitLimit(kv, "bot_send", bot.id, {
    max: BOT_SENDS_PER_MINUTE,
    windowMs: 60_000,
  });
  if (!limit.ok) {
    throw new HttpError(429, "rate_limited", "Sending too fast", { retryAfter: limit.retryAfter });
  }
  // Where the bot is not a member, it learns nothing more than that.
  const uc = (await kv.get<UserConv>(keys.userConv(bot.id, f.conv))).value;
  if (!uc) throw new HttpError(403, "not_member", `Not a member of conversation "${f.conv}"`);
  const peer = uc.kind === "dm" ? uc.peerId : undefined;
  const ack = await rt.log.append(textMessage({
    conv: f.conv,
    sender: bot.id,
    cid: f.cid,
    text: f.text,
    reply: f.reply,
    mentions: f.mentions,
  }, peer));
  if (!ack.duplicate && (uc.kind === "dm" || uc.kind === "group")) {
    rt.sent({
      conv: f.conv,
      seq: ack.seq,
      kind: uc.kind,
      peer,
      mentions: f.mentions,
      text: f.text,
      sender: bot,
    });
  }
  return c.json({
    conv: ack.conv,
    seq: ack.seq,
    id: ack.id,
    at: ack.at,
    cid: f.cid,
    duplicate: ack.duplicate ?? false,
  });
});
