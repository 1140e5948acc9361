/**
 * A chunk of a store's continuous background stores its planned nodes: as a float16 grid where
 * they differ, and as one constant where they are all one value (a sparse volume's flat
 * background), which decodes the same field in 53 bytes fewer.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { roundToHalf } from "../src/core/float16.js";
import { fitChunk, type ChunkJob } from "../src/store/block-fit.js";
import { decodeChunk, readChunk } from "../src/store/codec/chunk.js";
import { GAUSSIAN_CODEC_VERSION } from "../src/store/codec/config.js";
import { CHUNK_NODES } from "../src/store/continuous-background.js";

/** A 16³ float32 chunk (no halo) holding one bright blob on a flat 200, fitted over `nodes`. */
function blobJob(nodes: number[]): ChunkJob {
  const data = new Float32Array(16 ** 3).fill(200);
  for (let z = 0; z < 16; z++) for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) data[(z * 16 + y) * 16 + x] = 200 + 900 * Math.exp(-((z - 8) ** 2 + (y - 8) ** 2 + (x - 8) ** 2) / 8);
  return {
    block: { shape: [16, 16, 16], dtype: "float32", data }, offset: [0, 0, 0], valid: [16, 16, 16], chunk: [16, 16, 16], bytes: 200, gate: 0.5,
    config: { version: GAUSSIAN_CODEC_VERSION, encoding: "packed", truncation: 3, valueOffset: 100, valueScale: 1000 },
    fill: 0, iterations: 120, storeVoxels: Infinity, seed: 1, background: "continuous", nodes, kernel: "js",
  };
}

test("a fitted chunk whose continuous-background nodes are all one value stores a constant; other nodes stay a grid", async () => {
  const flat = roundToHalf(0.1); // the blob's flat 200 in field units
  const job = blobJob(Array.from({ length: CHUNK_NODES }, () => flat));
  const bytes = (await fitChunk(job))!;
  const c = readChunk(bytes, job.chunk, job.config);
  assert.equal(c.background.kind, "constant");
  assert.equal(c.background.params[0], flat);
  assert.ok(c.count > 0 && bytes.length <= job.bytes);
  // the blob's peak decodes near its 1100
  const peak = decodeChunk(bytes, job.chunk, "float32", job.config)[(8 * 16 + 8) * 16 + 8]!;
  assert.ok(Math.abs(peak - 1100) < 100, `peak ${peak}, count ${c.count}`);

  const sloped = Array.from({ length: CHUNK_NODES }, (_, i) => roundToHalf(0.1 + 0.01 * (i % 3)));
  const g = readChunk((await fitChunk(blobJob(sloped)))!, job.chunk, job.config).background;
  assert.equal(g.kind, "grid");
  assert.deepEqual([...g.params], sloped);
});
