/**
 * /api/groups: create, read, settings, avatar, members, roles, mutes, hand-over, dissolve.
 * Thin: the rules (and every role check, made again in the same KV write as the change) are in
 * lib/groups/groups.ts and lib/groups/moderation.ts. Joining and invite links: routes/api/group_invites.ts.
 */
import { Hono } from "hono";
import type { Ctx, Env } from "../../lib/http/state.ts";
import { body, readJson, readUpload, requireUser, str } from "../../lib/http/body.ts";
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
} from "../../lib/groups/groups.ts";
import { inviteFriends } from "../../lib/groups/join.ts";
import {
  dissolve,
  kick,
  leave,
  mute,
  setRole,
  transferOwnership,
} from "../../lib/groups/moderation.ts";
import {
  groupAfterChange,
  groupCards,
  searchPublicGroups,
  viewGroup,
} from "../../lib/groups/view.ts";

export const groupsApi = new Hono<Env>();

/** A list of user ids (at most 500); 400 when it is anything else. */
export function idList(b: Record<string, unknown>, name: string): string[] {
  const v = b[name] ?? [];
  if (!Array.isArray(v) || v.length > 500 || !v.every((x) => typeof x === "string")) {
    throw new HttpError(400, "bad_input", `Field "${name}" must be a list of user ids`, {
      field: name,
    });
  }
  return v as string[];
}

/** A boolean field, or undefined when absent. */
function optBool(b: Record<string, unknown>, name: string): boolean | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") {
    throw new HttpError(400, "bad_input", `Field "${name}" must be true or false`, { field: name });
  }
  return v;
}

/** A whole-number field; 400 when absent or not one. */
export function intField(b: Record<string, unknown>, name: string): number {
  const v = b[name];
  if (typeof v !== "number" || !Number.isSafeInteger(v)) {
    throw new HttpError(400, "bad_input", `Field "${name}" must be a whole number`, {
      field: name,
    });
  }
  return v;
}

/**
 * The answer to a committed change: the group as the caller may see it now, never an error (they
 * may have been removed, or the group dissolved, since the commit).
 */
async function answer(c: Ctx) {
  const { user } = requireUser(c);
  return c.json({ group: await groupAfterChange(c.var.deps.rt, c.req.param("id") ?? "", user.id) });
}

groupsApi.post("/groups", body.json, async (c) => {
  const { user } = requireUser(c);
  const { kv, rt } = c.var.deps;
  const b = readJson(c);
  const title = checkTitle(str(b, "title"));
  const members = idList(b, "members");
  await enforce(kv, "group_create", `user:${user.id}`, LIMITS_GROUP_RATE.createUser, rt.now());
  const conv = await createGroup(rt, user, title, members);
  return c.json({ group: await groupAfterChange(rt, conv.id, user.id) }, 201);
});

groupsApi.get("/groups/search", async (c) => {
  const { user } = requireUser(c);
  const { kv, rt } = c.var.deps;
  await enforce(kv, "group_search", `user:${user.id}`, LIMITS_GROUP_RATE.searchUser, rt.now());
  const q = (c.req.query("q") ?? "").slice(0, 64);
  return c.json({ groups: await groupCards(kv, await searchPublicGroups(kv, q)) });
});

groupsApi.get("/groups/:id", async (c) => {
  const { user } = requireUser(c);
  return c.json({ group: await viewGroup(c.var.deps.rt, c.req.param("id"), user.id) });
});

/** Changes only what differs; each change is its own system message. */
groupsApi.patch("/groups/:id", body.json, async (c) => {
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
  return await answer(c);
});

/** The body is the picture itself (any Content-Type: the bytes decide), as for /api/me/avatar. */
groupsApi.put("/groups/:id/avatar", body.upload(AVATAR_MAX_BYTES, imageTooBig), async (c) => {
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
  return await answer(c);
});

groupsApi.delete("/groups/:id/avatar", body.none, async (c) => {
  const { user } = requireUser(c);
  const { kv, rt } = c.var.deps;
  const { conv } = await readCtx(rt, c.req.param("id"), user.id, "admin");
  if (conv.value.avatar) {
    const { old } = await setAvatar(rt, user, conv.value.id, null);
    if (old) await deleteBlob(kv, old);
  }
  return await answer(c);
});

groupsApi.post("/groups/:id/members", body.json, async (c) => {
  const { user } = requireUser(c);
  const b = readJson(c);
  await inviteFriends(c.var.deps.rt, user, c.req.param("id"), idList(b, "userIds"));
  return await answer(c);
});

/** Kick someone, or (with one's own id) leave. */
groupsApi.delete("/groups/:id/members/:userId", body.none, async (c) => {
  const { user } = requireUser(c);
  const rt = c.var.deps.rt;
  if (c.req.param("userId") === user.id) {
    await leave(rt, user, c.req.param("id"));
    return c.json({ ok: true });
  }
  await kick(rt, user, c.req.param("id"), c.req.param("userId"));
  return await answer(c);
});

groupsApi.put("/groups/:id/members/:userId/role", body.json, async (c) => {
  const { user } = requireUser(c);
  const b = readJson(c);
  await setRole(
    c.var.deps.rt,
    user,
    c.req.param("id"),
    c.req.param("userId"),
    str(b, "role") as "admin",
  );
  return await answer(c);
});

groupsApi.post("/groups/:id/members/:userId/mute", body.json, async (c) => {
  const { user } = requireUser(c);
  const b = readJson(c);
  await mute(c.var.deps.rt, user, c.req.param("id"), c.req.param("userId"), intField(b, "minutes"));
  return await answer(c);
});

groupsApi.post("/groups/:id/transfer", body.json, async (c) => {
  const { user } = requireUser(c);
  const b = readJson(c);
  const to = str(b, "userId");
  if (!to) {
    throw new HttpError(400, "field_required", "Say whom to hand the group to", {
      field: "userId",
    });
  }
  await transferOwnership(c.var.deps.rt, user, c.req.param("id"), to);
  return await answer(c);
});

groupsApi.put("/groups/:id/me", body.json, async (c) => {
  const { user } = requireUser(c);
  const b = readJson(c);
  await setDisplayName(c.var.deps.rt, user, c.req.param("id"), str(b, "displayName"));
  return await answer(c);
});

groupsApi.delete("/groups/:id", body.none, async (c) => {
  const { user } = requireUser(c);
  await dissolve(c.var.deps.rt, user, c.req.param("id"));
  return c.json({ ok: true });
});
