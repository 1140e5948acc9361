/**
 * The pool worker's warm-up (src/viewer/gaussian-codec-jit.ts): its synthetic chunk is a valid
 * chunk under every encoding and dtype a store can have, decoding to Gaussians over a background
 * (not a flat chunk that would leave the kernel loops cold), and a worker warms once.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { DType } from "../src/core/dtype.js";
import { decodeChunk, readChunk } from "../src/store/codec/chunk.js";
import { GAUSSIAN_CODEC_VERSION, type GaussianCodecConfig } from "../src/store/codec/config.js";
import { warmDecoder, warmUpChunk, WARM_UP_SHAPE } from "../src/viewer/gaussian-codec-jit.js";

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
