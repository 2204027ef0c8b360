/**
 * Which messages reach a bot's webhook, and the bound on deliveries at once (docs/bots.md#webhooks).
 * A message is addressed to a bot when it is sent in a DM with the bot, or in a group with the
 * bot @mentioned. The isolate that committed the message delivers it (lib/bots/webhook.ts: signed,
 * retried with backoff up to a bound, refused for private addresses). Deliveries live in memory:
 * a restart drops the ones still retrying (a bot that must miss nothing reads its conversations
 * over /ws, which resumes).
 */
import { keys } from "../kv/keys.ts";
import { log } from "../log.ts";
import type { Message } from "../wire/protocol.ts";
import type { User } from "../accounts/users.ts";
import { deliverWebhook } from "./webhook.ts";
import type { OutboundPolicy } from "./outbound.ts";

/** Deliveries (with their retries) one isolate runs at once; more are dropped and logged. */
export const DELIVERIES_MAX = 64;
/** Of those, one bot's: a slow endpoint cannot take the others' share. */
export const DELIVERIES_PER_BOT = 8;
/** How long a bot's record is trusted to say whether (and where) it has a webhook. */
const CACHE_MS = 10_000;
const CACHE_MAX = 10_000;

type Deliver = typeof deliverWebhook;

/** The body a webhook receives. */
export interface WebhookEvent {
  type: "message";
  bot: string;
  conv: string;
  convKind: "dm" | "group";
  message: Message;
  from: { id: string; username: string; nickname: string };
}

export class WebhookDispatcher {
  #running = 0;
  readonly #perBot = new Map<string, number>();
  readonly #targets = new Map<
    string,
    { at: number; hook: { url: string; secret: string } | null; bot: boolean }
  >();
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(
    readonly kv: Deno.Kv,
    public policy: OutboundPolicy = { allow: [] },
    readonly deliver: Deliver = deliverWebhook,
    readonly now: () => number = Date.now,
  ) {}

  /** Deliveries still running (tests wait for them; a stopping server lets them go). */
  settled(): Promise<unknown> {
    return Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Delivers message `seq` of `conv`, just committed by `sender`, to the webhooks of the bots it is
   * addressed to: the DM's `peer`, or the bots among a group message's `mentions`. Never throws.
   */
  async notify(
    m: {
      conv: string;
      seq: number;
      kind: "dm" | "group";
      peer?: string;
      mentions?: string[];
      sender: { id: string; username: string; nickname: string };
    },
  ): Promise<void> {
    try {
      const candidates = m.kind === "dm"
        ? (m.peer ? [m.peer] : [])
        : (m.mentions ?? []).filter((u) => u !== m.sender.id && u !== "all").slice(0, 20);
      let msg: Message | null | undefined;
      for (const id of candidates) {
        const hook = await this.#hookOf(id);
        if (!hook) continue;
        msg ??= (await this.kv.get<Message>(keys.msg(m.conv, m.seq))).value;
        if (!msg) return;
        const { id: from, username, nickname } = m.sender;
        this.#start(id, hook, {
          type: "message",
          bot: id,
          conv: m.conv,
          convKind: m.kind,
          message: msg,
          from: { id: from, username, nickname },
        });
      }
    } catch (err) {
      log.warn("webhook.notify_failed", { err });
    }
  }

  #start(bot: string, hook: { url: string; secret: string }, event: WebhookEvent): void {
    const mine = this.#perBot.get(bot) ?? 0;
    if (this.#running >= DELIVERIES_MAX || mine >= DELIVERIES_PER_BOT) {
      log.warn("webhook.dropped", { bot, reason: "too many deliveries at once" });
      return;
    }
    this.#running++;
    this.#perBot.set(bot, mine + 1);
    const p = this.deliver(hook, event, { policy: this.policy })
      .then((r) => {
        if (!r.ok) {
          log.warn("webhook.failed", {
            bot,
            attempts: r.attempts,
            status: r.status,
            error: r.error,
          });
        }
      })
      .catch((err) => log.warn("webhook.failed", { bot, err }))
      .finally(() => {
        this.#running--;
        const left = (this.#perBot.get(bot) ?? 1) - 1;
        if (left) this.#perBot.set(bot, left);
        else this.#perBot.delete(bot);
        this.#inFlight.delete(p);
      });
    this.#inFlight.add(p);
  }

  /**
   * The webhook of user `id` if they are a bot with one. A person never becomes a bot, so a person
   * is remembered for good (a DM costs no read after the first); a bot's webhook for a few seconds.
   */
  async #hookOf(id: string): Promise<{ url: string; secret: string } | null> {
    const now = this.now();
    const hit = this.#targets.get(id);
    if (hit && (!hit.bot || now - hit.at < CACHE_MS)) return hit.hook;
    const u = (await this.kv.get<User>(keys.user(id))).value;
    const hook = u?.bot?.webhookUrl ? { url: u.bot.webhookUrl, secret: u.bot.webhookSecret } : null;
    if (this.#targets.size >= CACHE_MAX) this.#targets.clear();
    // An id with no record yet (a race with its creation) is asked again next time.
    this.#targets.set(id, { at: now, hook, bot: !u || !!u.bot });
    return hook;
  }

  /** Forgets what it knew of `id` (the owner changed the bot's webhook on this isolate). */
  forget(id: string): void {
    this.#targets.delete(id);
  }
}
