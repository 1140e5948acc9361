import assert from "node:assert/strict";
import { test } from "node:test";
import { constantBackground, fillBackground, polynomialTerms, type BackgroundModel, type Box } from "../src/core/background.js";
import { allocVoxels } from "../src/core/dtype.js";
import { fieldToValues } from "../src/decode/values.js";
import { KERNEL_STRIDE, P_AMP, P_POS, P_ROT, P_SCALE, PARAMS_PER_GAUSSIAN } from "../src/core/constants.js";
import { covariance, invertSym3, kernelProfile, toVoxel } from "../src/core/gaussian.js";
import { ChunkRangeError } from "../src/decode/errors.js";
import { fullBox, levelFactors, scaledShape, VmgDecoder } from "../src/decode/decoder.js";
import { prepareKernels } from "../src/decode/kernels.js";
import { kernelExp, ROW_E, ROW_RATIO, ROW_STEP, visitRows } from "../src/decode/rows.js";
import { SpatialIndex } from "../src/decode/spatial-index.js";
import { splatKernel } from "../src/decode/splat.js";
import { readVmg, writeVmg, type VmgFile } from "../src/format/vmg.js";
import { DECODE_PATHS } from "./helpers/decode-paths.js";
import { randomFile } from "./helpers/files.js";

/** Float64 brute force: every Gaussian at every voxel, same kernel and truncation. */
function bruteForceField(f: VmgFile): Float64Array {
  const [nz, ny, nx] = f.header.shape;
  const out = new Float64Array(nz * ny * nx);
  const bg = new Float32Array(out.length);
  fillBackground(f.background, f.header.shape, fullBox(f.header.shape), [1, 1, 1], bg);
  out.set(bg);
  const g = f.gaussians;
  for (let i = 0; i < f.count; i++) {
    const b = i * PARAMS_PER_GAUSSIAN;
    const A = invertSym3(covariance(g[b + P_SCALE]!, g[b + P_SCALE + 1]!, g[b + P_SCALE + 2]!, g[b + P_ROT]!, g[b + P_ROT + 1]!, g[b + P_ROT + 2]!, g[b + P_ROT + 3]!));
    const cx = toVoxel(g[b + P_POS]!, nx), cy = toVoxel(g[b + P_POS + 1]!, ny), cz = toVoxel(g[b + P_POS + 2]!, nz);
    for (let z = 0, o = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, o++) {
      const dx = x - cx, dy = y - cy, dz = z - cz;
      const q = A[0] * dx * dx + A[3] * dy * dy + A[5] * dz * dz + 2 * (A[1] * dx * dy + A[2] * dx * dz + A[4] * dy * dz);
      out[o]! += g[b + P_AMP]! * kernelProfile(q, f.header.truncation);
    }
  }
  return out;
}

function maxAbsAmp(f: VmgFile): number {
  let m = 0;
  for (let i = 0; i < f.count; i++) m = Math.max(m, Math.abs(f.gaussians[i * PARAMS_PER_GAUSSIAN + P_AMP]!));
  return m;
}

for (const path of DECODE_PATHS) test(`decoder matches the float64 brute-force reference within 1e-4 of the peak amplitude [${path}]`, () => {
  for (const [seed, truncation] of [[1, 3], [2, 2.5], [3, 4]] as const) {
    const f = readVmg(writeVmg(randomFile([17, 23, 29], 60, seed, { maxScale: 5 })));
    f.header.truncation = truncation;
    const ref = bruteForceField(f);
    const got = new VmgDecoder(f, path).decodeField(fullBox(f.header.shape));
    let err = 0;
    for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(ref[i]! - got[i]!));
    assert.ok(err <= 1e-4 * maxAbsAmp(f), `seed ${seed}: max error ${err}`);
  }
});

for (const path of DECODE_PATHS) test(`Gaussians taller than the restart spacing: field within 1e-4 of the peak, chunks bit-identical to the full decode [${path}]`, () => {
  // supports of up to ~240 rows: the ratio carried down a z-slice restarts every 64 rows, and boxes
  // entering a slice past a restart row start from it
  const f = readVmg(writeVmg(randomFile([12, 200, 60], 6, 21, { maxScale: 40 })));
  const d = new VmgDecoder(f, path);
  const full = d.decodeField(fullBox(f.header.shape));
  const ref = bruteForceField(f);
  let err = 0;
  for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(ref[i]! - full[i]!));
  assert.ok(err <= 1e-4 * maxAbsAmp(f), `max error ${err}`);
  // exp(-q/2) of each kernel at each voxel in float64, as the rows hand it over: the same in
  // every box, not only after rounding to float32
  const [nz, ny, nx] = f.header.shape;
  const kernels = prepareKernels(f.gaussians, f.header.shape, [1, 1, 1], f.header.truncation);
  const values = (box: Box, kid: number) => {
    const out = new Float64Array((box.z1 - box.z0) * (box.y1 - box.y0) * (box.x1 - box.x0));
    visitRows(kernels.k, kid * KERNEL_STRIDE, box, { row(o, len, skip, seg) {
      let e = seg[ROW_E]!, ratio = seg[ROW_RATIO]!;
      const step = seg[ROW_STEP]!;
      for (let s = skip; s > 0; s--) { e *= ratio; ratio *= step; }
      for (const end = o + len; o < end; o++) { out[o] = e; e *= ratio; ratio *= step; }
    } });
    return out;
  };
  const whole = fullBox(f.header.shape);
  for (let kid = 0; kid < kernels.count; kid++) {
    const all = values(whole, kid);
    for (const box of [{ z0: 2, z1: 9, y0: 70, y1: 134, x0: 5, x1: 50 }, { z0: 0, z1: nz, y0: 129, y1: 200, x0: 0, x1: 60 }, { z0: 5, z1: 6, y0: 191, y1: 192, x0: 31, x1: 32 }]) {
      const part = values(box, kid);
      const chunk = new VmgDecoder(f, path).decodeField(box);
      let o = 0;
      for (let z = box.z0; z < box.z1; z++) for (let y = box.y0; y < box.y1; y++) for (let x = box.x0; x < box.x1; x++, o++) {
        const i = (z * ny + y) * nx + x;
        assert.equal(part[o], all[i], `kernel ${kid}, voxel ${z},${y},${x}`);
        assert.equal(chunk[o], full[i], `voxel ${z},${y},${x}`);
      }
    }
  }
});

for (const path of DECODE_PATHS) test(`stored values are the field mapped, rounded and clamped to the source dtype [${path}]`, () => {
  const f = readVmg(writeVmg(randomFile([6, 7, 8], 20, 4, { dtype: "uint8" })));
  f.header.valueOffset = -400;
  f.header.valueScale = 200;
  const d = new VmgDecoder(f, path);
  const field = d.decodeField(fullBox(f.header.shape));
  const values = d.decode(fullBox(f.header.shape));
  assert.ok(values instanceof Uint8Array);
  let clampedLow = 0, clampedHigh = 0;
  for (let i = 0; i < field.length; i++) {
    const v = -400 + 200 * field[i]!;
    const expect = Math.min(255, Math.max(0, Math.round(v)));
    assert.equal(values[i], expect);
    if (v < 0) clampedLow++;
    if (v > 255) clampedHigh++;
  }
  assert.ok(clampedLow > 0 && clampedHigh > 0, "the test exercises both clamps");
});

for (const path of DECODE_PATHS) test(`a chunk equals the same region of a full decode, bit for bit [${path}]`, () => {
  const f = readVmg(writeVmg(randomFile([40, 70, 90], 300, 9, { maxScale: 6 })));
  const d = new VmgDecoder(f, path);
  const full = d.decode(fullBox(f.header.shape));
  const [, ny, nx] = f.header.shape;
  for (const box of [{ z0: 3, z1: 19, y0: 5, y1: 37, x0: 60, x1: 90 }, { z0: 0, z1: 40, y0: 69, y1: 70, x0: 0, x1: 1 }, { z0: 31, z1: 40, y0: 32, y1: 64, x0: 32, x1: 64 }]) {
    const chunk = new VmgDecoder(f, path).decode(box);
    let o = 0;
    for (let z = box.z0; z < box.z1; z++) for (let y = box.y0; y < box.y1; y++) for (let x = box.x0; x < box.x1; x++) {
      assert.equal(chunk[o++], full[(z * ny + y) * nx + x], `voxel ${z},${y},${x}`);
    }
  }
});

for (const path of DECODE_PATHS) test(`coarse scales are analytic and match a box-downsampled fine decode [${path}]`, () => {
  // Gaussians of 1.5–5 voxels, smooth polynomial background.
  const bg = { kind: "polynomial" as const, degree: 2, params: Float64Array.from(polynomialTerms(2), (_, i) => 0.05 / (i + 1)) };
  const f = readVmg(writeVmg(randomFile([32, 48, 64], 120, 11, { maxScale: 5, background: bg })));
  const d = new VmgDecoder(f, path);
  const fine = d.decodeField(fullBox(f.header.shape));
  const [nz, ny, nx] = f.header.shape;
  for (const level of [1, 2]) {
    const fac = levelFactors(level);
    const shape = scaledShape(f.header.shape, fac);
    const coarse = d.decodeField(fullBox(shape), fac);
    const s = fac[0];
    let maxErr = 0, sq = 0, peak = 0;
    for (let z = 0, o = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) for (let x = 0; x < shape[2]; x++, o++) {
      let sum = 0;
      for (let k = 0; k < s; k++) for (let j = 0; j < s; j++) for (let i = 0; i < s; i++) sum += fine[((z * s + k) * ny + (y * s + j)) * nx + (x * s + i)]!;
      const mean = sum / s ** 3;
      maxErr = Math.max(maxErr, Math.abs(mean - coarse[o]!));
      sq += (mean - coarse[o]!) ** 2;
      peak = Math.max(peak, Math.abs(mean));
    }
    const rms = Math.sqrt(sq / coarse.length);
    // Stated tolerance: the box footprint is modelled as a Gaussian of equal variance, exact in the
    // limit of wide Gaussians; for σ ≥ 0.6 voxel the error stays within 5% (max) / 0.5% (rms) of the peak
    // (measured: 1.7% / 0.07% at level 1, 3.3% / 0.27% at level 2).
    if (process.env.VMG_TEST_VERBOSE) console.log({ level, maxErr, rms, peak });
    assert.ok(maxErr < 0.05 * peak && rms < 0.005 * peak, `level ${level}: max ${maxErr.toFixed(4)} rms ${rms.toFixed(5)} peak ${peak.toFixed(3)}`);
  }
  void nz;
});

for (const path of DECODE_PATHS) test(`out-of-range and malformed chunk requests raise ChunkRangeError [${path}]`, () => {
  const d = new VmgDecoder(readVmg(writeVmg(randomFile([8, 8, 8], 5))), path);
  assert.throws(() => d.decode({ z0: 0, z1: 9, y0: 0, y1: 8, x0: 0, x1: 8 }), ChunkRangeError);
  assert.throws(() => d.decode({ z0: -1, z1: 4, y0: 0, y1: 8, x0: 0, x1: 8 }), ChunkRangeError);
  assert.throws(() => d.decode({ z0: 4, z1: 4, y0: 0, y1: 8, x0: 0, x1: 8 }), ChunkRangeError);
  assert.throws(() => d.decode({ z0: 0, z1: 2.5, y0: 0, y1: 8, x0: 0, x1: 8 }), ChunkRangeError);
  assert.throws(() => d.decode({ z0: 0, z1: 2, y0: 0, y1: 2, x0: 0, x1: 2 }, levelFactors(3)), ChunkRangeError);
  assert.doesNotThrow(() => d.decode({ z0: 0, z1: 1, y0: 0, y1: 1, x0: 0, x1: 1 }, levelFactors(3)));
  assert.throws(() => levelFactors(-1), ChunkRangeError);
});

test("the anchor's exp(-q/2) is within 1e-9 relative of Math.exp over the whole support of the largest radius", () => {
  let worst = 0;
  for (let q = 0; q <= 64; q += 1 / 997) worst = Math.max(worst, Math.abs(kernelExp(q) / Math.exp(-0.5 * q) - 1));
  assert.ok(worst < 1e-9, `worst relative error ${worst}`);
  // past the table it is 0 (within 5e-15 of Math.exp), never a polynomial growing with q
  for (const q of [67, 100, 1000, 1e6, Infinity]) assert.ok(kernelExp(q) >= 0 && kernelExp(q) <= Math.exp(-33), `kernelExp(${q}) = ${kernelExp(q)}`);
});

/** The grid model as its definition states it: trilinear interpolation of nodes spread from u = -1 to +1. */
function gridReference(dims: [number, number, number], p: Float64Array, u: [number, number, number]): number {
  const w = u.map((ui, a) => {
    const g = dims[2 - a]!;
    if (g === 1) return [0, 0] as const;
    const t = Math.min(Math.max(((ui + 1) / 2) * (g - 1), 0), g - 1), i = Math.min(Math.floor(t), g - 2);
    return [i, t - i] as const;
  });
  let v = 0;
  for (let c = 0; c < 8; c++) {
    const [ix, tx] = w[0]!, [iy, ty] = w[1]!, [iz, tz] = w[2]!;
    const bx = c & 1, by = (c >> 1) & 1, bz = (c >> 2) & 1;
    const weight = (bx ? tx : 1 - tx) * (by ? ty : 1 - ty) * (bz ? tz : 1 - tz);
    if (weight === 0) continue;
    v += weight * p[((iz + bz) * dims[1] + iy + by) * dims[2] + ix + bx]!;
  }
  return v;
}

for (const path of DECODE_PATHS) test(`a grid background decodes to its trilinear definition, and a chunk's values equal the full decode's bit for bit, at scales 0 and 1 [${path}]`, () => {
  const dims: [number, number, number] = [3, 4, 5];
  const params = Float64Array.from({ length: 60 }, (_, i) => 0.2 + 0.05 * Math.sin(i * 1.7));
  const f = readVmg(writeVmg(randomFile([21, 30, 45], 40, 5, { background: { kind: "grid", dims, params } })));
  const empty = { ...f, gaussians: new Float32Array(0), count: 0 };
  for (const level of [0, 1]) {
    const factors = levelFactors(level);
    const shape = scaledShape(f.header.shape, factors);
    const [nz, ny, nx] = f.header.shape;
    const bg = new VmgDecoder(empty, path).decodeField(fullBox(shape), factors);
    let o = 0;
    for (let z = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) for (let x = 0; x < shape[2]; x++) {
      const u: [number, number, number] = [(((x + 0.5) * factors[0]) / nx) * 2 - 1, (((y + 0.5) * factors[1]) / ny) * 2 - 1, (((z + 0.5) * factors[2]) / nz) * 2 - 1];
      const err = Math.abs(bg[o++]! - gridReference(dims, params, u));
      assert.ok(err < 1e-6, `scale ${level} voxel ${z},${y},${x}: background off by ${err}`);
    }
    const d = new VmgDecoder(f, path);
    const full = d.decode(fullBox(shape), factors);
    for (const box of [{ z0: 2, z1: 9, y0: 3, y1: 14, x0: 7, x1: Math.min(shape[2], 30) }, { z0: 0, z1: shape[0], y0: shape[1] - 1, y1: shape[1], x0: shape[2] - 3, x1: shape[2] }]) {
      const chunk = new VmgDecoder(f, path).decode(box, factors);
      let i = 0;
      for (let z = box.z0; z < box.z1; z++) for (let y = box.y0; y < box.y1; y++) for (let x = box.x0; x < box.x1; x++) {
        assert.equal(chunk[i++], full[(z * shape[1] + y) * shape[2] + x], `scale ${level} voxel ${z},${y},${x}`);
      }
    }
  }
});

for (const path of DECODE_PATHS) test(`decode adds the background as it converts: the same values as converting decodeField's field, for every background model and dtype [${path}]`, () => {
  const models: BackgroundModel[] = [
    constantBackground(0.15),
    { kind: "polynomial", degree: 2, params: Float64Array.from({ length: polynomialTerms(2).length }, (_, i) => 0.1 + 0.02 * i) },
    { kind: "grid", dims: [2, 3, 4], params: Float64Array.from({ length: 24 }, (_, i) => 0.1 + 0.01 * ((i * 7) % 5)) },
  ];
  for (const background of models) for (const dtype of ["uint8", "uint16", "uint32", "int8", "int16", "int32", "float32"] as const) {
    const f = readVmg(writeVmg(randomFile([12, 20, 30], 30, 3, { dtype, background })));
    const d = new VmgDecoder(f, path);
    const box = { z0: 1, z1: 11, y0: 2, y1: 19, x0: 3, x1: 30 };
    const values = d.decode(box);
    const expected = allocVoxels(f.header.dtype, values.length);
    fieldToValues(d.decodeField(box), f.header.dtype, f.header.valueOffset, f.header.valueScale, expected);
    assert.deepEqual(values, expected, `${background.kind} background, ${dtype}`);
  }
});

test("the spatial index lists for a thin box every kernel that reaches it and none whose support box misses it by more than a voxel", () => {
  const f = readVmg(writeVmg(randomFile([40, 70, 90], 600, 71, { maxScale: 3 })));
  const shape = f.header.shape;
  const kernels = prepareKernels(f.gaussians, shape, [1, 1, 1], f.header.truncation);
  const index = new SpatialIndex(kernels, shape);
  const boxes: Box[] = [
    { z0: 5, z1: 9, y0: 0, y1: 70, x0: 0, x1: 90 }, // a 4-slice pool tile inside one 32-deep cell
    { z0: 31, z1: 33, y0: 10, y1: 50, x0: 20, x1: 21 }, // across a cell boundary, one column wide
    { z0: 0, z1: 40, y0: 33, y1: 34, x0: 0, x1: 90 }, // one row per slice
  ];
  for (const box of boxes) {
    const ids = [...index.query(box)];
    const b = kernels.box;
    const near = (i: number) => b[i * 6 + 1]! >= box.x0 - 1 && b[i * 6]! <= box.x1 && b[i * 6 + 3]! >= box.y0 - 1 && b[i * 6 + 2]! <= box.y1 && b[i * 6 + 5]! >= box.z0 - 1 && b[i * 6 + 4]! <= box.z1;
    assert.ok(ids.every(near), `box ${JSON.stringify(box)}: a listed kernel's support misses it`);
    const n = (box.z1 - box.z0) * (box.y1 - box.y0) * (box.x1 - box.x0);
    let reaching = 0;
    for (let i = 0; i < kernels.count; i++) {
      const field = new Float32Array(n);
      splatKernel(kernels.k, i * KERNEL_STRIDE, box, field);
      if (field.some((v) => v !== 0)) { reaching++; assert.ok(ids.includes(i), `box ${JSON.stringify(box)}: kernel ${i} reaches it but is not listed`); }
    }
    assert.ok(reaching > 0 && ids.length < kernels.count / 2, `box ${JSON.stringify(box)}: ${reaching} kernels reach it, ${ids.length} listed of ${kernels.count}: a weak test`);
  }
});
