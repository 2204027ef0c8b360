/**
 * Reminders the bot promised ("10分钟后提醒我开会"): kept in KV by due time, delivered by every
 * isolate's once-a-second look at what is due (no KV queues: Deno Deploy has none). A reminder
 * is a bot message with the cid `remind-<id>`, so two isolates delivering it at once store it
 * once; then its keys go. Due while the server was down, it arrives at the next start.
 */
import { keys } from "../kv/keys.ts";
import { HttpError } from "../errors.ts";
import { newId } from "../ids.ts";
import { BOT_ID } from "./conversations.ts";
import type { Events } from "./events.ts";
import type { Locale } from "../i18n/i18n.ts";
import { log } from "../log.ts";

export interface Reminder {
  id: string;
  at: number;
  conv: string;
  user: string;
  what: string;
  locale: Locale;
}

/** Reminders one user may have waiting. */
export const REMINDERS_PER_USER = 50;

export async function addReminder(
  kv: Deno.Kv,
  r: Omit<Reminder, "id">,
): Promise<Reminder> {
  let waiting = 0;
  for await (
    const _ of kv.list({ prefix: keys.userReminders(r.user) }, { limit: REMINDERS_PER_USER })
  ) waiting++;
  if (waiting >= REMINDERS_PER_USER) {
    throw new HttpError(429, "too_many_reminders", "Too many reminders waiting");
  }
  const rem: Reminder = { ...r, id: newId() };
  await kv.atomic()
    .set(keys.reminder(rem.at, rem.id), rem)
    .set(keys.userReminder(rem.user, rem.id), rem.at)
    .commit();
  return rem;
}

/** The bot's message for a reminder. */
export function reminderText(r: Reminder): string {
  return r.locale === "zh-CN" ? `⏰ 提醒你：${r.what}` : `⏰ Reminder: ${r.what}`;
}

/** Delivers what is due, every `everyMs`, from start() to stop(). */
export class ReminderClock {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | null = null;
  #stopped = false;
  /** Told of each reminder just delivered (the engine pushes it to a user who is away). */
  onDelivered?: (r: Reminder, text: string) => void;

  constructor(
    private readonly kv: Deno.Kv,
    private readonly events: Events,
    private readonly now: () => number = Date.now,
    private readonly everyMs = 1000,
  ) {}

  start(): void {
    this.#stopped = false;
    this.#tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#running = this.deliverDue()
      .then(() => {})
      .catch((err) => log.warn("reminders.failed", { err }))
      .finally(() => {
        this.#running = null;
        if (!this.#stopped) this.#timer = setTimeout(() => this.#tick(), this.everyMs);
      });
  }

  /** Sends every reminder due by now (at most 100 a round); resolves when they are stored. */
  async deliverDue(): Promise<number> {
    const due: Deno.KvEntry<Reminder>[] = [];
    const iter = this.kv.list<Reminder>(
      { prefix: keys.reminders(), end: keys.reminder(this.now() + 1, "") },
      { limit: 100 },
    );
    for await (const e of iter) due.push(e);
    for (const e of due) {
      const r = e.value;
      const text = reminderText(r);
      const ack = await this.events.commit({
        conv: r.conv,
        sender: BOT_ID,
        cid: `remind-${r.id}`,
        kind: "text",
        text,
        checkMember: false,
      });
      if (!ack.duplicate) this.onDelivered?.(r, text);
      await this.kv.atomic().check(e).delete(e.key).delete(keys.userReminder(r.user, r.id))
        .commit();
    }
    return due.length;
  }
}
