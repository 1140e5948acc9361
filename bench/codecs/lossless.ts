/**
 * Lossless references (no budget: one row per volume).
 *  - zstd: the `zstd` command at level 19 on the raw little-endian voxels.
 *  - blosc: as zarr (v2) stores it — 64³ chunks (edge chunks padded to the full chunk, as zarr
 *    does), Blosc zstd level 5 with bit shuffle, the `.zarray` metadata counted. Blosc comes from the
 *    npm package `numcodecs` (a dependency of zarrita, already installed); it fixes Blosc's
 *    typesize at 4 bytes, so its shuffle is not zarr-python's for 8/16-bit data.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { DTYPES, allocVoxels } from "../../src/core/dtype.js";
import type { Codec } from "./codec.js";
import { bytesOf, hasCommand, joinParts, packStream, run, scratchDir, seconds, splitParts, unpackStream } from "./codec.js";

export function zstdCodec(): Codec {
  return {
    name: "zstd", label: "zstd -19 (lossless)", lossless: true, aptPackages: ["zstd"],
    async available() { return hasCommand("zstd") ? true : "zstd command not found (Debian zstd)"; },
    async encode(volume) {
      const s = scratchDir("zstd");
      try {
        writeFileSync(s.path("in.raw"), bytesOf(volume.data));
        const t0 = performance.now();
        await run("zstd", ["-q", "-19", "-T2", "-f", s.path("in.raw"), "-o", s.path("o.zst")]);
        const secs = seconds(t0);
        const stream = packStream(volume.dtype, volume.shape, [], new Uint8Array(readFileSync(s.path("o.zst"))));
        return { stream, bytes: stream.length, seconds: secs, knob: "-19" };
      } finally { s.done(); }
    },
    async decode(stream) {
      const { dtype, payload } = unpackStream(stream);
      const s = scratchDir("zstdd");
      try {
        const t0 = performance.now();
        writeFileSync(s.path("o.zst"), payload);
        await run("zstd", ["-q", "-d", "-f", s.path("o.zst"), "-o", s.path("d.raw")]);
        const raw = readFileSync(s.path("d.raw"));
        const data = allocVoxels(dtype, raw.byteLength / DTYPES[dtype].bytes);
        bytesOf(data).set(raw);
        return { data, seconds: seconds(t0) };
      } finally { s.done(); }
    },
  };
}

const CHUNK = 64;

type BloscCodec = { encode(d: Uint8Array): Promise<Uint8Array> | Uint8Array; decode(d: Uint8Array): Promise<Uint8Array> | Uint8Array };
async function blosc(): Promise<BloscCodec | string> {
  try {
    const mod = (await import("numcodecs/blosc")) as { default: { fromConfig(c: object): BloscCodec } };
    return mod.default.fromConfig({ id: "blosc", cname: "zstd", clevel: 5, shuffle: 2, blocksize: 0 });
  } catch (e) {
    return `npm package numcodecs (Blosc) not importable: ${(e as Error).message}`;
  }
}

function zarray(shape: readonly number[], dtype: string): Uint8Array {
  const d = { uint8: "|u1", uint16: "<u2", uint32: "<u4", int8: "|i1", int16: "<i2", int32: "<i4", float32: "<f4" }[dtype];
  return new TextEncoder().encode(JSON.stringify({
    chunks: shape.map((n) => Math.min(n, CHUNK)), compressor: { blocksize: 0, clevel: 5, cname: "zstd", id: "blosc", shuffle: 2 },
    dtype: d, fill_value: 0, filters: null, order: "C", shape, zarr_format: 2,
  }, null, 4));
}

export function bloscCodec(): Codec {
  return {
    name: "blosc", label: "zarr Blosc zstd+bitshuffle (lossless)", lossless: true,
    async available() { const b = await blosc(); return typeof b === "string" ? b : true; },
    async encode(volume) {
      const codec = await blosc() as BloscCodec;
      const [D, H, W] = volume.shape;
      const [cz, cy, cx] = [D, H, W].map((n) => Math.min(n, CHUNK)) as [number, number, number];
      const t0 = performance.now();
      const parts: Uint8Array[] = [zarray(volume.shape, volume.dtype)];
      for (let z0 = 0; z0 < D; z0 += cz) for (let y0 = 0; y0 < H; y0 += cy) for (let x0 = 0; x0 < W; x0 += cx) {
        const chunk = allocVoxels(volume.dtype, cz * cy * cx); // padded with the fill value 0
        for (let z = 0; z < cz && z0 + z < D; z++) for (let y = 0; y < cy && y0 + y < H; y++) {
          const src = ((z0 + z) * H + y0 + y) * W + x0, n = Math.min(cx, W - x0);
          chunk.set(volume.data.subarray(src, src + n), (z * cy + y) * cx);
        }
        parts.push(await codec.encode(new Uint8Array(bytesOf(chunk))));
      }
      const secs = seconds(t0);
      const stream = packStream(volume.dtype, volume.shape, [], joinParts(parts));
      return { stream, bytes: stream.length, seconds: secs, knob: "zstd clevel 5, bitshuffle, 64³ chunks" };
    },
    async decode(stream) {
      const codec = await blosc() as BloscCodec;
      const { dtype, shape, payload } = unpackStream(stream);
      const [D, H, W] = shape;
      const [cz, cy, cx] = [D, H, W].map((n) => Math.min(n, CHUNK)) as [number, number, number];
      const t0 = performance.now();
      const parts = splitParts(payload).slice(1);
      const out = allocVoxels(dtype, D * H * W);
      let c = 0;
      for (let z0 = 0; z0 < D; z0 += cz) for (let y0 = 0; y0 < H; y0 += cy) for (let x0 = 0; x0 < W; x0 += cx) {
        const raw = await codec.decode(parts[c++]!);
        const chunk = allocVoxels(dtype, cz * cy * cx, raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
        for (let z = 0; z < cz && z0 + z < D; z++) for (let y = 0; y < cy && y0 + y < H; y++) {
          const src = (z * cy + y) * cx, n = Math.min(cx, W - x0);
          out.set(chunk.subarray(src, src + n), ((z0 + z) * H + y0 + y) * W + x0);
        }
      }
      return { data: out, seconds: seconds(t0) };
    },
  };
}
