import assert from "node:assert/strict";
import fc from "fast-check";
import { catalogs, fromAcceptLanguage, hasMessage, LOCALES, t, toLocale } from "./i18n.ts";

function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort();
}

Deno.test("the en and zh-CN catalogs have exactly the same keys", () => {
  const en = Object.keys(catalogs.en).sort();
  const zh = Object.keys(catalogs["zh-CN"]).sort();
  assert.deepEqual(zh.filter((k) => !en.includes(k)), [], "keys only in zh-CN");
  assert.deepEqual(en.filter((k) => !zh.includes(k)), [], "keys only in en");
  assert.ok(en.length > 50);
});

Deno.test("every message has the same {placeholders} in en and zh-CN", () => {
  for (const [key, text] of Object.entries(catalogs.en)) {
    const zh = (catalogs["zh-CN"] as Record<string, string>)[key];
    assert.deepEqual(placeholders(zh), placeholders(text), `placeholders of "${key}"`);
  }
});

Deno.test("no message is empty or left untranslated by mistake", () => {
  for (const locale of LOCALES) {
    for (const [key, text] of Object.entries(catalogs[locale])) {
      assert.ok(text.trim().length > 0, `${locale} "${key}" is empty`);
    }
  }
  // The Chinese catalog is Chinese: most messages contain Han characters.
  const zh = Object.values(catalogs["zh-CN"]);
  const han = zh.filter((s) => /\p{Script=Han}/u.test(s)).length;
  assert.ok(han / zh.length > 0.8, `only ${han} of ${zh.length} zh-CN messages contain Chinese`);
});

Deno.test("t() fills {placeholders} and leaves unknown ones as they are", () => {
  assert.equal(t("en", "home.welcome", { name: "Li" }), "Welcome, Li");
  assert.ok(t("zh-CN", "home.welcome", { name: "李" }).includes("李"));
  assert.equal(
    t("en", "err.rate_limited", { seconds: 42 }),
    "Too many attempts. Try again in 42 s.",
  );
  assert.equal(t("en", "home.welcome"), "Welcome, {name}");
  assert.equal(t("en", "home.welcome", { other: "x" }), "Welcome, {name}");
});

Deno.test("t() inserts parameters literally, even ones that look like placeholders or $ patterns", () => {
  assert.equal(t("en", "home.welcome", { name: "$& {name} $1" }), "Welcome, $& {name} $1");
});

Deno.test("hasMessage() knows the catalog keys only", () => {
  assert.equal(hasMessage("err.csrf"), true);
  assert.equal(hasMessage("err.nope"), false);
  assert.equal(hasMessage("toString"), false, "not inherited object properties");
  assert.equal(hasMessage("__proto__"), false);
});

Deno.test("toLocale() maps language tags to a supported locale", () => {
  for (const tag of ["zh", "zh-CN", "ZH-cn", "zh-Hans-CN", "zh_TW", " zh-HK "]) {
    assert.equal(toLocale(tag), "zh-CN", tag);
  }
  for (const tag of ["en", "en-US", "EN-gb", "en_AU"]) assert.equal(toLocale(tag), "en", tag);
  for (const tag of ["", "fr", "zhx", "eng", "*", null, undefined]) {
    assert.equal(toLocale(tag), null, String(tag));
  }
});

Deno.test("fromAcceptLanguage() picks the supported language with the highest q-value", () => {
  assert.equal(fromAcceptLanguage("zh-CN,zh;q=0.9,en;q=0.8"), "zh-CN");
  assert.equal(fromAcceptLanguage("en;q=0.5, zh-CN;q=0.9"), "zh-CN");
  assert.equal(fromAcceptLanguage("zh;q=0.3, en-US;q=0.7"), "en");
  assert.equal(fromAcceptLanguage("fr-FR, de;q=0.9, en;q=0.1"), "en", "skips unsupported ones");
  assert.equal(fromAcceptLanguage("en, zh"), "en", "equal q keeps header order");
  assert.equal(fromAcceptLanguage("zh;q=1.0, en;q=1"), "zh-CN");
});

Deno.test("fromAcceptLanguage() ignores q=0 and bad q-values and returns null without a match", () => {
  assert.equal(fromAcceptLanguage("zh;q=0, en;q=0.1"), "en", "q=0 means not acceptable");
  assert.equal(fromAcceptLanguage("zh;q=0"), null);
  assert.equal(fromAcceptLanguage("zh;q=abc, en;q=0.2"), "en");
  assert.equal(fromAcceptLanguage("fr, de"), null);
  assert.equal(fromAcceptLanguage("*"), null);
  assert.equal(fromAcceptLanguage(""), null);
  assert.equal(fromAcceptLanguage(null), null);
});

Deno.test("fromAcceptLanguage() never throws and returns a locale or null (property)", () => {
  const tag = fc.constantFrom("en", "zh", "zh-CN", "en-US", "fr", "*", "", "zh_TW", "EN");
  const part = fc.tuple(tag, fc.option(fc.oneof(fc.double(), fc.string()), { nil: undefined }))
    .map(([l, q]) => q === undefined ? l : `${l};q=${q}`);
  const header = fc.oneof(
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.array(part, { maxLength: 8 }).map((a) => a.join(",")),
  );
  fc.assert(
    fc.property(header, (h) => {
      const got = fromAcceptLanguage(h);
      assert.ok(got === null || LOCALES.includes(got));
    }),
    { numRuns: 1000 },
  );
});

Deno.test("fromAcceptLanguage() agrees with the best q-value among supported tags (property)", () => {
  const entry = fc.record({
    tag: fc.constantFrom("en", "en-GB", "zh", "zh-CN", "fr", "ja"),
    q: fc.integer({ min: 0, max: 10 }),
  });
  fc.assert(
    fc.property(fc.array(entry, { minLength: 1, maxLength: 6 }), (entries) => {
      const header = entries.map((e) => `${e.tag};q=${e.q / 10}`).join(", ");
      const supported = entries.filter((e) => toLocale(e.tag) && e.q > 0);
      const best = Math.max(...supported.map((e) => e.q));
      const first = supported.find((e) => e.q === best);
      assert.equal(fromAcceptLanguage(header), first ? toLocale(first.tag) : null, header);
    }),
  );
});
