/**
 * A store chunk's polynomial background is stored as float16 (codec kind 4) only where that moves
 * no voxel of an integer type by more than a quarter of a stored unit; otherwise as float32.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { DType } from "../src/core/dtype.js";
import { fitChunk, type ChunkJob } from "../src/store/block-fit.js";
import { readChunk } from "../src/store/codec/chunk.js";
import { GAUSSIAN_CODEC_VERSION } from "../src/store/codec/config.js";

/** A 16³ block of one bright blob on a flat `floor`, in a store mapping 0 … 1 to `valueOffset` … `valueOffset + valueScale`. */
function blobJob(dtype: DType, floor: number, peak: number, valueOffset: number, valueScale: number): ChunkJob {
  const data = dtype === "uint8" ? new Uint8Array(4096) : dtype === "uint16" ? new Uint16Array(4096) : new Float32Array(4096);
  for (let z = 0, i = 0; z < 16; z++) for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++, i++) {
    data[i] = Math.round(floor + peak * Math.exp(-((z - 8) ** 2 + (y - 8) ** 2 + (x - 8) ** 2) / 8));
  }
  return {
    block: { shape: [16, 16, 16], dtype, data }, offset: [0, 0, 0], valid: [16, 16, 16], chunk: [16, 16, 16], bytes: 400, gate: 0.5,
    config: { version: GAUSSIAN_CODEC_VERSION, encoding: "packed", truncation: 3, valueOffset, valueScale },
    fill: 0, iterations: 10, storeVoxels: Infinity, seed: 1, background: "poly1", kernel: "js",
  };
}

const kindOf = async (job: ChunkJob) => {
  const bytes = await fitChunk(job);
  assert.ok(bytes && readChunk(bytes, job.chunk, job.config).count > 0, "the blob is fitted");
  return bytes[1];
};

test("a u8 chunk's polynomial is float16 (kind 4); a u16 one's over a bright background with a wide mapping, and any float32 one's, stay float32 (kind 1)", async () => {
  assert.equal(await kindOf(blobJob("uint8", 20, 200, 0, 249)), 4);
  // a background near 0.5 of a 60000-wide mapping: float16's step there (2^-12) is 15 stored units
  assert.equal(await kindOf(blobJob("uint16", 30000, 20000, 0, 60000)), 1);
  assert.equal(await kindOf(blobJob("float32", 20, 200, 0, 249)), 1);
});
