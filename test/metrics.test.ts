import assert from "node:assert/strict";
import { test } from "node:test";
import { evaluate } from "../src/metrics/evaluate.js";
import { dataRange, mse, psnr } from "../src/metrics/psnr.js";
import { gaussianTaps, reflectIndex, ssim3d } from "../src/metrics/ssim.js";

type Shape = [number, number, number];

function near(got: number, want: number, tol: number, what: string): void {
  assert.ok(Math.abs(got - want) <= tol, `${what}: got ${got}, want ${want} ± ${tol}`);
}

/** Same generator as the scipy script that produced the reference values below. */
function lcg(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

/** A structured uint16 reference and a noisy float32 "reconstruction" of it. */
function pair([nz, ny, nx]: Shape, seed: number): { a: Uint16Array; b: Float32Array } {
  const n = nz * ny * nx;
  const u = lcg(n, seed), v = lcg(n, seed + 1);
  const a = new Uint16Array(n), b = new Float32Array(n);
  for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    a[i] = ((x * x * 7 + y * 13 + z * z * 5) % 1000) + Math.floor(u[i]! * 500);
    b[i] = a[i]! + Math.floor((v[i]! - 0.5) * 600);
  }
  return { a, b };
}

/** Float64 brute force: direct 11^3 window per output voxel; reflect + no crop on axes < 11. */
function bruteSsim(a: ArrayLike<number>, b: ArrayLike<number>, [nz, ny, nx]: Shape, R: number): number {
  const g = gaussianTaps();
  const range = (n: number): [number, number] => (n >= 11 ? [5, n - 5] : [0, n]);
  const [z0, z1] = range(nz), [y0, y1] = range(ny), [x0, x1] = range(nx);
  const c1 = (0.01 * R) ** 2, c2 = (0.03 * R) ** 2;
  let sum = 0, count = 0;
  for (let z = z0; z < z1; z++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
    let ux = 0, uy = 0, uxx = 0, uyy = 0, uxy = 0;
    for (let dz = -5; dz <= 5; dz++) for (let dy = -5; dy <= 5; dy++) for (let dx = -5; dx <= 5; dx++) {
      const i = (reflectIndex(z + dz, nz) * ny + reflectIndex(y + dy, ny)) * nx + reflectIndex(x + dx, nx);
      const w = g[dz + 5]! * g[dy + 5]! * g[dx + 5]!;
      const p = a[i]!, q = b[i]!;
      ux += w * p; uy += w * q; uxx += w * p * p; uyy += w * q * q; uxy += w * p * q;
    }
    const vx = uxx - ux * ux, vy = uyy - uy * uy, vxy = uxy - ux * uy;
    sum += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
    count++;
  }
  return sum / count;
}

test("SSIM window: scipy's 11-tap Gaussian (sigma 1.5, truncate 3.5), scipy 'reflect' indexing", () => {
  const g = gaussianTaps();
  assert.equal(g.length, 11);
  near(g.reduce((s, x) => s + x, 0), 1, 1e-15, "taps sum");
  near(g[5]!, 0.26601172486179436, 1e-15, "centre tap");
  // d c b a | a b c d | d c b a | a b …
  assert.deepEqual([-3, -2, -1, 0, 3, 4, 5, 6, 8, 9].map((j) => reflectIndex(j, 4)), [2, 1, 0, 0, 3, 3, 2, 1, 0, 1]);
  assert.deepEqual([-7, -1, 1, 6].map((j) => reflectIndex(j, 1)), [0, 0, 0, 0]);
});

test("SSIM of identical volumes is 1", () => {
  const { a } = pair([12, 13, 14], 3);
  near(ssim3d(a, a, [12, 13, 14], dataRange(a)), 1, 1e-12, "uint16");
  const f = Float32Array.from(a, (x) => x / 7);
  near(ssim3d(f, f, [12, 13, 14], dataRange(f)), 1, 1e-12, "float32");
});

test("SSIM matches a float64 brute-force 3D window (16x20x24)", () => {
  const shape: Shape = [16, 20, 24];
  const { a, b } = pair(shape, 7);
  const R = dataRange(a);
  const got = ssim3d(a, b, shape, R);
  near(got, bruteSsim(a, b, shape, R), 1e-9, "brute force");
  // scikit-image's algorithm in numpy/scipy (gaussian_filter sigma 1.5, truncate 3.5, crop 5) on the same data
  assert.equal(a[(3 * 20 + 4) * 24 + 5], 334);
  assert.equal(R, 1484);
  near(got, 0.8628296741807274, 1e-10, "scipy reference");
});

test("SSIM with a short axis (8 planes): reflect boundary, no crop along it", () => {
  const shape: Shape = [8, 20, 24];
  const { a, b } = pair(shape, 11);
  const R = dataRange(a);
  const got = ssim3d(a, b, shape, R);
  near(got, bruteSsim(a, b, shape, R), 1e-9, "brute force");
  near(got, 0.8404512640390375, 1e-10, "scipy reference"); // scipy mode='reflect', z uncropped
  // every axis short, down to a single voxel
  const tiny: Shape = [3, 5, 7];
  const t = pair(tiny, 5);
  near(ssim3d(t.a, t.b, tiny, dataRange(t.a)), bruteSsim(t.a, t.b, tiny, dataRange(t.a)), 1e-9, "all axes short");
  assert.ok(Number.isFinite(ssim3d(Uint8Array.of(5), Uint8Array.of(6), [1, 1, 1], 10)), "1-voxel volume");
});

test("SSIM falls as noise grows", () => {
  const shape: Shape = [14, 16, 18];
  const { a } = pair(shape, 21);
  const R = dataRange(a);
  const noise = lcg(a.length, 99);
  const values = [0, 20, 80, 320].map((amp) => ssim3d(a, Float32Array.from(a, (x, i) => x + (noise[i]! - 0.5) * amp), shape, R));
  assert.equal(values[0], 1);
  for (let i = 1; i < values.length; i++) assert.ok(values[i]! < values[i - 1]!, values.join(" "));
  assert.throws(() => ssim3d(a, a, shape, 0), RangeError);
  assert.throws(() => ssim3d(a, a.subarray(1), shape, R), RangeError);
});

test("PSNR and MSE on a hand-computed example", () => {
  const ref = Uint16Array.of(0, 1, 2, 3), test = Float32Array.of(0, 1, 2, 5);
  assert.equal(mse(ref, test), 1); // (0 + 0 + 0 + 4) / 4
  assert.equal(dataRange(ref), 3);
  near(psnr(ref, test, 3), 10 * Math.log10(9), 1e-12, "psnr"); // 9.5424 dB
  assert.equal(psnr(ref, ref, 3), Infinity);
  near(psnr(Uint8Array.of(10, 20), Uint8Array.of(20, 10), 255), 10 * Math.log10(65025 / 100), 1e-12, "psnr u8");
  assert.throws(() => mse(ref, test.subarray(1)), RangeError);
});

test("evaluate: PSNR/SSIM/MSE with the reference's data range as peak", () => {
  const shape: Shape = [12, 12, 12];
  const { a, b } = pair(shape, 2);
  const m = evaluate(a, b, shape);
  assert.equal(m.peak, dataRange(a));
  assert.equal(m.mse, mse(a, b));
  assert.equal(m.psnr, psnr(a, b, m.peak));
  assert.equal(m.ssim, ssim3d(a, b, shape, m.peak));
  const flat = evaluate(new Uint8Array(1000).fill(4), new Uint8Array(1000).fill(4), [10, 10, 10]);
  assert.deepEqual([flat.psnr, flat.mse, flat.peak, Number.isNaN(flat.ssim)], [Infinity, 0, 0, true]);
});
