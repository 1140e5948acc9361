/** The quality numbers VolMicro reports for a reconstruction against its reference. Browser-safe. */
import { dataRange, mse, psnrFromMse } from "./psnr.js";
import { SSIM_RADIUS, SSIM_TAPS, ssim3d } from "./ssim.js";

export interface QualityMetrics {
  /** dB, peak = `peak`; Infinity when identical. */
  psnr: number;
  /** Mean 3D SSIM (scikit-image conventions, data range = `peak`); NaN for a constant reference. */
  ssim: number;
  mse: number;
  /** The reference's data range (max - min), used as PSNR peak and SSIM data range. */
  peak: number;
}

export function evaluate(ref: ArrayLike<number>, test: ArrayLike<number>, shape: readonly [number, number, number]): QualityMetrics {
  const peak = dataRange(ref);
  const m = mse(ref, test);
  if (!(peak > 0)) return { psnr: m === 0 ? Infinity : -Infinity, ssim: NaN, mse: m, peak };
  return { psnr: psnrFromMse(m, peak), ssim: ssim3d(ref, test, shape, peak), mse: m, peak };
}

/** A z range [z0, z1) of whole planes of a volume, x fastest. */
export type ReadPlanes = (z0: number, z1: number) => Promise<ArrayLike<number>>;

/**
 * `evaluate` over volumes read a slab of whole planes at a time (`slabPlanes` output planes plus
 * the SSIM window's 5 planes on each side), for volumes too large to hold: the same figures up to
 * float64 summation order. `peak` is the reference's data range, known beforehand (SSIM needs it).
 */
export async function evaluateInSlabs(shape: readonly [number, number, number], ref: ReadPlanes, test: ReadPlanes, peak: number, slabPlanes: number): Promise<QualityMetrics> {
  const [nz, ny, nx] = shape, plane = ny * nx;
  const r = SSIM_RADIUS;
  // output planes of the SSIM map: all of them on an axis shorter than the window, else the interior
  const [o0, o1] = nz >= SSIM_TAPS ? [r, nz - r] : [0, nz];
  const outCount = (n: number) => (n >= SSIM_TAPS ? n - 2 * r : n);
  const step = nz >= SSIM_TAPS ? Math.max(1, slabPlanes) : nz; // a stack thinner than the window is one slab
  let sq = 0, ssimSum = 0;
  for (let a = o0; a < o1; a += step) {
    const b = Math.min(o1, a + step);
    const z0 = nz >= SSIM_TAPS ? a - r : 0, z1 = nz >= SSIM_TAPS ? b + r : nz;
    const [x, y] = [await ref(z0, z1), await test(z0, z1)];
    // each plane's squared error once: a slab owns its output planes, the first and last also the border planes
    const m0 = a === o0 ? 0 : a - z0, m1 = b === o1 ? z1 - z0 : b - z0;
    sq += mse(sliceOf(x, m0 * plane, m1 * plane), sliceOf(y, m0 * plane, m1 * plane)) * (m1 - m0) * plane;
    if (peak > 0) ssimSum += ssim3d(x, y, [z1 - z0, ny, nx], peak) * (b - a) * outCount(ny) * outCount(nx);
  }
  const m = sq / (nz * plane);
  if (!(peak > 0)) return { psnr: m === 0 ? Infinity : -Infinity, ssim: NaN, mse: m, peak };
  return { psnr: psnrFromMse(m, peak), ssim: ssimSum / ((o1 - o0) * outCount(ny) * outCount(nx)), mse: m, peak };
}

function sliceOf(a: ArrayLike<number>, start: number, end: number): ArrayLike<number> {
  return ArrayBuffer.isView(a) ? (a as unknown as Float64Array).subarray(start, end) : Array.prototype.slice.call(a, start, end);
}
