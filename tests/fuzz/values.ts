/** Values that trip parsers, validators, length counting and encoders: the fuzzer's raw material. */
import { MAX_TEXT_CHARS } from "../../lib/wire/protocol.ts";
import { Raw } from "./symbols.ts";

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
export const CJK = "汉";
const EMOJI = "👩‍👩‍👧‍👦";

/** Strings that trip parsers, trimming, length counting and encoders. */
export const EDGE_STRINGS: unknown[] = [
  "",
  " ",
  "\u3000\u00a0\ufeff\n\t",
  "\u200b",
  "\u0000",
  "\u2028\u2029",
  "\u202eevil",
  "e\u0301",
  EMOJI,
  new Raw('"\\ud800"'),
  new Raw('"x\\udc00y"'),
  new Raw('"\\udbff\\udfff"'),
  "𝕳𝖆𝖕𝖕𝖞",
  "a".repeat(64),
  "a".repeat(65),
  "x".repeat(MAX_TEXT_CHARS),
  "x".repeat(MAX_TEXT_CHARS + 1),
  CJK.repeat(MAX_TEXT_CHARS),
  CJK.repeat(MAX_TEXT_CHARS + 1),
  "😀".repeat(MAX_TEXT_CHARS),
  "😀".repeat(MAX_TEXT_CHARS + 1),
  " ".repeat(MAX_TEXT_CHARS + 50) + "x",
  "constructor",
  "__proto__",
  "hasownproperty",
];

/** Values of the wrong type or out of range, for any field. */
export const WEIRD: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  new Raw("-0"),
  new Raw("1e400"),
  new Raw("-1e400"),
  new Raw("1e-400"),
  new Raw("1E2"),
  new Raw("7.0"),
  2 ** 53,
  MAX_SAFE,
  -MAX_SAFE,
  1e21,
  "0",
  "1",
  "NaN",
  "Infinity",
  "null",
  [],
  [1],
  {},
  { a: { b: { c: [] } } },
  { toString: 1, valueOf: 2 },
  new Raw("[".repeat(3000) + "]".repeat(3000)),
  new Raw('{"a":'.repeat(1500) + "1" + "}".repeat(1500)),
  ...EDGE_STRINGS,
];
