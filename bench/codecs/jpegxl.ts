/**
 * JPEG XL, one image per Z plane: `cjxl` from a 16-bit PGM (values stretched to 0..65535 by the
 * stored range), one butteraugli distance for every plane found by bisection (log scale),
 * `djxl --bits_per_sample=16`. Planes are stored with 4-byte length prefixes (counted).
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { Codec } from "./codec.js";
import { hasCommand, limitNote, joinParts, packStream, run, scratchDir, searchKnob, seconds, splitParts, toDType, unpackStream, valueRange } from "./codec.js";

const MAX_DISTANCE = 25;
const CONCURRENCY = 2;

async function pool<T>(n: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n) }, async () => {
    for (let i = next++; i < n; i = next++) out[i] = await f(i);
  }));
  return out;
}

function pgm16(plane: Uint16Array, W: number, H: number): Uint8Array {
  const head = new TextEncoder().encode(`P5\n${W} ${H}\n65535\n`);
  const out = new Uint8Array(head.length + 2 * plane.length);
  out.set(head);
  for (let i = 0; i < plane.length; i++) { out[head.length + 2 * i] = plane[i]! >> 8; out[head.length + 2 * i + 1] = plane[i]! & 255; } // PGM is big-endian
  return out;
}

function readPgm(b: Uint8Array): { W: number; H: number; maxval: number; data: Uint8Array } {
  // header: P5 <ws> W <ws> H <ws> maxval <single ws>
  const fields: number[] = [];
  const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  let o = 2;
  while (fields.length < 3) {
    while (isWs(b[o]!)) o++;
    let s = "";
    while (!isWs(b[o]!)) s += String.fromCharCode(b[o++]!);
    fields.push(Number(s));
  }
  o++;
  return { W: fields[0]!, H: fields[1]!, maxval: fields[2]!, data: b.subarray(o) };
}

export function jpegxlCodec(): Codec {
  return {
    name: "jpegxl",
    label: "JPEG XL (cjxl per plane, 16-bit)",
    aptPackages: ["libjxl-tools"],
    async available() { return hasCommand("cjxl") && hasCommand("djxl") ? true : "cjxl/djxl not found (Debian libjxl-tools)"; },
    async encode(volume, targetBytes) {
      const [D, H, W] = volume.shape;
      const [lo, hi] = valueRange(volume.data);
      const k = hi > lo ? 65535 / (hi - lo) : 0;
      const s = scratchDir("jxl");
      try {
        for (let z = 0; z < D; z++) {
          const plane = new Uint16Array(H * W);
          for (let i = 0; i < H * W; i++) plane[i] = Math.round((volume.data[z * H * W + i]! - lo) * k);
          writeFileSync(s.path(`p${z}.pgm`), pgm16(plane, W, H));
        }
        const t0 = performance.now();
        const found = await searchKnob({
          lo: 0.05, hi: MAX_DISTANCE, steps: 9, log: true, target: targetBytes,
          encode: async (d) => {
            const t1 = performance.now();
            const parts = await pool(D, async (z) => {
              await run("cjxl", [s.path(`p${z}.pgm`), s.path(`p${z}.jxl`), "-d", d.toFixed(4), "-e", "7", "--quiet"]);
              return new Uint8Array(readFileSync(s.path(`p${z}.jxl`)));
            });
            const stream = packStream(volume.dtype, volume.shape, [lo, hi], joinParts(parts));
            return { stream, bytes: stream.length, seconds: seconds(t1) };
          },
        });
        if (!found) return null;
        return { ...found.best, knob: `distance=${found.knob.toFixed(3)}`, searchSeconds: seconds(t0), ...limitNote(found, targetBytes, "distance 0.05") };
      } finally {
        s.done();
      }
    },
    async decode(stream) {
      const { dtype, shape, side, payload } = unpackStream(stream);
      const [D, H, W] = shape;
      const [lo, hi] = side as [number, number];
      const s = scratchDir("jxld");
      try {
        const t0 = performance.now();
        const parts = splitParts(payload);
        const vals = new Float32Array(D * H * W);
        await pool(D, async (z) => {
          writeFileSync(s.path(`p${z}.jxl`), parts[z]!);
          await run("djxl", [s.path(`p${z}.jxl`), s.path(`d${z}.pgm`), "--bits_per_sample=16", "--quiet"]);
          const img = readPgm(new Uint8Array(readFileSync(s.path(`d${z}.pgm`))));
          if (img.W !== W || img.H !== H) throw new Error(`jpegxl: plane ${z} decoded as ${img.W}x${img.H}`);
          const two = img.maxval > 255, scale = (hi - lo) / img.maxval;
          for (let i = 0; i < H * W; i++) {
            const q = two ? (img.data[2 * i]! << 8) | img.data[2 * i + 1]! : img.data[i]!;
            vals[z * H * W + i] = lo + q * scale;
          }
        });
        return { data: toDType(dtype, vals), seconds: seconds(t0) };
      } finally {
        s.done();
      }
    },
  };
}
