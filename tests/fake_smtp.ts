/**
 * An in-process SMTP server for tests (npm:smtp-server on 127.0.0.1, port 0) that keeps every
 * message it accepts, parsed with npm:mailparser. It offers STARTTLS with smtp-server's built-in
 * self-signed certificate and takes AUTH (SMTP_USER / SMTP_PASS) only after it.
 */
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { type ParsedMail, simpleParser } from "mailparser";

export const SMTP_USER = "mailer@happychat.test";
/** Has characters that must be percent-encoded in SMTP_URL. */
export const SMTP_PASS = "s3cret:p@ss/w rd";

export interface Received {
  rcpt: string[];
  /** The SMTP AUTH user of the session that delivered it. */
  user?: string;
  /** True when the session had switched to TLS. */
  secure: boolean;
  mail: ParsedMail;
}

export interface FakeSmtp {
  received: Received[];
  /** AUTH attempts, good or bad. */
  auths: number;
  /** RCPT TO for these addresses is refused with 550. */
  rejected: Set<string>;
  /** SMTP_URL for the app: SMTP_PASS and `?tls=insecure` unless `pass` / `query` replace them. */
  url(opts?: { pass?: string; query?: string }): string;
  /** Mails that reached `to`, oldest first. */
  to(to: string): Received[];
  close(): Promise<void>;
}

/** Starts the server; with `plain` it offers no STARTTLS and takes AUTH in plain text. */
export async function startFakeSmtp(opts: { plain?: boolean } = {}): Promise<FakeSmtp> {
  const received: Received[] = [];
  const rejected = new Set<string>();
  const server = new SMTPServer({
    logger: false,
    authMethods: ["PLAIN", "LOGIN"],
    disabledCommands: opts.plain ? ["STARTTLS"] : [],
    allowInsecureAuth: opts.plain,
    onAuth(auth, _session, cb) {
      fake.auths++;
      if (auth.username === SMTP_USER && auth.password === SMTP_PASS) {
        cb(null, { user: auth.username });
      } else cb(new Error("Invalid username or password"));
    },
    onRcptTo(address, _session, cb) {
      if (!rejected.has(address.address)) return cb();
      cb(Object.assign(new Error("Mailbox unavailable"), { responseCode: 550 }));
    },
    onData(stream, session, cb) {
      // Answer 250 only once the mail is stored, so it is here when the app's send resolves.
      simpleParser(stream).then((mail) => {
        const rcpt = session.envelope.rcptTo.map((a) => a.address);
        received.push({
          rcpt,
          user: session.user as string | undefined,
          secure: session.secure,
          mail,
        });
        cb();
      }, cb);
    },
  });
  // A client that refuses the self-signed certificate ends the TLS session with an alert.
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  const fake: FakeSmtp = {
    received,
    auths: 0,
    rejected,
    url: ({ pass = SMTP_PASS, query = "?tls=insecure" } = {}) => {
      const auth = `${encodeURIComponent(SMTP_USER)}:${encodeURIComponent(pass)}`;
      return `smtp://${auth}@127.0.0.1:${port}${query}`;
    },
    to: (to) => received.filter((r) => r.rcpt.includes(to)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return fake;
}
