/**
 * The Gaussian model, once. Every evaluator (CPU decoder, fitter, WGSL shader) uses the kernel
 * defined here:
 *
 *   q(v)     = (v - c)ᵀ Σ⁻¹ (v - c)                  Mahalanobis distance², v in voxel units
 *   k(q)     = (exp(-q/2) - exp(-r²/2)) / (1 - exp(-r²/2))   for q ≤ r², else 0
 *   value(v) = amp · k(q(v))
 *
 * The shift by exp(-r²/2) makes the truncated kernel continuous at the cutoff, so evaluators that
 * disagree by one ulp on whether a voxel lies inside the support (float32 GPU vs float64 CPU)
 * still agree on its value. The peak (q = 0) is exactly `amp`.
 *
 * Σ = R diag(s²) Rᵀ with R from the unit quaternion (w, x, y, z) and s the standard deviations in
 * voxels. A voxel (i, j, k) of the full-resolution grid has its centre at coordinates (i, j, k);
 * a normalised position p ∈ [-1, 1] maps to voxel coordinate (p + 1)/2 · n − 1/2, so ±1 are the
 * outer faces of the volume.
 *
 * Coarser scales (factor f per axis) are analytic: each Gaussian is convolved with a Gaussian of
 * the coarse voxel's footprint variance (f² − 1)/12 (the variance of f equally weighted samples),
 * which widens Σ and lowers the peak by √(det Σ / det Σ'), and is then sampled at coarse voxel
 * centres, which lie at fine coordinate f·j + (f − 1)/2.
 */
import {
  K_AMP, K_AXX, K_AXY, K_AXZ, K_AYY, K_AYZ, K_AZZ, K_CX, K_CXX, K_CY, K_CYY, K_CYZ, K_CZ, K_CZZ,
  K_FLOOR, K_R2, P_AMP, P_POS, P_ROT, P_SCALE, PARAMS_PER_GAUSSIAN,
} from "./constants.js";

/** Symmetric 3×3 matrix stored as [xx, xy, xz, yy, yz, zz]. */
export type Sym3 = [number, number, number, number, number, number];

/** Volume shape in [z, y, x] order (x fastest in memory). */
export type Shape3 = readonly [number, number, number];

/** Row-major 3×3 rotation from a quaternion (w, x, y, z); the quaternion is normalised first. */
export function quatToRotation(w: number, x: number, y: number, z: number): number[] {
  const n = Math.hypot(w, x, y, z);
  w /= n; x /= n; y /= n; z /= n;
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}

/**
 * Σ = R diag(s²) Rᵀ in voxel units, axes x, y, z, written as [xx, xy, xz, yy, yz, zz] at `off`.
 * Scalar code with no array per call: it runs once per Gaussian when a file opens (per-file setup).
 */
export function covarianceInto(
  out: Sym3 | Float64Array, off: number, sx: number, sy: number, sz: number, qw: number, qx: number, qy: number, qz: number,
): void {
  const n = Math.hypot(qw, qx, qy, qz);
  const w = qw / n, x = qx / n, y = qy / n, z = qz / n;
  // the rotation's entries as quatToRotation gives them
  const r00 = 1 - 2 * (y * y + z * z), r01 = 2 * (x * y - w * z), r02 = 2 * (x * z + w * y);
  const r10 = 2 * (x * y + w * z), r11 = 1 - 2 * (x * x + z * z), r12 = 2 * (y * z - w * x);
  const r20 = 2 * (x * z - w * y), r21 = 2 * (y * z + w * x), r22 = 1 - 2 * (x * x + y * y);
  const a = sx * sx, b = sy * sy, c = sz * sz;
  out[off] = r00 * r00 * a + r01 * r01 * b + r02 * r02 * c;
  out[off + 1] = r00 * r10 * a + r01 * r11 * b + r02 * r12 * c;
  out[off + 2] = r00 * r20 * a + r01 * r21 * b + r02 * r22 * c;
  out[off + 3] = r10 * r10 * a + r11 * r11 * b + r12 * r12 * c;
  out[off + 4] = r10 * r20 * a + r11 * r21 * b + r12 * r22 * c;
  out[off + 5] = r20 * r20 * a + r21 * r21 * b + r22 * r22 * c;
}

/** Σ = R diag(s²) Rᵀ in voxel units, axes x, y, z. */
export function covariance(
  sx: number, sy: number, sz: number, qw: number, qx: number, qy: number, qz: number,
): Sym3 {
  const m: Sym3 = [0, 0, 0, 0, 0, 0];
  covarianceInto(m, 0, sx, sy, sz, qw, qx, qy, qz);
  return m;
}

/** Determinant of the symmetric 3×3 matrix [xx, xy, xz, yy, yz, zz] at `off`. */
export function det3(m: Sym3 | Float64Array, off = 0): number {
  const xx = m[off]!, xy = m[off + 1]!, xz = m[off + 2]!, yy = m[off + 3]!, yz = m[off + 4]!, zz = m[off + 5]!;
  return xx * (yy * zz - yz * yz) - xy * (xy * zz - yz * xz) + xz * (xy * yz - yy * xz);
}

/** Inverse of a symmetric positive-definite 3×3 matrix, from `m` at `off` into `out` at `outOff`. */
export function invertSym3Into(m: Sym3 | Float64Array, off: number, out: Sym3 | Float64Array, outOff: number): void {
  const xx = m[off]!, xy = m[off + 1]!, xz = m[off + 2]!, yy = m[off + 3]!, yz = m[off + 4]!, zz = m[off + 5]!;
  const d = det3(m, off);
  out[outOff] = (yy * zz - yz * yz) / d; out[outOff + 1] = (xz * yz - xy * zz) / d; out[outOff + 2] = (xy * yz - xz * yy) / d;
  out[outOff + 3] = (xx * zz - xz * xz) / d; out[outOff + 4] = (xy * xz - xx * yz) / d; out[outOff + 5] = (xx * yy - xy * xy) / d;
}

/** Inverse of a symmetric positive-definite 3×3 matrix. */
export function invertSym3(m: Sym3): Sym3 {
  const inv: Sym3 = [0, 0, 0, 0, 0, 0];
  invertSym3Into(m, 0, inv, 0);
  return inv;
}

/** The kernel profile k(q) of the module comment, for reference evaluators and tests. */
export function kernelProfile(q: number, r: number): number {
  const r2 = r * r;
  if (q > r2) return 0;
  const floor = Math.exp(-0.5 * r2);
  return (Math.exp(-0.5 * q) - floor) / (1 - floor);
}

/**
 * The largest standard deviation a file may hold, in voxels: the full-resolution volume's diagonal.
 * A wider Gaussian is flat to within exp(−1/2·(1/r)²) over the whole volume, which is the
 * background's job; the bound also keeps every support's extent proportional to the grid.
 */
export function volumeDiagonal(shape: Shape3): number {
  return Math.hypot(shape[0], shape[1], shape[2]);
}

/** Full-resolution voxel coordinate of a normalised position along an axis of n voxels. */
export function toVoxel(p: number, n: number): number {
  return ((p + 1) / 2) * n - 0.5;
}

/** Normalised position of a full-resolution voxel coordinate along an axis of n voxels. */
export function toNormalized(v: number, n: number): number {
  return ((v + 0.5) / n) * 2 - 1;
}

/** Downsampling factor per axis (x, y, z) of a power-of-two scale level. */
export type Factors = readonly [number, number, number];

/**
 * Fill `out[off .. off+KERNEL_STRIDE)` with everything a sampler needs to evaluate Gaussian `i`
 * of `params` on the grid of a scale with the given per-axis factors. Returns false when the
 * Gaussian contributes nothing (zero amplitude).
 */
export function prepareKernel(
  params: ArrayLike<number>, i: number, shape: Shape3, factors: Factors, radius: number,
  out: Float64Array, off: number,
): boolean {
  const b = i * PARAMS_PER_GAUSSIAN;
  const amp = params[b + P_AMP]!;
  if (amp === 0) return false;
  const [nz, ny, nx] = shape;
  const [fx, fy, fz] = factors;
  const cov = scratch, inv = 6;
  covarianceInto(
    cov, 0, params[b + P_SCALE]!, params[b + P_SCALE + 1]!, params[b + P_SCALE + 2]!,
    params[b + P_ROT]!, params[b + P_ROT + 1]!, params[b + P_ROT + 2]!, params[b + P_ROT + 3]!,
  );
  let peak = amp;
  if (fx !== 1 || fy !== 1 || fz !== 1) {
    const det0 = det3(cov);
    cov[0]! += (fx * fx - 1) / 12;
    cov[3]! += (fy * fy - 1) / 12;
    cov[5]! += (fz * fz - 1) / 12;
    peak *= Math.sqrt(det0 / det3(cov));
    // to coarse-grid units
    cov[0]! /= fx * fx; cov[1]! /= fx * fy; cov[2]! /= fx * fz;
    cov[3]! /= fy * fy; cov[4]! /= fy * fz; cov[5]! /= fz * fz;
  }
  invertSym3Into(cov, 0, cov, inv);
  const r2 = radius * radius;
  const floor = Math.exp(-0.5 * r2);
  const scaled = peak / (1 - floor);
  out[off + K_CX] = (toVoxel(params[b + P_POS]!, nx) - (fx - 1) / 2) / fx;
  out[off + K_CY] = (toVoxel(params[b + P_POS + 1]!, ny) - (fy - 1) / 2) / fy;
  out[off + K_CZ] = (toVoxel(params[b + P_POS + 2]!, nz) - (fz - 1) / 2) / fz;
  out[off + K_AMP] = scaled;
  out[off + K_AXX] = cov[inv]!; out[off + K_AXY] = cov[inv + 1]!; out[off + K_AXZ] = cov[inv + 2]!;
  out[off + K_AYY] = cov[inv + 3]!; out[off + K_AYZ] = cov[inv + 4]!; out[off + K_AZZ] = cov[inv + 5]!;
  out[off + K_CXX] = cov[0]!; out[off + K_CYY] = cov[3]!; out[off + K_CZZ] = cov[5]!;
  out[off + K_CYZ] = cov[4]!;
  out[off + K_R2] = r2;
  out[off + K_FLOOR] = scaled * floor;
  return true;
}

/** prepareKernel's covariance (0..5) and its inverse (6..11): no arrays allocated per Gaussian. */
const scratch = new Float64Array(12);

/** Half-extents (x, y, z) of the axis-aligned box enclosing a prepared kernel's support. */
export function supportHalfExtents(k: Float64Array, off: number): [number, number, number] {
  return [supportHalfExtent(k, off, K_CXX), supportHalfExtent(k, off, K_CYY), supportHalfExtent(k, off, K_CZZ)];
}

/** Half-extent of a prepared kernel's support along the axis whose variance sits at `variance` (K_CXX, K_CYY or K_CZZ). */
export function supportHalfExtent(k: Float64Array, off: number, variance: number): number {
  return Math.sqrt(k[off + K_R2]!) * Math.sqrt(k[off + variance]!);
}
