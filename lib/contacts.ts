/**
 * Contacts: the index letter of a name (the pinyin initial for Chinese names, computed here on
 * the server so the browser bundle stays small), and finding people to add.
 */
import { pinyin } from "pinyin-pro";
import { keys } from "./kv_keys.ts";
import { getManyChunked } from "./conversations.ts";
import { findUserByUsername, findUsersByNickPrefix, getUser, nickKey, type User } from "./users.ts";
import { userCard } from "./conv_list.ts";
import type { Friend } from "./friends.ts";
import type { UserCard } from "./protocol.ts";

const LETTER = /^[A-Za-z]$/;
const HAN = /\p{Script=Han}/u;

/** "A"–"Z" for a name that starts with a Latin letter (accents dropped) or a Chinese character, else "#". */
export function indexLetter(name: string): string {
  const text = name.normalize("NFKC").trim();
  const first = [...text][0] ?? "";
  if (LETTER.test(first)) return first.toUpperCase();
  if (HAN.test(first)) {
    // The whole name, so that surnames read as surnames (曾 → Zeng, not Ceng).
    const py = pinyin(text, { pattern: "first", toneType: "none", surname: "head", type: "array" })[0] ?? "";
    return LETTER.test(py) ? py.toUpperCase() : "#";
  }
  const base = first.normalize("NFD").replace(/\p{M}/gu, "");
  return LETTER.test(base) ? base.toUpperCase() : "#";
}

export type Relation = "friend" | "pending" | "none";

/** One search result: never the e-mail. `remark` is the searcher's alias for a friend. */
export interface PersonResult {
  user: UserCard;
  remark: string;
  relation: Relation;
}

export const SEARCH_MAX = 20;
export const QUERY_MAX = 64;

/**
 * People matching `q`: the user with exactly that username, the searcher's friends whose remark
 * starts with it, and users whose nickname starts with it. Never the searcher; never by e-mail
 * (an "@" finds nobody, so the answer says nothing about which addresses are registered).
 */
export async function searchPeople(kv: Deno.Kv, me: User, qRaw: string): Promise<PersonResult[]> {
  const q = qRaw.trim();
  if (!q || q.includes("@") || [...q].length > QUERY_MAX) return [];
  const [exact, byNick, byRemark] = await Promise.all([
    findUserByUsername(kv, q),
    findUsersByNickPrefix(kv, q, SEARCH_MAX),
    friendsByRemark(kv, me.id, q),
  ]);
  const seen = new Set<string>([me.id]);
  const users: User[] = [];
  for (const u of [exact, ...byRemark, ...byNick]) {
    if (!u || !u.activatedAt || seen.has(u.id) || users.length >= SEARCH_MAX) continue;
    seen.add(u.id);
    users.push(u);
  }
  const [friends, outs] = await Promise.all([
    getManyChunked<Friend>(kv, users.map((u) => keys.friend(me.id, u.id))),
    getManyChunked<unknown>(kv, users.map((u) => keys.friendReqOut(me.id, u.id))),
  ]);
  return users.map((u, i) => {
    const f = friends[i].value;
    const relation: Relation = f ? "friend" : outs[i].value ? "pending" : "none";
    return { user: userCard(u), remark: f?.remark ?? "", relation };
  });
}

/** The searcher's friends whose remark starts with `q` (remarks are private, so only theirs). */
async function friendsByRemark(kv: Deno.Kv, me: string, q: string): Promise<User[]> {
  const p = nickKey(q);
  const ids: string[] = [];
  for await (const e of kv.list<Friend>({ prefix: keys.friends(me) })) {
    if (e.value.remark && nickKey(e.value.remark).startsWith(p)) ids.push(e.key[2] as string);
    if (ids.length >= SEARCH_MAX) break;
  }
  const users = await Promise.all(ids.map((id) => getUser(kv, id)));
  return users.filter((u): u is User => !!u);
}
