/**
 * A grayscale PNG of images side by side (for the benchmarks' pictures): 8-bit, values mapped
 * linearly from [lo, hi] to [0, 255] and clipped, each pixel drawn as zoom × zoom, a 4-pixel white
 * gap between images.
 */
import { deflateSync } from "node:zlib";
import { crc32 } from "../src/format/crc32.js";

const GAP = 4;

export function grayPng(images: ArrayLike<number>[], height: number, width: number, lo: number, hi: number, zoom = 1): Uint8Array {
  const iw = width * zoom, h = height * zoom, w = images.length * iw + (images.length - 1) * GAP;
  const raw = new Uint8Array(h * (w + 1)).fill(255);
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  for (let y = 0; y < h; y++) {
    raw[y * (w + 1)] = 0; // filter: none
    images.forEach((img, k) => {
      for (let x = 0; x < iw; x++) {
        const v = Math.round((img[Math.floor(y / zoom) * width + Math.floor(x / zoom)]! - lo) * scale);
        raw[y * (w + 1) + 1 + k * (iw + GAP) + x] = Math.max(0, Math.min(255, v));
      }
    });
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, w);
  view.setUint32(4, h);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit grayscale, deflate, no interlace
  const signature = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
  return concat([signature, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", new Uint8Array(0))]);
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
