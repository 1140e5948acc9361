/**
 * A store chunk's fit meets bad input: a block that cannot be fitted because its voxels are bad
 * fails (the run reports the block), and only a block with nothing to fit becomes its background.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isVmgError } from "../src/core/errors.js";
import { fitChunk, gatedChunk, type ChunkJob } from "../src/store/block-fit.js";
import { readChunk } from "../src/store/codec/chunk.js";
import { GAUSSIAN_CODEC_VERSION } from "../src/store/codec/config.js";

/** A 20³ float32 block (16³ chunk, halo 2) holding one bright blob on a flat 200. */
function blobJob(bytes: number): ChunkJob {
  const data = new Float32Array(8000).fill(200);
  for (let z = 6; z < 14; z++) for (let y = 6; y < 14; y++) for (let x = 6; x < 14; x++) data[(z * 20 + y) * 20 + x] = 200 + 900 * Math.exp(-((z - 10) ** 2 + (y - 10) ** 2 + (x - 10) ** 2) / 8);
  return {
    block: { shape: [20, 20, 20], dtype: "float32", data }, offset: [2, 2, 2], valid: [16, 16, 16], chunk: [16, 16, 16], bytes, gate: 0.5,
    config: { version: GAUSSIAN_CODEC_VERSION, encoding: "packed", truncation: 3, valueOffset: 100, valueScale: 1000 },
    fill: 0, iterations: 10, storeVoxels: Infinity, seed: 1, background: "poly1", kernel: "js",
  };
}

test("a block with a NaN or infinite voxel fails its fit instead of becoming a background chunk", async () => {
  for (const bad of [NaN, Infinity]) {
    const job = blobJob(400);
    job.block.data[(10 * 20 + 10) * 20 + 3] = bad; // inside the chunk, away from the blob
    const refused = (e: unknown) => isVmgError(e, "fit/input") && !isVmgError(e, "fit/input/nothing") && /NaN or infinite/.test((e as Error).message);
    assert.throws(() => gatedChunk(job), refused);
    await assert.rejects(fitChunk(job), refused);
  }
});

test("a block whose cap buys no Gaussian is its background chunk, within the cap", async () => {
  const job = blobJob(24);
  assert.equal(gatedChunk(job), undefined, "the block has structure above the gate");
  const bytes = await fitChunk(job);
  assert.ok(bytes && bytes.length <= 24, `${bytes?.length} bytes`);
  assert.equal(readChunk(bytes, [16, 16, 16], job.config).count, 0);
});
