/** Sending mail: over SMTP with nodemailer, or into the dev outbox in KV when there is no SMTP. */
import nodemailer from "nodemailer";
import { keys } from "../kv/keys.ts";
import { newId } from "../ids.ts";
import { log } from "../log.ts";

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  /** Sends one mail; throws when the mail could not be handed over. */
  send(mail: Mail): Promise<void>;
  readonly kind: "smtp" | "outbox";
}

export interface OutboxMail extends Mail {
  id: string;
  from: string;
  sentAt: number;
}

const OUTBOX_KEEP_MS = 7 * 24 * 3600_000;

/**
 * A mailer that talks SMTP to the server in `smtpUrl`: smtp:// with STARTTLS (required), or
 * smtps://. `?tls=insecure` skips the certificate check (self-signed test servers), `?tls=off`
 * sends in plain text (a relay on a trusted network).
 */
export function smtpMailer(smtpUrl: string, from: string): Mailer {
  const url = new URL(smtpUrl);
  const secure = url.protocol === "smtps:";
  const transport = nodemailer.createTransport({
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(url.port) || (secure ? 465 : 587),
    secure,
    // smtp:// must upgrade with STARTTLS before AUTH and the message; a server (or someone in the
    // middle) that does not offer it gets nothing. Only ?tls=off allows plain text.
    requireTLS: !secure && url.searchParams.get("tls") !== "off",
    auth: url.username
      ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
      : undefined,
    // Local test servers use self-signed certificates only when asked for by ?tls=insecure.
    tls: url.searchParams.get("tls") === "insecure" ? { rejectUnauthorized: false } : undefined,
    ignoreTLS: url.searchParams.get("tls") === "off",
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    kind: "smtp",
    async send(mail) {
      const info = await transport.sendMail({ from, ...mail });
      log.info("mail.sent", { to: mail.to, messageId: info.messageId });
    },
  };
}

/** The dev outbox: mail is stored in KV and shown at /dev/outbox. Links are never logged. */
export function outboxMailer(kv: Deno.Kv, from: string): Mailer {
  return {
    kind: "outbox",
    async send(mail) {
      const item: OutboxMail = { ...mail, id: newId(), from, sentAt: Date.now() };
      await kv.set(keys.outboxMail(item.id), item, { expireIn: OUTBOX_KEEP_MS });
      log.info("mail.outbox", { to: mail.to, subject: mail.subject, see: "/dev/outbox" });
    },
  };
}

/** Newest mail first. */
export async function listOutbox(kv: Deno.Kv, limit = 50): Promise<OutboxMail[]> {
  const out: OutboxMail[] = [];
  for await (const e of kv.list<OutboxMail>({ prefix: keys.outbox() }, { reverse: true, limit })) {
    out.push(e.value);
  }
  return out;
}
