/**
 * The pool worker's warm-up (src/viewer/gaussian-codec-jit.ts): its synthetic chunk is a valid
 * chunk under every encoding and dtype a store can have, decoding to Gaussians over a background
 * (not a flat chunk that would leave the kernel loops cold), and a worker warms once. Its field
 * buffer (src/viewer/pool-scratch.ts), reused from chunk to chunk, leaves no trace of the last one.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { DType } from "../src/core/dtype.js";
import { constantBackground } from "../src/core/background.js";
import { decodeChunk, encodeChunk, readChunk } from "../src/store/codec/chunk.js";
import { GAUSSIAN_CODEC_VERSION, type GaussianCodecConfig } from "../src/store/codec/config.js";
import type { Shape3 } from "../src/core/gaussian.js";
import { warmDecoder, warmUpChunk, WARM_UP_SHAPE } from "../src/viewer/gaussian-codec-jit.js";
import { poolScratch } from "../src/viewer/pool-scratch.js";

const config = (encoding: "packed" | "f16", valueScale: number): GaussianCodecConfig => ({ version: GAUSSIAN_CODEC_VERSION, encoding, truncation: 3, valueOffset: 10, valueScale });

for (const encoding of ["packed", "f16"] as const) {
  for (const [dtype, scale] of [["uint8", 200], ["uint16", 3000], ["float32", 1]] as Array<[DType, number]>) {
    test(`the warm-up chunk decodes under ${encoding}, ${dtype}: Gaussians over a polynomial background`, () => {
      const c = config(encoding, scale);
      const bytes = warmUpChunk(c);
      const content = readChunk(bytes, WARM_UP_SHAPE, c);
      assert.equal(content.background.kind, "polynomial");
      assert.ok(content.count > 0);
      const values = decodeChunk(bytes, WARM_UP_SHAPE, dtype, c);
      assert.equal(values.length, WARM_UP_SHAPE[0] * WARM_UP_SHAPE[1] * WARM_UP_SHAPE[2]);
      let lo = Infinity, hi = -Infinity;
      for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      assert.ok(hi > lo, `the decoded chunk varies (${lo}..${hi})`);
    });
  }
}

test("a worker warms once: the first request decodes the chunk, later ones return at once", () => {
  const c = config("packed", 3000);
  assert.ok(warmDecoder("uint16", c) >= 1);
  assert.equal(warmDecoder("uint16", c), 0);
});

test("chunks decoded one after another through the pool's one field buffer equal fresh decodes", () => {
  const c = config("packed", 3000);
  const big = warmUpChunk(c);
  const smallShape: Shape3 = [4, 16, 32];
  const small = encodeChunk({ background: constantBackground(0.2), gaussians: new Float32Array(0), count: 0 }, smallShape, c);
  const fresh = [decodeChunk(big, WARM_UP_SHAPE, "uint16", c), decodeChunk(small, smallShape, "uint16", c)];
  const voxels = (s: Shape3) => s[0] * s[1] * s[2];
  for (const [bytes, shape, want] of [[big, WARM_UP_SHAPE, fresh[0]], [small, smallShape, fresh[1]], [big, WARM_UP_SHAPE, fresh[0]], [small, smallShape, fresh[1]]] as const) {
    assert.deepEqual(decodeChunk(bytes, shape, "uint16", c, poolScratch(voxels(shape))), want);
  }
  assert.ok(poolScratch(1).length >= voxels(WARM_UP_SHAPE), "the buffer keeps the largest size seen");
});
