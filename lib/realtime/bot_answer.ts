/**
 * How the built-in bot answers a message: its own brain (lib/chat/brain.ts) for what it knows
 * (sums, units, reminders, dice …), and, when the operator set one up, a language model for the
 * rest, streamed into the chat as it is written.
 *
 * A streamed answer is not stored until it is whole: on the way, every device in the conversation
 * gets "draft" frames with the text so far (at most one per DRAFT_EVERY_MS), then the stored
 * message with the same cid replaces the draft. A client that connects or resumes meanwhile sees
 * the stored message when it comes; a server that dies mid-answer leaves a draft the clients drop
 * after DRAFT_SHOW_MS (docs/protocol.md#drafts). When the model fails, times out or stalls, the
 * answer says so politely, after whatever was written, and before anything was written the
 * built-in brain answers.
 */
import { BOT_ID, getMember } from "../chat/conversations.ts";
import { think } from "../chat/brain.ts";
import { addReminder } from "../chat/reminders.ts";
import { range, visibleTo } from "../chat/history.ts";
import { botMessage } from "../chat/send_rules.ts";
import { type ChatTurn, type LlmConfig, LlmError, streamChat } from "../chat/llm.ts";
import { hitLimit } from "../kv/rate_limit.ts";
import { HttpError } from "../errors.ts";
import type { Locale } from "../i18n/i18n.ts";
import { log } from "../log.ts";
import type { MessageLog } from "./message_log.ts";

/** The shortest time between two draft frames of one answer. */
export const DRAFT_EVERY_MS = 200;
/** Answers being streamed at once by one isolate; more wait for none: the brain answers them. */
export const LLM_STREAMS_MAX = 16;

/** What the bot is asked, and by whom. */
export interface Question {
  conv: string;
  /** The message's seq: the answer's cid is derived from it (a retried answer is a duplicate). */
  seq: number;
  text: string;
  user: string;
  name: string;
  locale: Locale;
  tz?: string;
  /** In a group, only reminders are refused (they would remind the whole group). */
  group?: boolean;
}

type Fetch = (input: string | URL, init: RequestInit) => Promise<Response>;

export class BotAnswerer {
  /** Users with an answer being streamed: one at a time each. */
  readonly #streaming = new Set<string>();

  constructor(
    readonly deps: { kv: Deno.Kv; log: MessageLog; now: () => number },
    /** The operator's language model, or null for the built-in brain alone. */
    public llm: LlmConfig | null = null,
    /** How requests to the model go out (the outbound guard, lib/bots/outbound.ts). */
    public fetch?: Fetch,
  ) {}

  /** Answers one message (errors are logged: a question never fails its sender's send). */
  async answer(q: Question): Promise<void> {
    const { kv, log: msgLog, now } = this.deps;
    // In a group, the bot answers only while it is a member.
    if (q.group && !await getMember(kv, q.conv, BOT_ID)) return;
    const zh = q.locale === "zh-CN";
    const thought = think(q.text, { locale: q.locale, name: q.name, now: now(), tz: q.tz });
    if (thought.unknown && this.llm) return await this.#stream(q, this.llm, thought.text);
    let answer = thought.text;
    if (thought.remind && q.group) {
      answer = zh
        ? "在群里我不设提醒，私聊我吧。"
        : "I set reminders in our own chat, not in groups.";
    } else if (thought.remind) {
      try {
        await addReminder(kv, {
          at: thought.remind.at,
          conv: q.conv,
          user: q.user,
          what: thought.remind.what,
          locale: q.locale,
        });
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        answer = zh
          ? "你等待中的提醒太多了，先等它们到点吧。"
          : "You have too many reminders waiting; let some of them come first.";
      }
    }
    await msgLog.append(botMessage(q.conv, q.seq, answer));
  }

  async #stream(q: Question, llm: LlmConfig, fallback: string): Promise<void> {
    const { kv, log: msgLog, now } = this.deps;
    const zh = q.locale === "zh-CN" || /\p{Script=Han}/u.test(q.text);
    const store = (text: string) => msgLog.append(botMessage(q.conv, q.seq, text));
    if (this.#streaming.has(q.user)) {
      return void await store(
        zh
          ? "我还在回答你上一条消息，稍等一下再问我。"
          : "I'm still answering your last message; ask me again in a moment.",
      );
    }
    if (this.#streaming.size >= LLM_STREAMS_MAX) {
      return void await store(fallback);
    }
    // Counted before the model is asked: a burst of questions cannot pass the day's limit.
    const day = await hitLimit(
      kv,
      "llm",
      q.user,
      { max: llm.dailyLimit, windowMs: 86_400_000 },
      now(),
    );
    if (!day.ok) {
      return void await store(
        (zh
          ? "今天我用语言模型回答你的次数已经用完了，明天再来聊吧。这之前我还能："
          : "That's all the model answers I can give you today; ask again tomorrow. Until then I can still: ") +
          "\n" + fallback,
      );
    }
    this.#streaming.add(q.user);
    const cid = `re-${q.seq}`;
    let text = "";
    let sentAt = 0;
    const draft = async () => {
      sentAt = performance.now();
      await msgLog.publish({
        t: "conv",
        conv: q.conv,
        frame: { type: "draft", conv: q.conv, from: BOT_ID, cid, text },
      });
    };
    try {
      const turns = await this.#context(q, llm.context);
      for await (const delta of streamChat(llm, turns, { fetch: this.fetch })) {
        text += delta;
        if (performance.now() - sentAt >= DRAFT_EVERY_MS) await draft();
      }
      if (!text.trim()) throw new LlmError("bad_stream", "The model answered nothing");
      // The stored message carries the whole text: no last draft before it.
      await store(text);
    } catch (err) {
      const kind = err instanceof LlmError ? err.kind : "internal";
      log.warn("bot.llm_failed", {
        kind,
        status: err instanceof LlmError ? err.status : undefined,
        ...(err instanceof LlmError ? {} : { err }),
      });
      const sorry = kind === "timeout" || kind === "stall"
        ? (zh ? "（语言模型太久没有回应）" : "(the language model took too long to answer)")
        : (zh ? "（语言模型出错了）" : "(the language model ran into an error)");
      await store(
        text.trim()
          ? `${text}\n\n${zh ? "……回答中断了" : "… my answer was cut off"} ${sorry}`
          : `${
            zh ? "抱歉，我现在连不上语言模型" : "Sorry, I can't reach my language model right now"
          } ${sorry}.\n\n${fallback}`,
      );
    } finally {
      this.#streaming.delete(q.user);
    }
  }

  /** The conversation's last `n` text messages up to the question, as turns for the model. */
  async #context(q: Question, n: number): Promise<ChatTurn[]> {
    const earlier = n > 0
      ? await range(this.deps.kv, q.conv, Math.max(0, q.seq - 1 - n * 2), q.seq - 1, n * 2)
      : [];
    const turns: ChatTurn[] = earlier
      .filter((m) => m.kind === "text" && !m.recalled && m.text && visibleTo(m, q.user))
      .slice(-n)
      .map((m) => ({ role: m.from === BOT_ID ? "assistant" : "user", content: m.text }));
    turns.push({ role: "user", content: q.text });
    return turns;
  }
}

/**
 * The question in a group message for the bot, or null when it is not asked: the bot is
 * @mentioned (in `mentions`, or by a leading "@bot"), and the mention is taken out of the text.
 */
export function questionFor(text: string, mentions: string[] | undefined): string | null {
  const lead = /^\s*@(?:bot\b|乐聊机器人|HappyChat Bot)[\s:：,，]*/i;
  const named = /@(乐聊机器人|HappyChat Bot)[\s:：,，]*/gi;
  if (!mentions?.includes(BOT_ID) && !lead.test(text)) return null;
  return text.replace(lead, "").replace(named, "").trim();
}
