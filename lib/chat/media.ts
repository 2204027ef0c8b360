/**
 * Pictures and files sent in a conversation. An upload is checked and stored first (a picture
 * re-encoded without metadata, with a thumbnail; a file as it is), then a message carries it
 * (`send` with `media`). Only members read it: the uploader until it is sent, then every member
 * who joined before its message; a member who left, and everyone once it is recalled, get nothing.
 */
import { keys } from "../kv/keys.ts";
import { deleteBlob, getBlob, putBlob } from "../kv/blobs.ts";
import { HttpError } from "../errors.ts";
import { newId } from "../ids.ts";
import { makeChatImage } from "../media/images.ts";
import { getMember } from "./conversations.ts";
import type { Message } from "../wire/protocol.ts";

/** A file sent in a chat: at most this many bytes. */
export const FILE_MAX_BYTES = 20 * 1024 * 1024;

export type MediaKind = "image" | "file";

/** An upload as stored: what a message shows of it (`mediaField()`), and what stays on the server. */
export interface MediaRecord extends NonNullable<Message["media"]> {
  conv: string;
  /** Who uploaded it (and alone may send it). */
  by: string;
  /** The stored bytes: the picture (WebP) or the file as uploaded (`name` made safe). */
  blob: string;
  /** Pictures: the thumbnail's blob. */
  thumb?: string;
  /** What it is served as. */
  type: string;
  at: number;
  /** The seq of the message that carries it, once sent. */
  seq?: number;
}

/** A file name that is safe in a header and on any disk: no path, no control or quote marks. */
export function safeName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  // deno-lint-ignore no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f"*:<>?|]/g, "").replace(/^[.\s]+/, "").trim();
  return [...clean].slice(0, 120).join("") || "file";
}

/** What a message tells of its media (no blob ids: those stay on the server). */
export function mediaField(r: MediaRecord): NonNullable<Message["media"]> {
  return r.kind === "image"
    ? { id: r.id, kind: "image", size: r.size, w: r.w, h: r.h, tw: r.tw, th: r.th }
    : { id: r.id, kind: "file", size: r.size, name: r.name };
}

/** Checks and stores an upload for `conv` by a member; throws a clear error and stores nothing. */
export async function storeMedia(
  kv: Deno.Kv,
  userId: string,
  conv: string,
  kind: MediaKind,
  bytes: Uint8Array,
  name: string,
  now = Date.now(),
): Promise<MediaRecord> {
  if (!await getMember(kv, conv, userId)) {
    throw new HttpError(404, "not_member", `Not a member of conversation "${conv}"`);
  }
  const id = newId(now);
  if (kind === "image") {
    const img = await makeChatImage(bytes);
    const full = await putBlob(kv, img.full.bytes, { type: "image/webp", owner: userId });
    const thumb = await putBlob(kv, img.thumb.bytes, { type: "image/webp", owner: userId });
    const rec: MediaRecord = {
      id,
      conv,
      by: userId,
      kind,
      blob: full.id,
      thumb: thumb.id,
      type: "image/webp",
      size: img.full.bytes.length,
      w: img.full.w,
      h: img.full.h,
      tw: img.thumb.w,
      th: img.thumb.h,
      at: now,
    };
    await keep(kv, rec);
    return rec;
  }
  if (bytes.length > FILE_MAX_BYTES) throw fileTooBig();
  const blob = await putBlob(kv, bytes, { type: "application/octet-stream", owner: userId });
  const rec: MediaRecord = {
    id,
    conv,
    by: userId,
    kind,
    blob: blob.id,
    type: "application/octet-stream",
    size: bytes.length,
    name: safeName(name),
    at: now,
  };
  await keep(kv, rec);
  return rec;
}

/** Stores the record, listed as not sent yet (UnsentMediaSweeper removes it if it stays so). */
async function keep(kv: Deno.Kv, rec: MediaRecord): Promise<void> {
  await kv.atomic()
    .set(keys.media(rec.conv, rec.id), rec)
    .set(keys.unsentMedia(rec.at, rec.conv, rec.id), null)
    .commit();
}

/** How long an upload may wait for the message that carries it. */
export const UNSENT_TTL_MS = 24 * 3600_000;

/**
 * Removes uploads never sent within UNSENT_TTL_MS, bytes and all, once a minute: together with
 * the hourly upload count, what a user can make the server keep is bounded. A message committed
 * at the same moment wins (the record is checked).
 */
export class UnsentMediaSweeper {
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<unknown> | null = null;

  constructor(
    private readonly kv: Deno.Kv,
    private readonly now: () => number = Date.now,
    private readonly everyMs = 60_000,
  ) {}

  start(): void {
    this.#timer = setInterval(() => {
      this.#running ??= this.sweep().catch(() => 0).finally(() => this.#running = null);
    }, this.everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** Removes what is overdue (at most 100 a round); resolves with how many uploads went. */
  async sweep(): Promise<number> {
    const overdue: Deno.KvEntry<null>[] = [];
    const iter = this.kv.list<null>(
      { prefix: keys.unsentMedias(), end: keys.unsentMedia(this.now() - UNSENT_TTL_MS, "", "") },
      { limit: 100 },
    );
    for await (const e of iter) overdue.push(e);
    let gone = 0;
    for (const e of overdue) {
      const [, , conv, id] = e.key as [string, number, string, string];
      const rec = await this.kv.get<MediaRecord>(keys.media(conv, id));
      if (rec.value && rec.value.seq === undefined) {
        const res = await this.kv.atomic().check(rec).delete(rec.key).delete(e.key).commit();
        if (!res.ok) continue;
        await dropMediaBytes(this.kv, rec.value);
        gone++;
      } else await this.kv.delete(e.key);
    }
    return gone;
  }
}

export function fileTooBig(): HttpError {
  return new HttpError(413, "file_too_big", "The file is too large", {
    params: { max: `${FILE_MAX_BYTES / 1024 / 1024} MB` },
  });
}

/**
 * The bytes of a conversation's media for `userId`, or null when they may not have them (not a
 * member, joined after it was sent, not sent yet and not theirs, recalled, or no such thing).
 */
export async function readMedia(
  kv: Deno.Kv,
  conv: string,
  id: string,
  userId: string,
  variant: "full" | "thumb",
): Promise<{ rec: MediaRecord; bytes: Uint8Array } | null> {
  const [rec, member] = await Promise.all([
    kv.get<MediaRecord>(keys.media(conv, id)).then((e) => e.value),
    getMember(kv, conv, userId),
  ]);
  if (!rec || !member) return null;
  if (rec.seq === undefined ? rec.by !== userId : rec.seq <= member.joinedSeq) return null;
  const blobId = variant === "thumb" && rec.thumb ? rec.thumb : rec.blob;
  const blob = await getBlob(kv, blobId);
  return blob ? { rec, bytes: blob.bytes } : null;
}

/** Removes a recalled message's stored bytes (its record went with the recall's write). */
export async function dropMediaBytes(kv: Deno.Kv, rec: MediaRecord): Promise<void> {
  await deleteBlob(kv, rec.blob);
  if (rec.thumb) await deleteBlob(kv, rec.thumb);
}
