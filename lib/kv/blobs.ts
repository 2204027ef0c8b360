/** Binary blobs (avatars, later images) chunked across KV keys; one small interface an object store can replace. */
import { keys } from "./keys.ts";
import { newId } from "../ids.ts";

const CHUNK = 60 * 1024;
export const MAX_BLOB = 20 * 1024 * 1024;

export interface BlobMeta {
  id: string;
  type: string;
  size: number;
  chunks: number;
  owner: string;
  createdAt: number;
}

/** Stores bytes; the meta key is written last in the same atomic op, so a blob is whole or absent. */
export async function putBlob(
  kv: Deno.Kv,
  bytes: Uint8Array,
  meta: { type: string; owner: string },
): Promise<BlobMeta> {
  if (bytes.length > MAX_BLOB) {
    throw new Error(`Blob of ${bytes.length} bytes is over the ${MAX_BLOB} limit`);
  }
  const id = newId();
  const chunks = Math.max(1, Math.ceil(bytes.length / CHUNK));
  const m: BlobMeta = {
    id,
    type: meta.type,
    size: bytes.length,
    chunks,
    owner: meta.owner,
    createdAt: Date.now(),
  };
  // An atomic op carries at most 800 KiB: write chunk groups first, the meta last.
  const perOp = 12;
  for (let i = 0; i < chunks; i += perOp) {
    let op = kv.atomic();
    for (let j = i; j < Math.min(chunks, i + perOp); j++) {
      op = op.set(keys.blobChunk(id, j), bytes.subarray(j * CHUNK, (j + 1) * CHUNK));
    }
    if (i + perOp >= chunks) op = op.set(keys.blob(id), m);
    await op.commit();
  }
  return m;
}

export async function getBlobMeta(kv: Deno.Kv, id: string): Promise<BlobMeta | null> {
  return (await kv.get<BlobMeta>(keys.blob(id))).value;
}

/** The blob's bytes, or null when it does not exist. */
export async function getBlob(
  kv: Deno.Kv,
  id: string,
): Promise<{ meta: BlobMeta; bytes: Uint8Array } | null> {
  const meta = await getBlobMeta(kv, id);
  if (!meta) return null;
  const bytes = new Uint8Array(meta.size);
  let off = 0;
  for await (const e of kv.list<Uint8Array>({ prefix: keys.blobChunks(id) })) {
    bytes.set(e.value, off);
    off += e.value.length;
  }
  return off === meta.size ? { meta, bytes } : null;
}

export async function deleteBlob(kv: Deno.Kv, id: string): Promise<void> {
  await kv.delete(keys.blob(id));
  let op = kv.atomic();
  let n = 0;
  for await (const e of kv.list({ prefix: keys.blobChunks(id) })) {
    op = op.delete(e.key);
    if (++n % 500 === 0) {
      await op.commit();
      op = kv.atomic();
    }
  }
  await op.commit();
}
