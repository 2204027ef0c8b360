/**
 * The built-in bot's brain, with no setup, in English and Chinese: greetings and small talk,
 * help, the date and time in the user's time zone, arithmetic, unit conversion, dice, coins,
 * picking one of several things, and reminders ("remind me in 10 minutes to …" /
 * "10分钟后提醒我开会"). Anything else gets an honest "I don't understand" with examples, never
 * an echo. Pure: the caller stores reminders (lib/chat/reminders.ts).
 */
import type { Locale } from "../i18n/i18n.ts";

export interface Thought {
  text: string;
  /** A reminder to deliver at `at` (ms) saying `what`. */
  remind?: { at: number; what: string };
  /** Nothing the brain knows: its answer says so (a language model may answer instead). */
  unknown?: true;
}

export interface BrainCtx {
  locale: Locale;
  name: string;
  now: number;
  /** The user's IANA time zone (from their browser), when known. */
  tz?: string;
  /** 0 ≤ random() < 1: the dice's and coins' source (tests pass their own). */
  random?: () => number;
}

/** The longest message the brain reads. */
export const MAX_INPUT_CHARS = 500;
/** The longest a reminder may wait. */
export const REMIND_MAX_MS = 30 * 24 * 3600_000;

const norm = (s: string) => s.normalize("NFKC").trim();

export function think(input: string, ctx: BrainCtx): Thought {
  const t = norm(input);
  const zh = ctx.locale === "zh-CN" || /\p{Script=Han}/u.test(t);
  const say = (en: string, cn: string) => ({ text: zh ? cn : en });
  // Whatever the brain repeats back (a sum, a choice, a reminder) stays far under a message's
  // limit: it only reads short messages.
  if ([...t].length > MAX_INPUT_CHARS) return notUnderstood(zh);
  const random = ctx.random ?? Math.random;

  if (/^(hi|hello|hey|你好|您好|嗨|哈喽|早上好|晚上好|早|晚安)[!！。.~\s]*$/i.test(t)) {
    return say(
      `Hello, ${ctx.name}! I'm the HappyChat bot. Send "help" to see what I can do.`,
      `你好，${ctx.name}！我是乐聊机器人。发送“帮助”看看我能做什么。`,
    );
  }
  if (/^(help|\?|？|帮助|怎么用|菜单|你能做什么|你会什么)[?？]?$/i.test(t)) {
    return say(HELP_EN, HELP_ZH);
  }
  if (/^(thanks?( you)?|thx|谢谢|多谢|谢啦|感谢)[!！。.\s]*$/i.test(t)) {
    return say("You're welcome!", "不客气！");
  }
  if (/^(who are you|what are you|你是谁|你叫什么)[?？]?$/i.test(t)) {
    return say(
      "I'm the HappyChat bot: I calculate, convert units, roll dice and remind you of things.",
      "我是乐聊机器人：会算数、换算单位、掷骰子，还能提醒你做事。",
    );
  }
  if (/^(how are you|你好吗|最近怎么样)[?？]?$/i.test(t)) {
    return say("Always fine, always here. And you?", "我一直都在，挺好的！你呢？");
  }
  if (/^(bye|goodbye|再见|拜拜)[!！。.\s]*$/i.test(t)) {
    return say("Bye! Talk soon.", "再见，随时找我！");
  }

  const reminder = parseReminder(t, ctx.now);
  if (reminder) {
    if (reminder.at - ctx.now > REMIND_MAX_MS) {
      return say("I can remind you up to 30 days ahead.", "我最多能提前 30 天提醒你。");
    }
    const when = timeText(reminder.at, ctx, zh);
    return {
      text: zh
        ? `好的，我会在 ${when} 提醒你：${reminder.what}`
        : `OK, I'll remind you at ${when}: ${reminder.what}`,
      remind: reminder,
    };
  }
  if (/^(time|what time is it|what's the time|几点了?|现在几点了?|时间)[?？]?$/i.test(t)) {
    return say(
      `It is ${timeText(ctx.now, ctx, false)}.`,
      `现在是 ${timeText(ctx.now, ctx, true)}。`,
    );
  }
  if (
    /^(date|today|what day is it( today)?|what's the date|今天几号|今天是几号|今天星期几|日期)[?？]?$/i
      .test(t)
  ) {
    return say(`Today is ${dateText(ctx, false)}.`, `今天是 ${dateText(ctx, true)}。`);
  }
  if (/^(roll( a)?( die| dice)?|掷骰子|扔骰子|骰子)[!！]?$/i.test(t)) {
    const n = 1 + Math.floor(random() * 6);
    return say(`🎲 ${n}`, `🎲 ${n} 点`);
  }
  if (/^(flip( a)? coin|coin|抛硬币|扔硬币|硬币)[!！]?$/i.test(t)) {
    const heads = random() < 0.5;
    return say(heads ? "🪙 Heads" : "🪙 Tails", heads ? "🪙 正面" : "🪙 反面");
  }
  const choices = parsePick(t);
  if (choices) {
    const c = choices[Math.floor(random() * choices.length)];
    return say(`I pick: ${c}`, `我选：${c}`);
  }
  const conv = convertUnits(t);
  if (conv) return { text: conv };
  const sum = calculate(t);
  if (sum !== null) return { text: sum };
  return notUnderstood(zh);
}

function notUnderstood(zh: boolean): Thought {
  return { text: zh ? NOT_UNDERSTOOD_ZH : NOT_UNDERSTOOD_EN, unknown: true };
}

const HELP_EN = [
  "Here is what I can do:",
  '· Arithmetic: "3 * (4 + 5)", "what is 2^10"',
  '· Units: "10 km in miles", "100 f to c", "5 kg to lb"',
  '· Reminders: "remind me in 10 minutes to call mom"',
  '· "time", "date", "roll a die", "flip a coin", "pick pizza, sushi or tacos"',
].join("\n");
const HELP_ZH = [
  "我能做这些：",
  "· 算数：“3*(4+5)”、“2的10次方”也可以写成“2^10”",
  "· 换算：“10公里等于多少英里”、“5斤是多少公斤”、“100华氏度转摄氏度”",
  "· 提醒：“10分钟后提醒我开会”",
  "· “几点了”、“今天几号”、“掷骰子”、“抛硬币”、“帮我选 火锅 烧烤 日料”",
].join("\n");
const NOT_UNDERSTOOD_EN =
  'Sorry, I didn\'t understand that. Try "3 * (4 + 5)", "10 km in miles", "remind me in 10 minutes to stretch", or "help".';
const NOT_UNDERSTOOD_ZH =
  "抱歉，我没听懂。试试“3*(4+5)”、“10公里等于多少英里”、“10分钟后提醒我喝水”，或者发“帮助”。";

function zoneOf(ctx: BrainCtx): string {
  try {
    if (ctx.tz) {
      return new Intl.DateTimeFormat("en", { timeZone: ctx.tz }).resolvedOptions().timeZone;
    }
  } catch {
    // An unknown zone: UTC below.
  }
  return "UTC";
}

function timeText(at: number, ctx: BrainCtx, zh: boolean): string {
  const tz = zoneOf(ctx);
  const s = new Intl.DateTimeFormat(zh ? "zh-CN" : "en-GB", {
    timeZone: tz,
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
    ...(at - ctx.now > 20 * 3600_000 ? { month: "numeric", day: "numeric" } : {}),
  }).format(at);
  return tz === "UTC" ? `${s} UTC` : s;
}

function dateText(ctx: BrainCtx, zh: boolean): string {
  return new Intl.DateTimeFormat(zh ? "zh-CN" : "en-GB", {
    timeZone: zoneOf(ctx),
    year: "numeric",
    month: "long",
    day: "numeric",
    weekday: "long",
  }).format(ctx.now);
}

const UNIT_MS: [RegExp, number][] = [
  [/^(s|sec|secs|second|seconds|秒|秒钟)$/i, 1000],
  [/^(m|min|mins|minute|minutes|分|分钟)$/i, 60_000],
  [/^(h|hr|hrs|hour|hours|小时|个小时|钟头|个钟头)$/i, 3600_000],
  [/^(d|day|days|天)$/i, 24 * 3600_000],
];

function msOf(n: string, unit: string): number | null {
  const v = numberOf(n);
  const u = UNIT_MS.find(([re]) => re.test(unit));
  return v === null || !u || v <= 0 ? null : Math.round(v * u[1]);
}

const CN_DIGITS: Record<string, number> = {
  零: 0,
  一: 1,
  二: 2,
  两: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
  十: 10,
  半: 0.5,
};

/** "10", "2.5", "a", "an", "一", "十五", "半" as a number. */
function numberOf(s: string): number | null {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  if (/^(a|an|one)$/i.test(s)) return 1;
  if (/^[零一二两三四五六七八九十半]+$/.test(s)) {
    if (s === "半") return 0.5;
    if (s.includes("十")) {
      const [tens, ones] = s.split("十");
      return (tens ? CN_DIGITS[tens] ?? NaN : 1) * 10 + (ones ? CN_DIGITS[ones] ?? NaN : 0);
    }
    return s.length === 1 ? CN_DIGITS[s] : null;
  }
  return null;
}

/** "remind me in 10 minutes to X", "in 2 hours remind me X", "10分钟后提醒我X", "提醒我半小时后X". */
export function parseReminder(t: string, now: number): { at: number; what: string } | null {
  const amount = String.raw`(\d+(?:\.\d+)?|an?|one|[零一二两三四五六七八九十半]+)`;
  // Longer names first, and an English unit ends its word ("m" is not the start of "minutes").
  const unit = String
    .raw`(秒钟?|分钟|分|个?小时|个?钟头|天|(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|s|m|h|d)(?![a-z]))`;
  const en = new RegExp(
    String
      .raw`^(?:remind me in ${amount}\s*${unit}(?:\s+(?:to|that|about))?\s*(.*)|in ${amount}\s*${unit},?\s*remind me(?:\s+(?:to|that|about))?\s*(.*))$`,
    "i",
  );
  const m = en.exec(t);
  if (m) {
    const [n, u, what] = m[1] ? [m[1], m[2], m[3]] : [m[4], m[5], m[6]];
    const ms = msOf(n, u);
    return ms ? { at: now + ms, what: what.replace(/[.!]+$/, "").trim() || "⏰" } : null;
  }
  const zh = new RegExp(
    String
      .raw`^(?:${amount}\s*${unit}(?:之)?后\s*提醒我\s*(.*)|提醒我\s*${amount}\s*${unit}(?:之)?后\s*(.*))$`,
  );
  const z = zh.exec(t);
  if (z) {
    const [n, u, what] = z[1] ? [z[1], z[2], z[3]] : [z[4], z[5], z[6]];
    const ms = msOf(n, u);
    return ms ? { at: now + ms, what: what.replace(/^[，,：:]/, "").trim() || "⏰" } : null;
  }
  return null;
}

/** "pick a, b or c", "choose between a and b", "帮我选 火锅 烧烤 日料", "火锅还是烧烤". */
function parsePick(t: string): string[] | null {
  const m = /^(?:pick|choose)(?: between| one of| from)?[:\s]+(.+?)[?？]?$/i.exec(t) ??
    /^(?:帮我选|选一个|随便选)[:：\s]*(.+?)[?？]?$/.exec(t);
  let list: string[] | null = null;
  if (m) list = m[1].split(/\s*(?:,|，|、|\bor\b|\band\b|还是|或者|和|\s)\s*/i);
  else if (/还是/.test(t) && t.length <= 60) list = t.replace(/[?？吗呢]+$/, "").split(/还是/);
  const items = list?.map((s) => s.trim()).filter(Boolean);
  return items && items.length >= 2 && items.length <= 20 ? items : null;
}

// ---- arithmetic: a small recursive-descent parser (never eval) ----

/** The answer to an arithmetic question, or null when the text is not one. */
export function calculate(t: string): string | null {
  const expr = t
    .replace(/^(what is|what's|calc(?:ulate)?|compute|算一下|算算|计算|算)\s*/i, "")
    .replace(/\s*(=|等于多少|等于几|等于|是多少|是几)\s*[?？]?$/, "")
    .replace(/[?？]$/, "")
    .replace(/加上?|\bplus\b/gi, "+").replace(/减去?|\bminus\b/gi, "-")
    .replace(/乘以?|\btimes\b|×|x(?=\s*[\d(])/gi, "*").replace(/除以|\bdivided by\b|÷/gi, "/")
    .replace(/的(\d+(?:\.\d+)?)次方/g, "^$1").replace(/（/g, "(").replace(/）/g, ")")
    .replace(/\s+/g, "");
  if (!/^[\d.+\-*/^%()]+$/.test(expr) || !/\d/.test(expr) || !/[+\-*/^%]/.test(expr.slice(1))) {
    return null;
  }
  try {
    const p = new Parser(expr);
    const v = p.expr();
    if (!p.done() || !Number.isFinite(v)) return null;
    return `${t.replace(/\s*(=|等于多少|等于几|等于|是多少|是几)?\s*[?？]?$/, "")} = ${fmtNum(v)}`;
  } catch {
    return null;
  }
}

function fmtNum(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(12)));
}

class Parser {
  #i = 0;
  #depth = 0;
  constructor(readonly s: string) {}
  done(): boolean {
    return this.#i === this.s.length;
  }
  #peek(): string {
    return this.s[this.#i] ?? "";
  }
  expr(): number {
    let v = this.#term();
    while (this.#peek() === "+" || this.#peek() === "-") {
      v = this.s[this.#i++] === "+" ? v + this.#term() : v - this.#term();
    }
    return v;
  }
  #term(): number {
    let v = this.#power();
    while ("*/%".includes(this.#peek()) && this.#peek()) {
      const op = this.s[this.#i++];
      const r = this.#power();
      v = op === "*" ? v * r : op === "/" ? v / r : v % r;
    }
    return v;
  }
  #power(): number {
    const base = this.#unary();
    if (this.#peek() !== "^") return base;
    this.#i++;
    return base ** this.#power();
  }
  #unary(): number {
    if (this.#peek() === "-") return (this.#i++, -this.#unary());
    if (this.#peek() === "+") return (this.#i++, this.#unary());
    if (this.#peek() === "(") {
      if (++this.#depth > 50) throw new Error("too deep");
      this.#i++;
      const v = this.expr();
      if (this.s[this.#i++] !== ")") throw new Error("unbalanced");
      this.#depth--;
      return v;
    }
    const m = /^\d+(\.\d+)?/.exec(this.s.slice(this.#i));
    if (!m) throw new Error("number expected");
    this.#i += m[0].length;
    return Number(m[0]);
  }
}

// ---- units ----

type Dim = "length" | "mass" | "volume" | "temp";
const UNITS: { names: string[]; dim: Dim; factor: number; label: [string, string] }[] = [
  {
    names: ["mm", "millimeter", "millimeters", "毫米"],
    dim: "length",
    factor: 0.001,
    label: ["mm", "毫米"],
  },
  {
    names: ["cm", "centimeter", "centimeters", "厘米", "公分"],
    dim: "length",
    factor: 0.01,
    label: ["cm", "厘米"],
  },
  {
    names: ["m", "meter", "meters", "metre", "metres", "米"],
    dim: "length",
    factor: 1,
    label: ["m", "米"],
  },
  {
    names: ["km", "kilometer", "kilometers", "公里", "千米"],
    dim: "length",
    factor: 1000,
    label: ["km", "公里"],
  },
  {
    names: ["in", "inch", "inches", "英寸", "寸"],
    dim: "length",
    factor: 0.0254,
    label: ["in", "英寸"],
  },
  { names: ["ft", "foot", "feet", "英尺"], dim: "length", factor: 0.3048, label: ["ft", "英尺"] },
  { names: ["yd", "yard", "yards", "码"], dim: "length", factor: 0.9144, label: ["yd", "码"] },
  {
    names: ["mi", "mile", "miles", "英里"],
    dim: "length",
    factor: 1609.344,
    label: ["mi", "英里"],
  },
  { names: ["里"], dim: "length", factor: 500, label: ["里", "里"] },
  { names: ["g", "gram", "grams", "克"], dim: "mass", factor: 0.001, label: ["g", "克"] },
  {
    names: ["kg", "kilogram", "kilograms", "kilo", "kilos", "公斤", "千克"],
    dim: "mass",
    factor: 1,
    label: ["kg", "公斤"],
  },
  {
    names: ["lb", "lbs", "pound", "pounds", "磅"],
    dim: "mass",
    factor: 0.45359237,
    label: ["lb", "磅"],
  },
  {
    names: ["oz", "ounce", "ounces", "盎司"],
    dim: "mass",
    factor: 0.028349523125,
    label: ["oz", "盎司"],
  },
  { names: ["斤"], dim: "mass", factor: 0.5, label: ["斤", "斤"] },
  { names: ["两"], dim: "mass", factor: 0.05, label: ["两", "两"] },
  {
    names: ["ml", "milliliter", "milliliters", "毫升"],
    dim: "volume",
    factor: 0.001,
    label: ["ml", "毫升"],
  },
  {
    names: ["l", "liter", "liters", "litre", "litres", "升"],
    dim: "volume",
    factor: 1,
    label: ["L", "升"],
  },
  {
    names: ["gal", "gallon", "gallons", "加仑"],
    dim: "volume",
    factor: 3.785411784,
    label: ["gal", "加仑"],
  },
  {
    names: ["c", "°c", "celsius", "摄氏度", "度"],
    dim: "temp",
    factor: 0,
    label: ["°C", "摄氏度"],
  },
  { names: ["f", "°f", "fahrenheit", "华氏度"], dim: "temp", factor: 0, label: ["°F", "华氏度"] },
  { names: ["k", "kelvin"], dim: "temp", factor: 0, label: ["K", "开尔文"] },
];

function unitOf(name: string) {
  const n = name.toLowerCase();
  return UNITS.find((u) => u.names.includes(n));
}

function toKelvin(v: number, label: string): number {
  return label === "°C" ? v + 273.15 : label === "°F" ? (v - 32) * 5 / 9 + 273.15 : v;
}

function fromKelvin(k: number, label: string): number {
  return label === "°C" ? k - 273.15 : label === "°F" ? (k - 273.15) * 9 / 5 + 32 : k;
}

/** "10 km in miles", "100 f to c", "5斤等于多少公斤", "3英尺是多少厘米", "100华氏度转摄氏度". */
export function convertUnits(t: string): string | null {
  const m =
    /^(?:convert\s+)?(-?\d+(?:\.\d+)?)\s*([a-z°]+|[\p{Script=Han}]+?)\s*(?:in|to|into|=|等于多少|是多少|等于几|换算成|换成|转换成|转成|转|合多少|等于)\s*([a-z°]+|[\p{Script=Han}]+?)[?？]?$/iu
      .exec(t);
  if (!m) return null;
  const [, num, fromName, toName] = m;
  const from = unitOf(fromName);
  const to = unitOf(toName);
  if (!from || !to || from.dim !== to.dim || from === to) return null;
  const v = Number(num);
  const out = from.dim === "temp"
    ? fromKelvin(toKelvin(v, from.label[0]), to.label[0])
    : v * from.factor / to.factor;
  const zh = /\p{Script=Han}/u.test(t);
  const l = (u: typeof from) => u.label[zh ? 1 : 0];
  return `${fmtNum(v)} ${l(from)} = ${fmtNum(Number(out.toPrecision(6)))} ${l(to)}`;
}
