/** The built-in bot's simple brain: greets, helps, tells the time, and echoes. Answers at once. */
import type { Locale } from "../i18n/i18n.ts";
import { MAX_TEXT_CHARS } from "../wire/protocol.ts";

const GREETINGS = /^(hi|hello|hey|你好|您好|嗨|哈喽|早上好|晚上好)[!！。.\s]*$/i;
const HELP = /^(help|\?|？|帮助|怎么用|菜单)$/i;
const TIME = /^(time|几点了?|现在几点|时间)[?？]?$/i;

/** The bot's first message to a new user, waiting in the bot conversation at first login. */
export function botWelcome(ctx: { locale: Locale; name: string }): string {
  return ctx.locale === "zh-CN"
    ? `${ctx.name}，欢迎来到乐聊！我是乐聊机器人，随时在线。和我说“你好”，或者发“帮助”看看我能做什么。`
    : `Welcome to HappyChat, ${ctx.name}! I'm the HappyChat bot and always here. Say "hi", or send "help" to see what I can do.`;
}

/** The bot's answer to one message from `name`. */
export function botReply(text: string, ctx: { locale: Locale; name: string; now?: Date }): string {
  const t = text.trim();
  const zh = ctx.locale === "zh-CN";
  if (GREETINGS.test(t)) {
    return zh
      ? `你好，${ctx.name}！我是乐聊机器人。发送“帮助”看看我能做什么。`
      : `Hello, ${ctx.name}! I'm the HappyChat bot. Send "help" to see what I can do.`;
  }
  if (HELP.test(t)) {
    return zh
      ? "我能做这些：\n· 打招呼：发“你好”\n· 报时：发“几点了”\n· 其他内容我会复述给你听。"
      : 'Here is what I can do:\n· Say "hi" and I greet you\n· Ask "time" and I tell it\n· Anything else, I repeat back.';
  }
  if (TIME.test(t)) {
    const now = ctx.now ?? new Date();
    return (zh ? "现在是 " : "It is ") + now.toISOString().replace("T", " ").slice(0, 16) + " UTC";
  }
  return echo(t, zh);
}

/**
 * "You said: …" around the user's text, shortened so that the reply stays a valid message
 * (at most MAX_TEXT_CHARS code points, like every message clients are promised).
 */
function echo(t: string, zh: boolean): string {
  const wrap = (s: string) => (zh ? `你说：“${s}”` : `You said: "${s}"`);
  const room = MAX_TEXT_CHARS - [...wrap("")].length;
  const points = [...t];
  return wrap(points.length <= room ? t : points.slice(0, room - 1).join("") + "…");
}
