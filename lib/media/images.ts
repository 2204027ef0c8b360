/**
 * Image intake: allowlist by magic bytes, size and pixel limits, then decode and re-encode,
 * which drops all metadata (EXIF, GPS). Backed by sharp (libvips); see docs/architecture.md.
 */
import "./vips_home.ts";
import sharp from "sharp";
import { HttpError } from "../errors.ts";

export type ImageType = "image/jpeg" | "image/png" | "image/gif" | "image/webp";

export const AVATAR_MAX_BYTES = 5 * 1024 * 1024;
export const MAX_PIXELS = 40_000_000;
export const AVATAR_SIZE = 256;
/** A picture sent in a chat: at most this many bytes as uploaded (the browser shrinks big photos). */
export const CHAT_IMAGE_MAX_BYTES = 10 * 1024 * 1024;
/** Its longest side as stored, and the box its thumbnail fits in. */
export const CHAT_IMAGE_SIDE = 2048;
export const THUMB_BOX = 320;

const SIGNATURES: [ImageType, number[], number?][] = [
  ["image/jpeg", [0xff, 0xd8, 0xff]],
  ["image/png", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ["image/gif", [0x47, 0x49, 0x46, 0x38]],
  ["image/webp", [0x57, 0x45, 0x42, 0x50], 8],
];

/** The type named by the file's first bytes; never by its name or the client's Content-Type. */
export function sniffImageType(b: Uint8Array): ImageType | null {
  for (const [type, sig, at = 0] of SIGNATURES) {
    if (b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v)) {
      if (
        type === "image/webp" && !(b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46)
      ) continue;
      return type;
    }
  }
  return null;
}

function mb(n: number): string {
  return `${Math.round(n / 1024 / 1024)} MB`;
}

/** The answer to a picture over the avatar cap (also before its bytes are read: lib/http/body.ts). */
export function imageTooBig(maxBytes = AVATAR_MAX_BYTES): HttpError {
  return new HttpError(413, "image_too_big", "Image is too large", {
    params: { max: mb(maxBytes) },
  });
}

/** Checks an upload's bytes and returns a sharp pipeline on it; throws a clear 400/413 otherwise. */
export async function openUpload(
  bytes: Uint8Array,
  maxBytes: number,
): Promise<ReturnType<typeof sharp>> {
  if (bytes.length > maxBytes) throw imageTooBig(maxBytes);
  const type = sniffImageType(bytes);
  if (!type) {
    throw new HttpError(400, "image_type", "Only JPEG, PNG, GIF and WebP images are accepted");
  }
  // limitInputPixels: false here, checked from the header below so the error can say why.
  const img = sharp(bytes, { limitInputPixels: false, failOn: "error" });
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>["metadata"]>>;
  try {
    meta = await img.metadata();
  } catch {
    throw new HttpError(400, "image_broken", "Image could not be decoded");
  }
  const expected = type.split("/")[1];
  if (meta.format !== expected) {
    throw new HttpError(400, "image_type", "Image content does not match its type");
  }
  if (!meta.width || !meta.height) {
    throw new HttpError(400, "image_broken", "Image could not be decoded");
  }
  if (meta.width * meta.height > MAX_PIXELS) {
    throw new HttpError(400, "image_pixels", "Image has too many pixels");
  }
  return img;
}

/** A square avatar: turned upright, cropped to the centre, 256×256 JPEG, no metadata. */
export async function makeAvatar(
  bytes: Uint8Array,
): Promise<{ bytes: Uint8Array; type: "image/jpeg" }> {
  const img = await openUpload(bytes, AVATAR_MAX_BYTES);
  try {
    const out = await img
      .rotate()
      .resize(AVATAR_SIZE, AVATAR_SIZE, { fit: "cover", position: "attention" })
      .flatten({ background: "#ffffff" })
      .jpeg({ quality: 85, mozjpeg: true })
      .toBuffer();
    return { bytes: new Uint8Array(out), type: "image/jpeg" };
  } catch {
    throw new HttpError(400, "image_broken", "Image could not be decoded");
  }
}

/** One stored picture: WebP, upright, without metadata, and its size in pixels. */
export interface Encoded {
  bytes: Uint8Array;
  w: number;
  h: number;
}

/**
 * A picture for a chat: turned upright by its EXIF orientation, at most CHAT_IMAGE_SIDE on its
 * longest side, re-encoded as WebP (no metadata survives, nor anything appended to the file), and
 * a thumbnail that fits THUMB_BOX. Animated GIFs keep their first frame.
 */
export async function makeChatImage(
  bytes: Uint8Array,
): Promise<{ full: Encoded; thumb: Encoded }> {
  const img = await openUpload(bytes, CHAT_IMAGE_MAX_BYTES);
  try {
    const upright = await img.rotate().toBuffer();
    const encode = async (side: number, quality: number): Promise<Encoded> => {
      const { data, info } = await sharp(upright)
        .resize(side, side, { fit: "inside", withoutEnlargement: true })
        .webp({ quality })
        .toBuffer({ resolveWithObject: true });
      return { bytes: new Uint8Array(data), w: info.width, h: info.height };
    };
    return { full: await encode(CHAT_IMAGE_SIDE, 82), thumb: await encode(THUMB_BOX, 70) };
  } catch {
    throw new HttpError(400, "image_broken", "Image could not be decoded");
  }
}
