/**
 * Mail over real SMTP: the app's `smtpMailer` (nodemailer) talks to an in-process smtp-server
 * (tests/fake_smtp.ts), and every received message is parsed with mailparser, as a mail client
 * would see it.
 *
 * TLS: the fake server offers STARTTLS with smtp-server's built-in self-signed certificate and
 * accepts AUTH only after it, like a real submission server on port 587. Nothing can vouch for
 * that certificate, so the app is pointed at it with `?tls=insecure` (encrypt, skip the
 * certificate check); one test shows that without it the certificate is refused, and two that
 * plain text happens only with `?tls=off`.
 */
import assert from "node:assert/strict";
import { backgroundMailSettled } from "../lib/accounts/accounts.ts";
import { type FakeSmtp, type Received, SMTP_USER, startFakeSmtp } from "./fake_smtp.ts";
import { Client, newUserInput, startTestServer, type TestServer } from "./helpers.ts";

const MAIL_FROM = "HappyChat Test <no-reply@happychat.test>";
const ADMIN_EMAIL = "admin@happychat.test";

/** Runs `fn` with a fake SMTP server and the app mailing through it. */
async function withMail(
  fn: (app: TestServer, smtp: FakeSmtp) => Promise<void>,
  opts: { smtpUrl?: (smtp: FakeSmtp) => string; now?: () => number; plain?: boolean } = {},
): Promise<void> {
  const smtp = await startFakeSmtp({ plain: opts.plain });
  try {
    const SMTP_URL = opts.smtpUrl?.(smtp) ?? smtp.url();
    const app = await startTestServer({ env: { SMTP_URL, MAIL_FROM, ADMIN_EMAIL }, now: opts.now });
    try {
      await fn(app, smtp);
    } finally {
      await app.close();
    }
  } finally {
    await smtp.close();
  }
}

/** The one link in a mail's text part and its `#token=`, checked against the HTML part's link. */
function linkOf(r: Received): { url: URL; token: string } {
  const text = r.mail.text ?? "";
  const inText = text.match(/https?:\/\/\S+#token=[A-Za-z0-9_-]+/g) ?? [];
  assert.equal(inText.length, 1, `one link in the text part:\n${text}`);
  const html = r.mail.html || "";
  const hrefs = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replaceAll("&amp;", "&"));
  assert.deepEqual(hrefs, [inText[0]], "the HTML part links to the same URL");
  const url = new URL(inText[0]);
  const token = new URLSearchParams(url.hash.slice(1)).get("token") ?? "";
  assert.ok(token.length >= 43, "a 256-bit token");
  return { url, token };
}

function last<T>(list: T[]): T {
  assert.ok(list.length > 0, "expected at least one mail");
  return list[list.length - 1];
}

async function registerAndActivate(app: TestServer, smtp: FakeSmtp, input = newUserInput()) {
  const client = new Client(app);
  assert.equal((await client.post("/api/auth/register", input)).status, 201);
  await backgroundMailSettled();
  const act = await client.post("/api/auth/activate", {
    token: linkOf(last(smtp.to(input.email))).token,
  });
  assert.equal(act.status, 200);
  const login = await client.post("/api/auth/login", {
    login: input.username,
    password: input.password,
  });
  assert.equal(login.status, 200);
  return { client, input };
}

Deno.test("activation over SMTP: a multipart zh-CN mail without the nickname activates the account", async () => {
  await withMail(async (app, smtp) => {
    const c = new Client(app);
    const input = { ...newUserInput("zh"), nickname: "<b>x</b> & 小明" };
    const reg = await c.json("/api/auth/register", {
      method: "POST",
      json: input,
      headers: { "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5" },
    });
    assert.equal(reg.status, 201);
    await backgroundMailSettled();

    const [got] = smtp.to(input.email);
    assert.ok(got, "the SMTP server received the activation mail");
    assert.equal(got.secure, true, "delivered after STARTTLS");
    assert.equal(got.user, SMTP_USER, "delivered after SMTP AUTH with the URL's credentials");
    const { mail } = got;
    assert.equal(mail.subject, "激活你的乐聊账号");
    assert.equal(mail.from?.value[0].address, "no-reply@happychat.test");
    assert.equal(
      (mail.headers.get("content-type") as { value: string }).value,
      "multipart/alternative",
    );
    assert.ok(mail.text?.includes("打开下面的链接激活你的乐聊账号"), "the text part is Chinese");
    assert.ok(mail.html && mail.html.includes('lang="zh-CN"'), "the HTML part is Chinese");
    // Anyone can sign up with any address: the mail must not carry the words they chose.
    assert.ok(!mail.text?.includes("小明"), "no nickname in the text part");
    assert.ok(mail.html && !mail.html.includes("小明"), "no nickname in the HTML part");

    const { url, token } = linkOf(got);
    assert.equal(url.origin, app.origin);
    assert.equal(url.pathname, "/activate");
    const early = await c.post("/api/auth/login", {
      login: input.username,
      password: input.password,
    });
    assert.equal(early.status, 401, "not activated yet: like a wrong password");
    assert.equal((await c.post("/api/auth/activate", { token })).status, 200);
    assert.equal(
      (await c.post("/api/auth/activate", { token })).status,
      400,
      "the link works once",
    );
    const login = await c.post("/api/auth/login", { login: input.email, password: input.password });
    assert.equal(login.status, 200);
    const me = await c.json<{ user: { locale: string } }>("/api/me");
    assert.equal(me.body.user.locale, "zh-CN");
  });
});

Deno.test("password reset over SMTP: new password works, old one fails, old sessions end", async () => {
  await withMail(async (app, smtp) => {
    const { client: old, input } = await registerAndActivate(app, smtp);
    const c = new Client(app);
    assert.equal((await c.post("/api/auth/forgot", { email: input.email })).status, 200);
    await backgroundMailSettled();
    const got = last(smtp.to(input.email));
    assert.equal(got.mail.subject, "Reset your HappyChat password");
    assert.ok(got.mail.html, "the reset mail has an HTML part");
    const { url, token } = linkOf(got);
    assert.equal(url.pathname, "/reset");

    const password = "a brand new passphrase";
    assert.equal((await c.post("/api/auth/reset", { token, password })).status, 200);
    assert.equal(
      (await c.post("/api/auth/reset", { token, password: "yet another phrase" })).status,
      400,
    );
    assert.equal(
      (await old.fetch("/api/me")).status,
      401,
      "the session from before the reset is over",
    );
    const bad = await c.post("/api/auth/login", {
      login: input.username,
      password: input.password,
    });
    assert.equal(bad.status, 401);
    assert.equal(
      (await c.post("/api/auth/login", { login: input.username, password })).status,
      200,
    );
  });
});

// Within the 60 s cooldown a resend answers 200 like any other and sends nothing: a 429 there
// would tell that the account exists. Only the per-address limit answers 429, for everyone alike.
Deno.test("resend over SMTP: a new link only after the 60 s cooldown, 429 with retryAfter past the IP limit", async () => {
  let clock = Date.UTC(2030, 0, 1); // the start of a rate-limit window
  await withMail(async (app, smtp) => {
    const c = new Client(app);
    const input = newUserInput("resend");
    assert.equal((await c.post("/api/auth/register", input)).status, 201);
    await backgroundMailSettled();
    const first = linkOf(last(smtp.to(input.email))).token;
    const resend = async (login: string) => {
      const res = await c.post("/api/auth/resend", { login });
      await backgroundMailSettled();
      return res;
    };

    const soon = await resend(input.username);
    const unknown = await resend("nobody@example.com");
    assert.equal(soon.status, 200);
    assert.deepEqual(soon.body, unknown.body, "the same answer as for an unknown account");
    assert.equal(smtp.to(input.email).length, 1, "no mail within the cooldown");

    clock += 61_000;
    assert.equal((await resend(input.email)).status, 200);
    assert.equal(smtp.to(input.email).length, 2, "a new mail after the cooldown");
    const second = linkOf(last(smtp.to(input.email))).token;
    assert.notEqual(second, first);
    clock += 15_000;
    assert.equal((await resend(input.username)).status, 200);
    assert.equal(smtp.to(input.email).length, 2, "no mail within the cooldown");

    assert.equal((await c.post("/api/auth/activate", { token: second })).status, 200);
    clock += 61_000;
    assert.equal(
      (await resend(input.username)).status,
      200,
      "the same answer for an active account",
    );
    assert.equal(smtp.to(input.email).length, 2, "but no mail");

    // 5 resends so far; the per-IP limit allows 20 an hour.
    for (let i = 5; i < 20; i++) assert.equal((await resend(`nobody${i}@example.com`)).status, 200);
    const over = await resend(input.username);
    assert.equal(over.status, 429);
    const err = (over.body as { error: { code: string; retryAfter: number } }).error;
    assert.equal(err.code, "rate_limited");
    assert.equal(err.retryAfter, 3600 - 137, "seconds until the hour's window ends");
    assert.equal(over.res.headers.get("Retry-After"), String(err.retryAfter));
  }, { now: () => clock });
});

Deno.test("feedback is mailed over SMTP to ADMIN_EMAIL with the message escaped in HTML", async () => {
  await withMail(async (app, smtp) => {
    const { client, input } = await registerAndActivate(app, smtp);
    const message = "Love it <script>alert(1)</script>\nsecond line";
    assert.equal((await client.post("/api/me/feedback", { message })).status, 201);
    const got = last(smtp.to(ADMIN_EMAIL));
    assert.ok(got.mail.subject?.includes(`@${input.username}`), got.mail.subject);
    assert.ok(got.mail.text?.includes(message));
    assert.ok(got.mail.html && got.mail.html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert.ok(!got.mail.html.includes("<script>"));
  });
});

Deno.test("a refused recipient: sign-up answers 201 all the same, and resend at once delivers a working link", async () => {
  await withMail(async (app, smtp) => {
    const c = new Client(app);
    const input = newUserInput("refused");
    smtp.rejected.add(input.email);
    const reg = await c.post("/api/auth/register", input);
    assert.equal(reg.status, 201);
    assert.deepEqual(Object.keys(reg.body).sort(), ["ok", "redirect"], "nothing about the mail");
    await backgroundMailSettled();
    assert.equal(smtp.to(input.email).length, 0);

    // The failed send gave its cooldown back, so asking again works without waiting.
    smtp.rejected.delete(input.email);
    assert.equal((await c.post("/api/auth/resend", { login: input.username })).status, 200);
    await backgroundMailSettled();
    const { token } = linkOf(last(smtp.to(input.email)));
    assert.equal((await c.post("/api/auth/activate", { token })).status, 200);
    assert.equal(
      (await c.post("/api/auth/login", { login: input.username, password: input.password })).status,
      200,
    );
  });
});

/** Signs up and waits for the mail attempt to end; the answer never says how it went. */
async function registerOnly(app: TestServer, input = newUserInput()) {
  const reg = await new Client(app).post("/api/auth/register", input);
  assert.equal(reg.status, 201);
  await backgroundMailSettled();
  return input;
}

Deno.test("a wrong SMTP password means no mail", async () => {
  await withMail(async (app, smtp) => {
    await registerOnly(app, newUserInput("badauth"));
    assert.equal(smtp.received.length, 0);
  }, { smtpUrl: (smtp) => smtp.url({ pass: "wrong" }) });
});

Deno.test("without ?tls=insecure the self-signed certificate is refused and nothing is sent", async () => {
  await withMail(async (app, smtp) => {
    await registerOnly(app, newUserInput("tls"));
    assert.equal(smtp.received.length, 0);
  }, { smtpUrl: (smtp) => smtp.url({ query: "" }) });
});

Deno.test("smtp:// requires STARTTLS: a server without it gets no password and no mail", async () => {
  await withMail(async (app, smtp) => {
    await registerOnly(app, newUserInput("notls"));
    assert.equal(smtp.auths, 0, "credentials never sent in plain text");
    assert.equal(smtp.received.length, 0);
  }, { plain: true });
});

Deno.test("?tls=off sends in plain text to a server without STARTTLS", async () => {
  await withMail(async (app, smtp) => {
    const input = await registerOnly(app, newUserInput("plain"));
    const got = last(smtp.to(input.email));
    assert.equal(got.secure, false);
    assert.equal(got.user, SMTP_USER);
  }, { plain: true, smtpUrl: (smtp) => smtp.url({ query: "?tls=off" }) });
});
