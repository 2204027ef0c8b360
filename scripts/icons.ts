/**
 * Draws the app's PNG icons from static/icon.svg with sharp, into static/ (the PNGs are committed:
 * the server and Deno Deploy never run this). Run it again after changing the SVG:
 *
 *   ./deno run --allow-read=. --allow-write=static --allow-env --allow-sys --allow-ffi=./node_modules \
 *     scripts/icons.ts
 *
 * The plain icons keep the SVG's rounded corners. The maskable one and Apple's touch icon are
 * full-bleed squares, since the system cuts its own shape out of them: the maskable one draws the
 * speech bubble at 80% size so it stays inside the central circle of 80% diameter that every mask
 * keeps (https://w3c.github.io/manifest/#icon-masks).
 */
import sharp from "sharp";
import { say } from "../lib/log.ts";

const root = new URL("../", import.meta.url);

/** Sizes, file names and whether the icon is full-bleed (and how large the bubble is then). */
const ICONS: readonly { file: string; size: number; bleed?: number }[] = [
  { file: "icon-192.png", size: 192 },
  { file: "icon-512.png", size: 512 },
  { file: "icon-maskable-512.png", size: 512, bleed: 0.8 },
  { file: "apple-touch-icon.png", size: 180, bleed: 0.9 },
];

/** The SVG with its square background and its drawing scaled by `scale` about the centre. */
function fullBleed(svg: string, scale: number): string {
  const bg = svg.match(/<rect\b[^>]*\/>/);
  if (!bg) throw new Error('Cannot find the background "<rect/>" in static/icon.svg');
  const fill = bg[0].match(/fill="([^"]+)"/)?.[1] ?? "#07c160";
  const drawing = svg.slice(svg.indexOf(bg[0]) + bg[0].length, svg.lastIndexOf("</svg>"));
  // The bubble's centre is (32, 37) in the 64×64 view box: it moves to the middle.
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">` +
    `<rect width="64" height="64" fill="${fill}"/>` +
    `<g transform="translate(32 32) scale(${scale}) translate(-32 -37)">${drawing}</g></svg>`;
}

if (import.meta.main) {
  const svg = await Deno.readTextFile(new URL("static/icon.svg", root));
  for (const icon of ICONS) {
    const source = icon.bleed ? fullBleed(svg, icon.bleed) : svg;
    const png = await sharp(new TextEncoder().encode(source), { density: 72 * icon.size / 64 })
      .resize(icon.size, icon.size)
      .png({ compressionLevel: 9 })
      .toBuffer();
    await Deno.writeFile(new URL(`static/${icon.file}`, root), png);
    say(`static/${icon.file}: ${icon.size}×${icon.size}, ${png.length} bytes`);
  }
}
