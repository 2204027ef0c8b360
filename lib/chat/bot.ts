/** The built-in bot's first words to a new user (its answers are lib/chat/brain.ts's). */
import type { Locale } from "../i18n/i18n.ts";

/** The bot's first message to a new user, waiting in the bot conversation at first login. */
export function botWelcome(ctx: { locale: Locale; name: string }): string {
  return ctx.locale === "zh-CN"
    ? `${ctx.name}，欢迎来到乐聊！我是乐聊机器人，随时在线。和我说“你好”，或者发“帮助”看看我能做什么。`
    : `Welcome to HappyChat, ${ctx.name}! I'm the HappyChat bot and always here. Say "hi", or send "help" to see what I can do.`;
}
