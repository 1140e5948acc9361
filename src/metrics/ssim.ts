/**
 * 3D SSIM, matching scikit-image's
 * `structural_similarity(ref, test, data_range=R, gaussian_weights=True, sigma=1.5,
 * use_sample_covariance=False)` on a 3D array: a normalised Gaussian window (sigma 1.5, truncated
 * at 3.5 sigma -> radius 5, 11 taps) applied separably, K1 = 0.01, K2 = 0.03, C1 = (K1 R)^2,
 * C2 = (K2 R)^2, and the mean of the SSIM map over the volume cropped by 5 voxels on every side.
 * Since the crop equals the filter radius, no cropped output touches the boundary on axes of
 * length >= 11, so boundary handling is irrelevant there and is not implemented.
 *
 * Extension: scikit-image refuses an axis shorter than 11 voxels (e.g. an 8-plane stack). We
 * filter such an axis with scipy's 'reflect' boundary (half-sample symmetric, d c b a | a b c d)
 * — what scikit-image's filter would do — and do not crop it, so every plane counts.
 *
 * Memory is bounded and streaming: for each output z plane, the five moments (mu_x, mu_y, x^2,
 * y^2, xy) are z-filtered straight from the inputs into five float64 planes, then y-filtered one
 * output row at a time into five rows, then x-filtered and combined on the fly. Working set:
 * 5 planes + 5 rows of float64 (about 21 MB for 647x813 planes), no full-size temporaries.
 * Each pass keeps its 11-tap sums in registers and stores once per voxel (memory traffic, not
 * arithmetic, bounds the speed: about 5 s for 303^3 on one core).
 * float64 throughout: the variance terms E[x^2] - E[x]^2 cancel badly in float32 for 16-bit data.
 * Browser-safe.
 */

export const SSIM_SIGMA = 1.5;
export const SSIM_RADIUS = 5; // int(3.5 * 1.5 + 0.5)
export const SSIM_TAPS = 2 * SSIM_RADIUS + 1;
const K1 = 0.01, K2 = 0.03;

/** The normalised 11-tap Gaussian, index k = offset + radius (as scipy's `_gaussian_kernel1d`). */
export function gaussianTaps(sigma = SSIM_SIGMA, radius = SSIM_RADIUS): Float64Array {
  const g = new Float64Array(2 * radius + 1);
  let s = 0;
  for (let k = -radius; k <= radius; k++) s += g[k + radius] = Math.exp((-0.5 * k * k) / (sigma * sigma));
  for (let k = 0; k < g.length; k++) g[k]! /= s;
  return g;
}

const G = gaussianTaps();
const G0 = G[5]!, G1 = G[6]!, G2 = G[7]!, G3 = G[8]!, G4 = G[9]!, G5 = G[10]!;

/** scipy 'reflect' (half-sample symmetric) index for any integer j, including several reflections. */
export function reflectIndex(j: number, n: number): number {
  const p = 2 * n;
  let m = j % p;
  if (m < 0) m += p;
  return m < n ? m : p - 1 - m;
}

/** Output range along one axis and, for each output, its 11 input indices and weights. */
interface AxisPlan {
  out0: number;
  count: number;
  idx: Int32Array;
  w: Float64Array;
}

function axisPlan(n: number): AxisPlan {
  const interior = n >= SSIM_TAPS;
  const out0 = interior ? SSIM_RADIUS : 0;
  const count = interior ? n - 2 * SSIM_RADIUS : n;
  const idx = new Int32Array(count * SSIM_TAPS), w = new Float64Array(count * SSIM_TAPS);
  for (let o = 0; o < count; o++) {
    for (let k = 0; k < SSIM_TAPS; k++) {
      const j = out0 + o + k - SSIM_RADIUS;
      idx[o * SSIM_TAPS + k] = interior ? j : reflectIndex(j, n);
      w[o * SSIM_TAPS + k] = G[k]!;
    }
  }
  return { out0, count, idx, w };
}

/** Symmetric 11-tap filter of row t at interior position c. */
function xf(t: Float64Array, c: number): number {
  return G0 * t[c]! + G1 * (t[c - 1]! + t[c + 1]!) + G2 * (t[c - 2]! + t[c + 2]!)
    + G3 * (t[c - 3]! + t[c + 3]!) + G4 * (t[c - 4]! + t[c + 4]!) + G5 * (t[c - 5]! + t[c + 5]!);
}

function xfTable(t: Float64Array, p: AxisPlan, o: number): number {
  let s = 0;
  for (let k = 0, b = o * SSIM_TAPS; k < SSIM_TAPS; k++) s += p.w[b + k]! * t[p.idx[b + k]!]!;
  return s;
}

/**
 * Mean 3D SSIM of `test` against `ref` (both x fastest, `shape` [z, y, x]) with data range R
 * (VolMicro uses the reference's max - min).
 */
export function ssim3d(
  ref: ArrayLike<number>, test: ArrayLike<number>, shape: readonly [number, number, number], dataRange: number,
): number {
  const [nz, ny, nx] = shape;
  const plane = ny * nx;
  if (!(nz >= 1 && ny >= 1 && nx >= 1)) throw new RangeError(`ssim3d: empty shape ${shape.join("x")}`);
  if (ref.length !== nz * plane || test.length !== nz * plane) {
    throw new RangeError(`ssim3d: shape ${shape.join("x")} needs ${nz * plane} voxels, got ${ref.length} and ${test.length}`);
  }
  if (!(dataRange > 0) || !Number.isFinite(dataRange)) throw new RangeError(`ssim3d: data range must be positive and finite (got ${dataRange})`);
  const c1 = (K1 * dataRange) ** 2, c2 = (K2 * dataRange) ** 2;
  const zp = axisPlan(nz), yp = axisPlan(ny), xp = axisPlan(nx);
  const xInterior = nx >= SSIM_TAPS;

  // z-filtered moments of the current output plane
  const pa = new Float64Array(plane), pb = new Float64Array(plane);
  const paa = new Float64Array(plane), pbb = new Float64Array(plane), pab = new Float64Array(plane);
  // y-filtered rows of the current output row
  const ta = new Float64Array(nx), tb = new Float64Array(nx);
  const taa = new Float64Array(nx), tbb = new Float64Array(nx), tab = new Float64Array(nx);
  // offsets and weights of the current z or y taps
  const dk = new Int32Array(SSIM_TAPS), wk = new Float64Array(SSIM_TAPS);

  let total = 0;
  for (let oz = 0; oz < zp.count; oz++) {
    // z pass: 11 taps accumulated in registers, one store per moment and voxel
    for (let k = 0; k < SSIM_TAPS; k++) {
      dk[k] = zp.idx[oz * SSIM_TAPS + k]! * plane;
      wk[k] = zp.w[oz * SSIM_TAPS + k]!;
    }
    for (let i = 0; i < plane; i++) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
      for (let k = 0; k < SSIM_TAPS; k++) {
        const j = dk[k]! + i, w = wk[k]!;
        const a = ref[j]!, b = test[j]!;
        const wa = w * a, wb = w * b;
        s0 += wa; s1 += wb; s2 += wa * a; s3 += wb * b; s4 += wa * b;
      }
      pa[i] = s0; pb[i] = s1; paa[i] = s2; pbb[i] = s3; pab[i] = s4;
    }
    for (let oy = 0; oy < yp.count; oy++) {
      // y pass for one output row, all x
      for (let k = 0; k < SSIM_TAPS; k++) {
        dk[k] = yp.idx[oy * SSIM_TAPS + k]! * nx;
        wk[k] = yp.w[oy * SSIM_TAPS + k]!;
      }
      for (let x = 0; x < nx; x++) {
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
        for (let k = 0; k < SSIM_TAPS; k++) {
          const j = dk[k]! + x, w = wk[k]!;
          s0 += w * pa[j]!; s1 += w * pb[j]!; s2 += w * paa[j]!; s3 += w * pbb[j]!; s4 += w * pab[j]!;
        }
        ta[x] = s0; tb[x] = s1; taa[x] = s2; tbb[x] = s3; tab[x] = s4;
      }
      // x pass and the SSIM formula, summed per row to keep the float64 total accurate
      let rowSum = 0;
      for (let o = 0; o < xp.count; o++) {
        let ux: number, uy: number, uxx: number, uyy: number, uxy: number;
        if (xInterior) {
          const c = xp.out0 + o;
          ux = xf(ta, c); uy = xf(tb, c); uxx = xf(taa, c); uyy = xf(tbb, c); uxy = xf(tab, c);
        } else {
          ux = xfTable(ta, xp, o); uy = xfTable(tb, xp, o);
          uxx = xfTable(taa, xp, o); uyy = xfTable(tbb, xp, o); uxy = xfTable(tab, xp, o);
        }
        const vx = uxx - ux * ux, vy = uyy - uy * uy, vxy = uxy - ux * uy;
        rowSum += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
      }
      total += rowSum;
    }
  }
  return total / (zp.count * yp.count * xp.count);
}
