import assert from "node:assert/strict";
import fc from "fast-check";
import { activationMail, resetMail } from "./mail_templates.ts";
import type { Locale } from "./i18n.ts";

const LINK = "https://chat.example.com/activate#token=abcDEF123_-abcDEF123_-abcDEF123_-abcDEF123_-";
const TEMPLATES = { activationMail, resetMail };

Deno.test("activationMail() in English: subject, name and link in both parts", () => {
  const m = activationMail("en", "ann@example.com", "Ann", LINK);
  assert.equal(m.to, "ann@example.com");
  assert.equal(m.subject, "Activate your HappyChat account");
  assert.ok(m.text.startsWith("Hello Ann,"), m.text);
  assert.ok(m.text.includes(`\n${LINK}\n`), "the link on a line of its own in the text part");
  assert.ok(m.html.includes(`<a href="${LINK}">${LINK}</a>`), "a clickable link in the HTML part");
  assert.ok(m.html.includes('<html lang="en">'));
  assert.ok(m.html.includes('<meta charset="utf-8">'));
});

Deno.test("activationMail() in Chinese: Chinese subject and body in both parts", () => {
  const m = activationMail("zh-CN", "li@example.com", "小李", LINK);
  assert.equal(m.subject, "激活你的乐聊账号");
  assert.ok(m.text.startsWith("小李，你好："), m.text);
  assert.ok(m.text.includes("24 小时后失效"));
  assert.ok(m.text.includes(LINK));
  assert.ok(m.html.includes('<html lang="zh-CN">'));
  assert.ok(m.html.includes("打开下面的链接激活你的乐聊账号"));
  assert.ok(m.html.includes(`href="${LINK}"`));
});

Deno.test("resetMail() in both languages: its own subject and the link in both parts", () => {
  const link = "https://chat.example.com/reset#token=xyz";
  const en = resetMail("en", "ann@example.com", "Ann", link);
  assert.equal(en.subject, "Reset your HappyChat password");
  assert.ok(en.text.includes("expires in 1 hour"));
  const zh = resetMail("zh-CN", "ann@example.com", "Ann", link);
  assert.equal(zh.subject, "重置你的乐聊密码");
  assert.ok(zh.text.includes("1 小时后失效"));
  for (const m of [en, zh]) {
    assert.ok(m.text.includes(link));
    assert.ok(m.html.includes(`<a href="${link}">${link}</a>`));
  }
});

Deno.test("mail templates escape HTML in the name in the HTML part only", () => {
  const name = `<b>x</b> & "q" 'a' <img src=x onerror=alert(1)>`;
  for (const [kind, make] of Object.entries(TEMPLATES)) {
    for (const locale of ["en", "zh-CN"] as Locale[]) {
      const m = make(locale, "x@example.com", name, LINK);
      assert.ok(m.text.includes(name), `${kind}/${locale}: the text part has the name as typed`);
      assert.ok(
        m.html.includes(
          "&lt;b&gt;x&lt;/b&gt; &amp; &quot;q&quot; &#39;a&#39; &lt;img src=x onerror=alert(1)&gt;",
        ),
        `${kind}/${locale}: the HTML part has the name escaped`,
      );
      assert.ok(
        !m.html.includes("<b>") && !m.html.includes("<img"),
        `${kind}/${locale}: no tag from the name`,
      );
    }
  }
});

Deno.test("mail templates escape the link inside the href attribute", () => {
  const link = `https://chat.example.com/activate?a=1&b="2"#token=t`;
  const m = activationMail("en", "x@example.com", "X", link);
  const escaped = "https://chat.example.com/activate?a=1&amp;b=&quot;2&quot;#token=t";
  assert.ok(m.html.includes(`<a href="${escaped}">${escaped}</a>`), m.html);
  assert.ok(m.text.includes(link));
});

Deno.test("a name that looks like a placeholder stays literal and does not repeat the link", () => {
  const m = activationMail("en", "x@example.com", "{link}", LINK);
  assert.ok(m.text.startsWith("Hello {link},"), m.text);
  assert.equal(m.text.split(LINK).length - 1, 1, "one link in the text part");
  assert.equal(m.html.split(`href="${LINK}"`).length - 1, 1, "one link in the HTML part");
});

Deno.test("the HTML part is paragraphs with line breaks, one per blank-line block of the text", () => {
  const m = activationMail("en", "x@example.com", "Ann", LINK);
  const paragraphs = m.text.split("\n\n").length;
  assert.equal(m.html.split("<p>").length - 1, paragraphs);
  assert.equal(m.html.split("</p>").length - 1, paragraphs);
  assert.ok(m.html.includes("<br>"), "single newlines become <br>");
});

Deno.test("no single-line name, whatever its characters, adds markup to the HTML part", () => {
  const tags = (html: string) => html.match(/<[^>]*>/g)?.join("") ?? "";
  for (const locale of ["en", "zh-CN"] as Locale[]) {
    const plain = tags(activationMail(locale, "x@example.com", "X", LINK).html);
    // Line breaks are left out: they would become <br>, and validate.ts refuses them in names.
    const html = fc.constantFrom("<", ">", "&", '"', "'", "/", "=", " ", "b", "你");
    const names = fc.oneof(
      fc.string({ unit: "binary", maxLength: 64 }),
      fc.string({ unit: html, maxLength: 64 }),
    )
      .filter((s) => !s.includes("\n"));
    fc.assert(fc.property(names, (name) => {
      assert.equal(tags(activationMail(locale, "x@example.com", name, LINK).html), plain);
    }));
  }
});
