import assert from "node:assert/strict";
import { activationMail, resetMail, signupNoticeMail } from "./templates.ts";
import { catalogs, type Locale } from "../i18n/i18n.ts";

const LINK = "https://chat.example.com/activate#token=abcDEF123_-abcDEF123_-abcDEF123_-abcDEF123_-";
const LOCALES: Locale[] = ["en", "zh-CN"];

Deno.test("activationMail() in English: subject, greeting and link in both parts", () => {
  const m = activationMail("en", { to: "ann@example.com", link: LINK });
  assert.equal(m.to, "ann@example.com");
  assert.equal(m.subject, "Activate your HappyChat account");
  assert.ok(m.text.startsWith("Hello,\n"), m.text);
  assert.ok(m.text.includes(`\n${LINK}\n`), "the link on a line of its own in the text part");
  assert.ok(m.html.includes(`<a href="${LINK}">${LINK}</a>`), "a clickable link in the HTML part");
  assert.ok(m.html.includes('<html lang="en">'));
  assert.ok(m.html.includes('<meta charset="utf-8">'));
});

Deno.test("activationMail() in Chinese: Chinese subject and body in both parts", () => {
  const m = activationMail("zh-CN", { to: "li@example.com", link: LINK });
  assert.equal(m.subject, "激活你的乐聊账号");
  assert.ok(m.text.startsWith("你好："), m.text);
  assert.ok(m.text.includes("24 小时后失效"));
  assert.ok(m.text.includes(LINK));
  assert.ok(m.html.includes('<html lang="zh-CN">'));
  assert.ok(m.html.includes("打开下面的链接激活你的乐聊账号"));
  assert.ok(m.html.includes(`href="${LINK}"`));
});

Deno.test("resetMail() in both languages: its own subject and the link in both parts", () => {
  const link = "https://chat.example.com/reset#token=xyz";
  const en = resetMail("en", { to: "ann@example.com", link });
  assert.equal(en.subject, "Reset your HappyChat password");
  assert.ok(en.text.includes("expires in 1 hour"));
  const zh = resetMail("zh-CN", { to: "ann@example.com", link });
  assert.equal(zh.subject, "重置你的乐聊密码");
  assert.ok(zh.text.includes("1 小时后失效"));
  for (const m of [en, zh]) {
    assert.ok(m.text.includes(link));
    assert.ok(m.html.includes(`<a href="${link}">${link}</a>`));
  }
});

Deno.test("signupNoticeMail() points to the login and the reset page, and holds no token", () => {
  for (const locale of LOCALES) {
    const m = signupNoticeMail(locale, {
      to: "ann@example.com",
      origin: "https://chat.example.com",
    });
    assert.equal(m.to, "ann@example.com");
    for (const link of ["https://chat.example.com/login", "https://chat.example.com/forgot"]) {
      assert.ok(m.text.includes(`\n${link}\n`), `${locale}: ${link} in the text part`);
      assert.ok(m.html.includes(`<a href="${link}">${link}</a>`), `${locale}: ${link} in the HTML`);
    }
    assert.ok(!m.text.includes("token"));
  }
  assert.equal(
    signupNoticeMail("en", { to: "a@b.co", origin: "https://x.example" }).subject,
    "Someone tried to sign up with your e-mail",
  );
});

Deno.test("no mail template has room for a name: every placeholder is a link we make", () => {
  for (const locale of LOCALES) {
    const catalog = catalogs[locale] as Record<string, string>;
    for (const [key, text] of Object.entries(catalog)) {
      if (!/^mail\.(activate|reset|notice)\./.test(key)) continue;
      const names = [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      assert.ok(
        names.every((n) => ["link", "login", "forgot"].includes(n)),
        `${locale} "${key}" has {${names.join("}, {")}}`,
      );
    }
  }
});

Deno.test("mail templates escape the link inside the href attribute", () => {
  const link = `https://chat.example.com/activate?a=1&b="2"#token=t`;
  const m = activationMail("en", { to: "x@example.com", link });
  const escaped = "https://chat.example.com/activate?a=1&amp;b=&quot;2&quot;#token=t";
  assert.ok(m.html.includes(`<a href="${escaped}">${escaped}</a>`), m.html);
  assert.ok(m.text.includes(link));
});

Deno.test("the HTML part is paragraphs with line breaks, one per blank-line block of the text", () => {
  for (
    const m of [
      activationMail("en", { to: "x@example.com", link: LINK }),
      signupNoticeMail("zh-CN", { to: "x@example.com", origin: "https://x.example" }),
    ]
  ) {
    const paragraphs = m.text.split("\n\n").length;
    assert.equal(m.html.split("<p>").length - 1, paragraphs);
    assert.equal(m.html.split("</p>").length - 1, paragraphs);
    assert.ok(m.html.includes("<br>"), "single newlines become <br>");
  }
});
