/**
 * The index letter of a name in contacts: the pinyin initial for Chinese names, computed on the
 * server so that the browser bundle stays small.
 */
import { pinyin } from "pinyin-pro";

const LETTER = /^[A-Za-z]$/;
const HAN = /\p{Script=Han}/u;

/** "A"–"Z" for a name that starts with a Latin letter (accents dropped) or a Chinese character, else "#". */
export function indexLetter(name: string): string {
  const text = name.normalize("NFKC").trim();
  const first = [...text][0] ?? "";
  if (LETTER.test(first)) return first.toUpperCase();
  if (HAN.test(first)) {
    // The whole name, so that surnames read as surnames (曾 → Zeng, not Ceng).
    const py =
      pinyin(text, { pattern: "first", toneType: "none", surname: "head", type: "array" })[0] ?? "";
    return LETTER.test(py) ? py.toUpperCase() : "#";
  }
  const base = first.normalize("NFD").replace(/\p{M}/gu, "");
  return LETTER.test(base) ? base.toUpperCase() : "#";
}

/**
 * How a Chinese name is typed, for contacts search: the full pinyin without tones and spaces, then
 * the initials ("张三" → "zhangsan zs"); "" for a name with no Chinese characters.
 */
export function spelling(name: string): string {
  const text = name.normalize("NFKC").trim();
  if (!HAN.test(text)) return "";
  const syllables = pinyin(text, { toneType: "none", surname: "head", type: "array" })
    .map((x) => x.toLowerCase().replace(/[^a-z0-9]/g, ""))
    .filter(Boolean);
  return `${syllables.join("")} ${syllables.map((x) => x[0]).join("")}`;
}
