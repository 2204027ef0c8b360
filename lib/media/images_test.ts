import assert from "node:assert/strict";
import sharp from "sharp";
import { AVATAR_MAX_BYTES, AVATAR_SIZE, makeAvatar, MAX_PIXELS, sniffImageType } from "./images.ts";
import { HttpError } from "../errors.ts";

function solid(width: number, height: number) {
  return sharp({ create: { width, height, channels: 3, background: "#3366cc" } });
}

function noisy(width: number, height: number) {
  return sharp({
    create: {
      width,
      height,
      channels: 3,
      background: "#808080",
      noise: { type: "gaussian", mean: 128, sigma: 40 },
    },
  });
}

async function bytesOf(img: ReturnType<typeof sharp>): Promise<Uint8Array> {
  return new Uint8Array(await img.toBuffer());
}

async function refusal(bytes: Uint8Array): Promise<HttpError> {
  try {
    await makeAvatar(bytes);
  } catch (err) {
    assert.ok(err instanceof HttpError, `expected an HttpError, got ${err}`);
    return err;
  }
  assert.fail("the image was accepted");
}

function crc32(b: Uint8Array): number {
  let c = ~0;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

const latin1 = (b: Uint8Array) => new TextDecoder("latin1").decode(b);

Deno.test("sniffImageType() names JPEG, PNG, GIF and WebP by their first bytes", async () => {
  assert.equal(sniffImageType(await bytesOf(solid(4, 4).jpeg())), "image/jpeg");
  assert.equal(sniffImageType(await bytesOf(solid(4, 4).png())), "image/png");
  assert.equal(sniffImageType(await bytesOf(solid(4, 4).gif())), "image/gif");
  assert.equal(sniffImageType(await bytesOf(solid(4, 4).webp())), "image/webp");
});

Deno.test("sniffImageType() refuses SVG, text, HTML, empty input and look-alikes", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.equal(sniffImageType(enc('<svg xmlns="http://www.w3.org/2000/svg"/>')), null);
  assert.equal(sniffImageType(enc('<?xml version="1.0"?><svg/>')), null);
  assert.equal(sniffImageType(enc("<html><script>alert(1)</script></html>")), null);
  assert.equal(sniffImageType(enc("just some text")), null);
  assert.equal(sniffImageType(new Uint8Array()), null);
  assert.equal(sniffImageType(new Uint8Array([0xff, 0xd8])), null, "too short for JPEG");
  assert.equal(
    sniffImageType(new Uint8Array([0x89, 0x50, 0x4e, 0x47])),
    null,
    "half a PNG signature",
  );
  assert.equal(sniffImageType(enc("XXXX\0\0\0\0WEBPVP8 ")), null, "WEBP without RIFF");
  assert.equal(sniffImageType(enc("RIFF\0\0\0\0WAVEfmt ")), null, "RIFF that is not WebP");
});

Deno.test("makeAvatar() turns a PNG into a 256×256 JPEG", async () => {
  const out = await makeAvatar(await bytesOf(solid(400, 300).png()));
  assert.equal(out.type, "image/jpeg");
  assert.equal(sniffImageType(out.bytes), "image/jpeg");
  const meta = await sharp(out.bytes).metadata();
  assert.equal(meta.format, "jpeg");
  assert.equal(meta.width, AVATAR_SIZE);
  assert.equal(meta.height, AVATAR_SIZE);
});

Deno.test("makeAvatar() turns a small JPEG into a 256×256 JPEG", async () => {
  const out = await makeAvatar(await bytesOf(solid(40, 90).jpeg()));
  const meta = await sharp(out.bytes).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ["jpeg", 256, 256]);
});

Deno.test("makeAvatar() flattens transparency onto white", async () => {
  const png = await bytesOf(
    sharp({
      create: { width: 10, height: 10, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    }).png(),
  );
  const out = await makeAvatar(png);
  const { data } = await sharp(out.bytes).raw().toBuffer({ resolveWithObject: true });
  assert.ok(
    data[0] > 240 && data[1] > 240 && data[2] > 240,
    `pixel is ${data[0]},${data[1]},${data[2]}`,
  );
});

Deno.test("makeAvatar() strips EXIF (camera, GPS) and XMP metadata", async () => {
  const xmp =
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
    '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>XmpSecretName</dc:creator>' +
    "</rdf:Description></rdf:RDF></x:xmpmeta>";
  const input = await bytesOf(
    solid(300, 200).jpeg().withExif({
      IFD0: { Make: "SecretCamMaker", Copyright: "Owner Real Name" },
      IFD3: {
        GPSLatitudeRef: "N",
        GPSLatitude: "48/1 51/1 2978/100",
        GPSLongitudeRef: "E",
        GPSLongitude: "2/1 17/1 4068/100",
      },
    }).withXmp(xmp),
  );
  const before = await sharp(input).metadata();
  assert.ok(before.exif && before.xmp, "the input carries EXIF and XMP");
  assert.ok(latin1(input).includes("SecretCamMaker"));

  const out = await makeAvatar(input);
  const after = await sharp(out.bytes).metadata();
  assert.equal(after.exif, undefined);
  assert.equal(after.xmp, undefined);
  assert.equal(after.iptc, undefined);
  const text = latin1(out.bytes);
  for (
    const leak of [
      "Exif\0",
      "SecretCamMaker",
      "Owner Real Name",
      "XmpSecretName",
      "http://ns.adobe.com/xap",
    ]
  ) {
    assert.ok(!text.includes(leak), `output contains "${leak.replace("\0", "\\0")}"`);
  }
});

Deno.test("makeAvatar() applies the EXIF orientation before dropping it", async () => {
  // A 200×100 picture, left half red, marked "rotate 90° clockwise to view".
  const left = await sharp({
    create: { width: 100, height: 100, channels: 3, background: "#ff0000" },
  }).png().toBuffer();
  const input = await bytesOf(
    sharp({ create: { width: 200, height: 100, channels: 3, background: "#0000ff" } })
      .composite([{ input: left, left: 0, top: 0 }]).jpeg().withMetadata({ orientation: 6 }),
  );
  const out = await makeAvatar(input);
  const { data, info } = await sharp(out.bytes).raw().toBuffer({ resolveWithObject: true });
  // Upright, the red half is on top: the top row is red, the bottom row blue.
  const px = (x: number, y: number) =>
    Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
  const [tr, , tb] = px(128, 5);
  const [br, , bb] = px(128, 250);
  assert.ok(tr > 200 && tb < 60, `top is ${px(128, 5)}`);
  assert.ok(br < 60 && bb > 200, `bottom is ${px(128, 250)}`);
});

Deno.test("makeAvatar() refuses SVG and text as image_type (400)", async () => {
  for (
    const body of [
      '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
      "hello, world",
    ]
  ) {
    const err = await refusal(new TextEncoder().encode(body));
    assert.equal(err.status, 400);
    assert.equal(err.code, "image_type");
  }
});

Deno.test("makeAvatar() refuses a truncated JPEG or PNG as image_broken (400)", async () => {
  for (const img of [noisy(300, 300).jpeg(), noisy(300, 300).png()]) {
    const full = await bytesOf(img);
    for (const cut of [20, Math.floor(full.length / 2), full.length - 200]) {
      const err = await refusal(full.subarray(0, cut));
      assert.equal(err.status, 400);
      assert.equal(err.code, "image_broken", `cut at ${cut} of ${full.length}`);
    }
  }
});

Deno.test("makeAvatar() refuses a PNG whose header claims too many pixels (pixel bomb)", async () => {
  const png = await bytesOf(solid(1, 1).png());
  const view = new DataView(png.buffer, png.byteOffset);
  // IHDR: width at 16, height at 20, CRC over bytes 12..29 at 29.
  view.setUint32(16, 50_000);
  view.setUint32(20, 50_000);
  view.setUint32(29, crc32(png.subarray(12, 29)));
  assert.ok(50_000 * 50_000 > MAX_PIXELS);
  const err = await refusal(png);
  assert.equal(err.status, 400);
  assert.equal(err.code, "image_pixels");
});

Deno.test("makeAvatar() refuses a JPEG whose header claims too many pixels (pixel bomb)", async () => {
  const jpg = await bytesOf(solid(8, 8).jpeg());
  let patched = false;
  for (let i = 2; i + 9 < jpg.length;) {
    const marker = jpg[i + 1];
    if (marker === 0xc0 || marker === 0xc2) {
      const view = new DataView(jpg.buffer, jpg.byteOffset);
      view.setUint16(i + 5, 60_000);
      view.setUint16(i + 7, 60_000);
      patched = true;
      break;
    }
    i += 2 + ((jpg[i + 2] << 8) | jpg[i + 3]);
  }
  assert.ok(patched, "found the SOF marker");
  const err = await refusal(jpg);
  assert.equal(err.code, "image_pixels");
});

Deno.test("makeAvatar() refuses more than 5 MB with image_too_big (413)", async () => {
  assert.equal(AVATAR_MAX_BYTES, 5 * 1024 * 1024);
  const big = new Uint8Array(AVATAR_MAX_BYTES + 1);
  big.set([0xff, 0xd8, 0xff, 0xe0]);
  const err = await refusal(big);
  assert.equal(err.status, 413);
  assert.equal(err.code, "image_too_big");
  assert.equal(err.extra.params?.max, "5 MB");
});

Deno.test("makeAvatar() refuses a file whose magic bytes and content disagree", async () => {
  const gif = await bytesOf(solid(8, 8).gif());
  const png = await bytesOf(solid(8, 8).png());
  // A PNG signature in front of GIF data.
  const mixed = new Uint8Array([...png.subarray(0, 8), ...gif]);
  const err = await refusal(mixed);
  assert.equal(err.status, 400);
  assert.ok(["image_type", "image_broken"].includes(err.code), err.code);
});
