import assert from "node:assert/strict";
import { indexLetter, spelling } from "./initials.ts";
import { groupFriends } from "../../islands/Contacts.tsx";
import { emptyState } from "../client/state.ts";
import type { FriendView } from "../wire/protocol.ts";

Deno.test("spelling(): a Chinese name as typed in pinyin, and its initials", () => {
  assert.equal(spelling("张三"), "zhangsan zs");
  assert.equal(spelling("曾小贤"), "zengxiaoxian zxx");
  assert.equal(spelling("Alice"), "");
  assert.equal(indexLetter("张三"), "Z");
});

Deno.test("contacts search finds 张三 by zhangsan, zhang san, zhang and zs, not by lisi", () => {
  const friend = (id: string, nickname: string): FriendView => ({
    user: { id, username: `u${id}`, nickname, avatarUrl: null },
    remark: "",
    since: 0,
    dm: `d${id}`,
    initial: indexLetter(nickname),
    ...(spelling(nickname) ? { spell: spelling(nickname) } : {}),
  });
  const s = {
    ...emptyState(),
    friends: { a: friend("a", "张三"), b: friend("b", "李四"), c: friend("c", "Zhang Wei") },
  };
  const names = (q: string) =>
    groupFriends(s, q, "zh-CN").flatMap(([, list]) => list.map((f) => f.user.nickname)).sort();
  for (const q of ["zhangsan", "zhang san", "zhang", "zs", "ZS"]) {
    assert.ok(names(q).includes("张三"), q);
  }
  assert.deepEqual(names("lisi"), ["李四"]);
  assert.deepEqual(names("zhangsan"), ["张三"]);
});
