/**
 * /api/groups: create, search, read, settings, avatar, hand-over, one's name in the group, join,
 * dissolve. Members, join requests and invite links have their own files under
 * /api/groups/:id/. Thin: the rules (and every role check, made again in the same KV write as the
 * change) are in lib/groups/.
 */
import { fail } from "../../lib/errors.ts";
import { Hono } from "hono";
import type { Env } from "../../lib/http/state.ts";
import { body, readJson, readOptionalJson, readUpload } from "../../lib/http/body.ts";
import { requireUser } from "../../lib/http/access.ts";
import { idList, optBool, str } from "../../lib/http/fields.ts";
import { HttpError } from "../../lib/errors.ts";
import { enforce } from "../../lib/accounts/accounts.ts";
import { AVATAR_MAX_BYTES, imageTooBig, makeAvatar } from "../../lib/media/images.ts";
import { deleteBlob, putBlob } from "../../lib/kv/blobs.ts";
import {
  checkNotice,
  checkTitle,
  createGroup,
  LIMITS_GROUP_RATE,
  readCtx,
  rename,
  setAvatar,
  setDisplayName,
  setNotice,
  setSettings,
  validId,
} from "../../lib/groups/groups.ts";
import { joinOrAsk } from "../../lib/groups/invites.ts";
import { dissolve, transferOwnership } from "../../lib/groups/moderation.ts";
import {
  groupAfterChange,
  groupCards,
  searchPublicGroups,
  viewGroup,
} from "../../lib/groups/view.ts";
import { groupAnswer } from "./groups/_group.ts";

export const groupsApi = new Hono<Env>();

groupsApi.post("/", body.json, async (c) => {
  const { user } = requireUser(c);
  const { kv, rt } = c.var.deps;
  const b = readJson(c);
  const title = checkTitle(str(b, "title"));
  const members = idList(b, "members");
  await enforce(kv, "group_create", `user:${user.id}`, LIMITS_GROUP_RATE.createUser, rt.now());
  const conv = await createGroup(rt, user, title, members);
  return c.json({ group: await groupAfterChange(rt, conv.id, user.id) }, 201);
});

groupsApi.get("/search", async (c) => {
  const { user } = requireUser(c);
  const { kv, rt } = c.var.deps;
  await enforce(kv, "group_search", `user:${user.id}`, LIMITS_GROUP_RATE.searchUser, rt.now());
  const q = (c.req.query("q") ?? "").slice(0, 64);
  return c.json({ groups: await groupCards(kv, await searchPublicGroups(kv, q)) });
});

groupsApi.get("/:id", async (c) => {
  const { user } = requireUser(c);
  return c.json({ group: await viewGroup(c.var.deps.rt, c.req.param("id"), user.id) });
});

/** Changes only what differs; each change is its own system message. */
groupsApi.patch("/:id", body.json, async (c) => {
  const { user } = requireUser(c);
  const rt = c.var.deps.rt;
  const id = c.req.param("id");
  const { conv } = await readCtx(rt, id, user.id, "admin");
  const b = readJson(c);
  const title = b.title === undefined ? undefined : checkTitle(str(b, "title"));
  const notice = b.notice === undefined ? undefined : checkNotice(str(b, "notice"));
  const settings = { public: optBool(b, "public"), memberInvite: optBool(b, "memberInvite") };
  if (
    title === undefined && notice === undefined && settings.public === undefined &&
    settings.memberInvite === undefined
  ) {
    throw new HttpError(
      400,
      "bad_input",
      "Nothing to change: send title, notice, public or memberInvite",
    );
  }
  const g = conv.value;
  if (title !== undefined && title !== g.title) await rename(rt, user, id, title);
  if (notice !== undefined && notice !== (g.notice?.text ?? "")) {
    await setNotice(rt, user, id, notice);
  }
  const pub = settings.public !== undefined && settings.public !== (g.public ?? false)
    ? settings.public
    : undefined;
  const inv =
    settings.memberInvite !== undefined && settings.memberInvite !== (g.memberInvite ?? true)
      ? settings.memberInvite
      : undefined;
  if (pub !== undefined || inv !== undefined) {
    await setSettings(rt, user, id, { public: pub, memberInvite: inv });
  }
  return await groupAnswer(c);
});

/** The body is the picture itself (any Content-Type: the bytes decide), as for /api/me/avatar. */
groupsApi.put("/:id/avatar", body.upload(AVATAR_MAX_BYTES, imageTooBig), async (c) => {
  const { user } = requireUser(c);
  const { kv, rt } = c.var.deps;
  const id = c.req.param("id");
  // Refuse before storing anything: a refused upload leaves no blob behind.
  await readCtx(rt, id, user.id, "admin");
  const bytes = await readUpload(c);
  const avatar = await makeAvatar(bytes);
  const blob = await putBlob(kv, avatar.bytes, { type: avatar.type, owner: user.id });
  let old: string | null;
  try {
    ({ old } = await setAvatar(rt, user, id, blob.id));
  } catch (err) {
    await deleteBlob(kv, blob.id);
    throw err;
  }
  if (old) await deleteBlob(kv, old);
  return await groupAnswer(c);
});

groupsApi.delete("/:id/avatar", body.none, async (c) => {
  const { user } = requireUser(c);
  const { kv, rt } = c.var.deps;
  const { conv } = await readCtx(rt, c.req.param("id"), user.id, "admin");
  if (conv.value.avatar) {
    const { old } = await setAvatar(rt, user, conv.value.id, null);
    if (old) await deleteBlob(kv, old);
  }
  return await groupAnswer(c);
});

groupsApi.post("/:id/transfer", body.json, async (c) => {
  const { user } = requireUser(c);
  const b = readJson(c);
  const to = str(b, "userId");
  if (!to) {
    throw new HttpError(400, "field_required", "Say whom to hand the group to", {
      field: "userId",
    });
  }
  await transferOwnership(c.var.deps.rt, user, c.req.param("id"), to);
  return await groupAnswer(c);
});

groupsApi.put("/:id/me", body.json, async (c) => {
  const { user } = requireUser(c);
  const b = readJson(c);
  await setDisplayName(c.var.deps.rt, user, c.req.param("id"), str(b, "displayName"));
  return await groupAnswer(c);
});

groupsApi.delete("/:id", body.none, async (c) => {
  const { user } = requireUser(c);
  await dissolve(c.var.deps.rt, user, c.req.param("id"));
  return c.json({ ok: true });
});

/** Public group: join now (200 with the group). Private group: ask the admins (202). */
groupsApi.post("/:id/join", body.json, async (c) => {
  const { user } = requireUser(c);
  const { kv, rt } = c.var.deps;
  const id = c.req.param("id");
  const note = str(readOptionalJson(c), "note");
  // Unknown ids are refused before they count against the limit.
  if (!validId(id)) fail(404, "group_not_found", "No such group");
  await enforce(kv, "group_join", `user:${user.id}`, LIMITS_GROUP_RATE.joinUser, rt.now());
  if (await joinOrAsk(rt, user, id, note) === "joined") {
    return await groupAnswer(c);
  }
  return c.json({ status: "requested" }, 202);
});
