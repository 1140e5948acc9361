import assert from "node:assert/strict";
import { test } from "node:test";
import { accumulateBackgroundGradient, fillBackground, polynomialTerms, type BackgroundModel, type Box } from "../src/core/background.js";
import { KERNEL_STRIDE } from "../src/core/constants.js";
import { Random } from "../src/core/random.js";
import { prepareKernels } from "../src/decode/kernels.js";
import { SpatialIndex } from "../src/decode/spatial-index.js";
import { splatKernel } from "../src/decode/splat.js";
import { accumulateMoments, MOMENT_STRIDE } from "../src/fit/gradient.js";
import { OPT_STRIDE, toFileParams } from "../src/fit/params.js";
import { PhaseTimes } from "../src/fit/profile.js";
import { RecordedRows } from "../src/fit/recorded-rows.js";
import { fitChunk, gatedChunk, type ChunkJob } from "../src/store/block-fit.js";
import { decodeChunk } from "../src/store/codec/chunk.js";
import { GAUSSIAN_CODEC_VERSION } from "../src/store/codec/config.js";

const shape = [20, 24, 28] as const;

/** Gaussians of every size the fitter makes, thin to wider than the box, some cut by its faces. */
function kernels(seed: number) {
  const rng = new Random(seed);
  const count = 40;
  const opt = new Float64Array(count * OPT_STRIDE);
  for (let i = 0; i < count; i++) {
    opt.set([rng.uniform(-3, 30), rng.uniform(-3, 26), rng.uniform(-3, 22),
      Math.log(rng.uniform(0.3, 9)), Math.log(rng.uniform(0.3, 4)), Math.log(rng.uniform(0.3, 3)),
      rng.normal(), rng.normal(), rng.normal(), rng.normal(), rng.uniform(-1, 1)], i * OPT_STRIDE);
  }
  const params = new Float32Array(count * 11);
  toFileParams(opt, count, shape, params);
  return prepareKernels(params, shape, [1, 1, 1], 3);
}

const boxes: Box[] = [
  { z0: 0, z1: shape[0], y0: 0, y1: shape[1], x0: 0, x1: shape[2] },
  { z0: 5, z1: 9, y0: 0, y1: shape[1], x0: 0, x1: shape[2] }, // a slab
  { z0: 3, z1: 17, y0: 7, y1: 19, x0: 2, x1: 25 },
];

for (const maxValues of [undefined, 300]) {
  test(`recorded rows give the decoder's field and the reference moments, bit for bit${maxValues ? " (most kernels over the record cap)" : ""}`, () => {
    const k = kernels(5);
    const index = new SpatialIndex(k, shape);
    const rows = new RecordedRows(maxValues);
    const rng = new Random(9);
    for (const box of boxes) {
      const n = (box.z1 - box.z0) * (box.y1 - box.y0) * (box.x1 - box.x0);
      const ids = index.query(box);
      const reference = new Float32Array(n), fast = new Float32Array(n);
      for (let j = 0; j < ids.length; j++) splatKernel(k.k, ids[j]! * KERNEL_STRIDE, box, reference);
      rows.splat(k.k, ids, box, fast);
      assert.deepEqual(fast, reference);
      const residual = Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
      const want = new Float64Array(k.count * MOMENT_STRIDE), got = new Float64Array(k.count * MOMENT_STRIDE);
      for (let j = 0; j < ids.length; j++) accumulateMoments(k.k, ids[j]! * KERNEL_STRIDE, box, residual, want, k.source[ids[j]!]! * MOMENT_STRIDE);
      rows.moments(k.k, k.source, residual, got);
      assert.deepEqual(got, want);
      assert.ok(want.some((m) => m !== 0));
    }
  });
}

test("the polynomial background gradient is Σ residual · basis", () => {
  const rng = new Random(2);
  for (const degree of [1, 2, 3]) {
    const P = polynomialTerms(degree).length;
    const model = { kind: "polynomial", degree, params: new Float64Array(P) } as BackgroundModel;
    for (const box of boxes) {
      const n = (box.z1 - box.z0) * (box.y1 - box.y0) * (box.x1 - box.x0);
      const residual = Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
      const grad = new Float64Array(P);
      accumulateBackgroundGradient(model, shape, box, residual, grad);
      const basis = new Float32Array(n);
      for (let t = 0; t < P; t++) {
        const unit = { ...model, params: new Float64Array(P) } as BackgroundModel;
        unit.params[t] = 1;
        fillBackground(unit, shape, box, [1, 1, 1], basis);
        let want = 0;
        for (let i = 0; i < n; i++) want += residual[i]! * basis[i]!;
        assert.ok(Math.abs(grad[t]! - want) <= 1e-5 * (1 + Math.abs(want)), `degree ${degree}, term ${t}: ${grad[t]} vs ${want}`);
      }
    }
  }
});

function job(data: Uint16Array): ChunkJob {
  return {
    block: { shape: [20, 20, 20], dtype: "uint16", data }, offset: [2, 2, 2], valid: [16, 16, 16], chunk: [16, 16, 16], bytes: 400, gate: 0.5,
    config: { version: GAUSSIAN_CODEC_VERSION, encoding: "packed", truncation: 3, valueOffset: 100, valueScale: 1000 },
    fill: 0, iterations: 30, storeVoxels: Infinity, seed: 1, background: "poly1", kernel: "js",
  };
}

test("the gate: a block with nothing above it becomes its background chunk without a fit", async () => {
  const rng = new Random(4);
  // noise below the gate (100 + 0.5 · 1000) everywhere, and a bright voxel in the halo only
  const data = Uint16Array.from({ length: 8000 }, () => 300 + Math.round(rng.uniform(0, 100)));
  data[0] = 5000;
  const times = new PhaseTimes();
  const bytes = await fitChunk(job(data), times);
  assert.deepEqual([...times.ms.keys()], ["gate (block statistics)"]);
  assert.deepEqual(gatedChunk(job(data)), { bytes });
  const decoded = decodeChunk(bytes!, [16, 16, 16], "uint16", job(data).config);
  let mean = 0;
  for (let z = 2; z < 18; z++) for (let y = 2; y < 18; y++) for (let x = 2; x < 18; x++) mean += data[(z * 20 + y) * 20 + x]! / 4096;
  assert.ok(decoded.every((v) => Math.abs(v - mean) <= 1), `the chunk decodes to its mean ${mean}`);
});

test("a block with structure is fitted, and the same job gives the same bytes", async () => {
  const data = new Uint16Array(8000).fill(200);
  for (let z = 6; z < 14; z++) for (let y = 6; y < 14; y++) for (let x = 6; x < 14; x++) data[(z * 20 + y) * 20 + x] = 200 + Math.round(900 * Math.exp(-((z - 10) ** 2 + (y - 10) ** 2 + (x - 10) ** 2) / 8));
  assert.equal(gatedChunk(job(data)), undefined);
  const times = new PhaseTimes();
  const a = await fitChunk(job(data), times);
  assert.ok(times.ms.has("evaluate/forward splat"));
  assert.deepEqual(await fitChunk(job(data)), a);
});
