/**
 * Gaussians prepared for sampling at one scale: the kernel constants of core/gaussian.ts plus the
 * integer voxel box of each support, computed once per (file, scale) into flat typed arrays
 * (struct of arrays; no object per Gaussian: this runs once per file in every process and worker).
 */
import { K_CXX, K_CYY, K_CZZ, KERNEL_STRIDE, PARAMS_PER_GAUSSIAN } from "../core/constants.js";
import { prepareKernel, supportHalfExtent, type Factors, type Shape3 } from "../core/gaussian.js";

export interface PreparedKernels {
  /** Number of kernels (Gaussians with non-zero amplitude). */
  count: number;
  /** count × KERNEL_STRIDE kernel constants. */
  k: Float64Array;
  /** count × 6 inclusive support boxes on the scale grid: x0 x1 y0 y1 z0 z1 (may extend past the volume). */
  box: Int32Array;
  /** Index of each kernel in the file's Gaussian list. */
  source: Uint32Array;
}

export function prepareKernels(
  params: Float32Array, shape: Shape3, factors: Factors, radius: number,
): PreparedKernels {
  const n = params.length / PARAMS_PER_GAUSSIAN;
  const k = new Float64Array(n * KERNEL_STRIDE);
  const box = new Int32Array(n * 6);
  const source = new Uint32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const off = count * KERNEL_STRIDE;
    if (!prepareKernel(params, i, shape, factors, radius, k, off)) continue;
    const hx = supportHalfExtent(k, off, K_CXX), hy = supportHalfExtent(k, off, K_CYY), hz = supportHalfExtent(k, off, K_CZZ);
    const b = count * 6;
    box[b] = clampInt(Math.ceil(k[off]! - hx));
    box[b + 1] = clampInt(Math.floor(k[off]! + hx));
    box[b + 2] = clampInt(Math.ceil(k[off + 1]! - hy));
    box[b + 3] = clampInt(Math.floor(k[off + 1]! + hy));
    box[b + 4] = clampInt(Math.ceil(k[off + 2]! - hz));
    box[b + 5] = clampInt(Math.floor(k[off + 2]! + hz));
    source[count++] = i;
  }
  return { count, k: k.subarray(0, count * KERNEL_STRIDE), box: box.subarray(0, count * 6), source: source.subarray(0, count) };
}

// Supports far outside the volume are clipped anyway; keep the numbers in int32 range.
function clampInt(v: number): number {
  return Math.max(-0x40000000, Math.min(0x40000000, v));
}
