/**
 * The compression thread (lib/http/compress.ts CompressThread): fixed files compressed once at the
 * best quality, brotli 11 or gzip 9, away from the thread that serves sockets.
 */
import zlib from "node:zlib";
import type { BestDone, BestJob } from "./compress.ts";

declare const self: Worker;

self.onmessage = (e: MessageEvent<BestJob>) => {
  const { id, encoding, bytes } = e.data;
  try {
    const out = new Uint8Array(
      encoding === "br"
        ? zlib.brotliCompressSync(bytes, {
          params: {
            [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
            [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
            [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
          },
        })
        : zlib.gzipSync(bytes, { level: zlib.constants.Z_BEST_COMPRESSION }),
    );
    self.postMessage({ id, out } satisfies BestDone, [out.buffer]);
  } catch (err) {
    self.postMessage({ id, error: String(err) } satisfies BestDone);
  }
};
