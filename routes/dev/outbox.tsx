/** /dev/outbox: the mail the server would have sent, with DEV_OUTBOX on (no SMTP to try it). */
import { Hono } from "hono";
import type { Env } from "../../lib/http/state.ts";
import { t } from "../../lib/i18n/i18n.ts";
import { page } from "../_render.tsx";
import { HttpError } from "../../lib/errors.ts";
import { isLocalRequest } from "../../lib/http/security.ts";
import { listOutbox } from "../../lib/mail/mail.ts";

export const outboxPage = new Hono<Env>();

const LINK_RE = /(https?:\/\/[^\s<>"]+)/g;

/** Mail text with its links clickable; everything else stays text. */
function Linkified({ text }: { text: string }) {
  return (
    <>
      {text.split(LINK_RE).map((part, i) =>
        i % 2 ? <a key={i} href={part} data-testid="outbox-link">{part}</a> : part
      )}
    </>
  );
}

outboxPage.get("/", async (c) => {
  const { devOutbox, devOutboxAnyClient } = c.var.deps.config;
  // The outbox holds live activation links: by default only this machine may read it.
  if (!devOutbox || (!devOutboxAnyClient && !isLocalRequest(c))) {
    throw new HttpError(404, "not_found", "Not found");
  }
  const l = c.var.locale;
  const mails = await listOutbox(c.var.deps.kv);
  return page(
    c,
    t(l, "outbox.title"),
    <section class="stack">
      <h1>{t(l, "outbox.title")}</h1>
      <p class="muted">{t(l, "outbox.intro")}</p>
      {mails.length === 0 && <p>{t(l, "outbox.empty")}</p>}
      {mails.map((m) => (
        <article class="card mail" data-testid="outbox-mail" data-to={m.to}>
          <header>
            <strong>{m.subject}</strong>
            <div class="muted">→ {m.to} · {new Date(m.sentAt).toISOString()}</div>
          </header>
          <p class="pre">
            <Linkified text={m.text} />
          </p>
        </article>
      ))}
    </section>,
  );
});
