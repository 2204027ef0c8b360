import assert from "node:assert/strict";
import fc from "fast-check";
import {
  charLength,
  emailProblem,
  GENDERS,
  LIMITS,
  lineProblem,
  nameProblem,
  reservedName,
  textProblem,
  usernameProblem,
  websiteProblem,
} from "./validate.ts";
import { hasMessage } from "../i18n/i18n.ts";

Deno.test("usernameProblem() accepts 3–20 letters, digits or _ starting with a letter", () => {
  for (const ok of ["abc", "Alice_1", "a".repeat(20), "X_y_Z"]) {
    assert.equal(usernameProblem(ok), null, ok);
  }
  assert.equal(usernameProblem(""), "field_required");
  for (
    const bad of [
      "ab",
      "a".repeat(21),
      "1abc",
      "_abc",
      "a b c",
      "ab-c",
      "ab.c",
      "张三丰",
      "abc\n",
      "a@b.c",
    ]
  ) {
    assert.equal(usernameProblem(bad), "username_format", JSON.stringify(bad));
  }
});

Deno.test("emailProblem() accepts ordinary addresses and refuses malformed ones", () => {
  for (const ok of ["a@b.co", "first.last+tag@mail.example.com", "x_y@sub-domain.example.org"]) {
    assert.equal(emailProblem(ok), null, ok);
  }
  assert.equal(emailProblem(""), "field_required");
  for (
    const bad of [
      "plain",
      "a@b",
      "a@@b.co",
      "a b@c.co",
      "a@b..co",
      "a..b@c.co",
      "@b.co",
      "a@.co",
      "a@b.co.",
      "<a>@b.co",
      'a"b@c.co',
      "a@b.co\n",
    ]
  ) {
    assert.equal(emailProblem(bad), "email_format", JSON.stringify(bad));
  }
});

Deno.test("emailProblem() refuses addresses longer than 254 characters", () => {
  const at = "@example.com";
  assert.equal(emailProblem("a".repeat(254 - at.length) + at), null);
  assert.equal(emailProblem("a".repeat(255 - at.length) + at), "field_long");
});

Deno.test("lineProblem() refuses overlong text, control characters and bidi overrides", () => {
  assert.equal(lineProblem("", 10, true), "field_required");
  assert.equal(lineProblem("", 10, false), null);
  assert.equal(lineProblem("😀".repeat(10), 10, true), null, "counts characters, not UTF-16 units");
  assert.equal(lineProblem("😀".repeat(11), 10, true), "field_long");
  assert.equal(lineProblem("<b>bold</b>", 32, true), null, "markup is just text");
  for (const bad of ["a\nb", "a\tb", "a\u0000b", "a\u007fb", "evil\u202Etxt.exe", "a\u2066b"]) {
    assert.equal(lineProblem(bad, 32, true), "bad_input", JSON.stringify(bad));
  }
});

Deno.test("lineProblem() refuses format characters, separators and lone surrogates", () => {
  for (
    const bad of [
      "Happy\u200BBot", // zero-width space
      "a\u200Eb", // left-to-right mark
      "a\u061Cb", // Arabic letter mark
      "a\u00ADb", // soft hyphen
      "a\uFEFFb", // zero-width no-break space
      "line\u2028break",
      "para\u2029break",
      "a\u0085b", // next line
      "a\uD800b", // half of a surrogate pair
      "a\u{E0041}b", // a tag character outside a flag
      "\u200D😀", // a joiner that joins nothing
    ]
  ) {
    assert.equal(lineProblem(bad, 32, true), "bad_input", JSON.stringify(bad));
  }
});

Deno.test("lineProblem() keeps the joiners that emoji and scripts need", () => {
  for (
    const ok of [
      "👨\u200D👩\u200D👧", // a family
      "👩🏽\u200D💻", // skin tone, then a joiner
      "❤\uFE0F\u200D🔥", // variation selector, then a joiner
      "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}", // the flag of England
      "می\u200Cخواهم", // Persian needs the non-joiner between letters
      "Zoë 乐乐 🐼",
    ]
  ) {
    assert.equal(lineProblem(ok, 32, true), null, JSON.stringify(ok));
  }
});

Deno.test("nameProblem() refuses the bot's names, staff words and their look-alikes", () => {
  for (
    const bad of [
      "HappyChat Bot",
      "happychat bot",
      "HAPPYCHATBOT",
      "Happy Chat Bot",
      "HappyBot",
      "Happy-Bot",
      "Happy_Bot!",
      "ＨａｐｐｙＢｏｔ", // full-width letters
      "Hаppy Bot", // a Cyrillic а
      "H4ppy B0t",
      "Hâppy Bôt",
      "Happy\u3164Bot", // a Hangul filler that shows as a space
      "HappyChat Official",
      "happychat_support",
      "乐聊机器人",
      "乐聊 机器人",
      "樂聊機器人",
      "乐聊官方",
      "乐聊",
      "机器人",
      "系统",
      "管理员",
      "Admin",
      "ADMIN",
      "ad.min",
      "System",
      "r00t",
      "Support",
      "bot",
    ]
  ) {
    assert.equal(nameProblem(bad, 32, true), "name_reserved", JSON.stringify(bad));
  }
  // Control characters are named as such, even in a look-alike.
  assert.equal(nameProblem("Happy\u200BBot", 32, true), "bad_input");
});

Deno.test("nameProblem() accepts ordinary names that merely share letters with reserved ones", () => {
  for (
    const ok of [
      "Happy",
      "Bob",
      "Robot Fan",
      "Botany Bay",
      "Chat Lover",
      "快乐聊天",
      "Admin Alice",
      "Systems Group",
      "乐乐",
      "Zoë",
      "🐼",
    ]
  ) {
    assert.equal(nameProblem(ok, 32, true), null, JSON.stringify(ok));
  }
});

Deno.test("nameProblem() refuses a name that shows as nothing", () => {
  for (const blank of ["\u3164", "\u3164 \u3164", "\u115F\u1160", "\uFFA0"]) {
    assert.equal(nameProblem(blank, 32, true), "field_required", JSON.stringify(blank));
  }
  assert.equal(nameProblem("\u3164", 32, false), "field_required", "a blank name is not no name");
});

Deno.test("reservedName() covers usernames: staff words and the brand in any case", () => {
  for (
    const bad of [
      "admin",
      "Admin_",
      "administrator",
      "root",
      "system",
      "happybot",
      "HappyChat_1",
      "my_happychat",
      "search",
    ]
  ) {
    assert.equal(reservedName(bad), true, bad);
  }
  for (const ok of ["alice", "admin_alice", "rooty", "happy_123", "chatbot_fan"]) {
    assert.equal(reservedName(ok), false, ok);
  }
});

Deno.test("textProblem() allows newlines and tabs but no other control characters", () => {
  assert.equal(textProblem("line one\nline two\tend", 200, true), null);
  assert.equal(textProblem("   \n ", 200, true), "field_required");
  assert.equal(textProblem("   ", 200, false), null);
  assert.equal(textProblem("a\u0007b", 200, false), "bad_input");
  assert.equal(textProblem("a\u202Eb", 200, false), "bad_input");
  assert.equal(textProblem("字".repeat(200), 200, false), null);
  assert.equal(textProblem("字".repeat(201), 200, false), "field_long");
});

Deno.test("websiteProblem() accepts only http(s) links to a real-looking host", () => {
  assert.equal(websiteProblem(""), null);
  for (
    const ok of ["https://example.com", "http://example.com/path?q=1", "http://localhost:8000"]
  ) {
    assert.equal(websiteProblem(ok), null, ok);
  }
  for (
    const bad of [
      "javascript:alert(1)",
      "data:text/html,x",
      "ftp://example.com",
      "example.com",
      "https://intranet",
      "//x.com",
    ]
  ) {
    assert.equal(websiteProblem(bad), "website_format", bad);
  }
  assert.equal(websiteProblem("https://example.com/" + "a".repeat(LIMITS.website)), "field_long");
});

Deno.test("charLength() counts code points", () => {
  assert.equal(charLength("abc"), 3);
  assert.equal(charLength("你好"), 2);
  assert.equal(charLength("🐼🐼"), 2);
});

Deno.test("GENDERS starts with the neutral default", () => {
  assert.equal(GENDERS[0], "unspecified");
});

const anyString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.string({ unit: "grapheme", maxLength: 300 }),
  fc.string({ maxLength: 300 }),
);

Deno.test("validators never throw and only return known error codes (property)", () => {
  const codes = new Set<string | null>([null]);
  fc.assert(
    fc.property(anyString, fc.integer({ min: 0, max: 300 }), fc.boolean(), (s, max, required) => {
      const results = [
        usernameProblem(s),
        emailProblem(s),
        lineProblem(s, max, required),
        nameProblem(s, max, required),
        textProblem(s, max, required),
        websiteProblem(s),
      ];
      for (const r of results) {
        if (r !== null) assert.ok(hasMessage(`err.${r}`), `code "${r}" has a message`);
        codes.add(r);
      }
    }),
    { numRuns: 2000 },
  );
  assert.ok(codes.size > 3, "the generator reached several outcomes");
});

Deno.test("an accepted username is always ASCII and at most 20 characters (property)", () => {
  fc.assert(
    fc.property(anyString, (s) => {
      if (usernameProblem(s) === null) assert.match(s, /^[\x21-\x7e]{3,20}$/);
    }),
  );
});

Deno.test("an accepted line never exceeds its limit or holds a control character (property)", () => {
  fc.assert(
    fc.property(anyString, fc.integer({ min: 1, max: 64 }), (s, max) => {
      if (lineProblem(s, max, true) === null) {
        assert.ok(charLength(s) <= max);
        // deno-lint-ignore no-control-regex
        assert.ok(!/[\u0000-\u001f\u007f]/.test(s));
      }
    }),
  );
});
