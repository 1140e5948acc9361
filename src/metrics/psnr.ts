/** Mean squared error and PSNR over whole volumes, accumulated in float64. Browser-safe. */

/** Mean of (ref - test)^2 over all voxels. */
export function mse(ref: ArrayLike<number>, test: ArrayLike<number>): number {
  const n = ref.length;
  if (test.length !== n) throw new RangeError(`mse: arrays differ in length (${n} vs ${test.length})`);
  if (n === 0) throw new RangeError("mse: empty arrays");
  // Blocked sums keep the float64 rounding error independent of the volume size.
  let total = 0;
  for (let b = 0; b < n; b += 65536) {
    const end = Math.min(n, b + 65536);
    let s = 0;
    for (let i = b; i < end; i++) {
      const d = ref[i]! - test[i]!;
      s += d * d;
    }
    total += s;
  }
  return total / n;
}

/** max - min of the reference: the PSNR peak and SSIM data range used throughout VolMicro. */
export function dataRange(ref: ArrayLike<number>): number {
  const n = ref.length;
  if (n === 0) throw new RangeError("dataRange: empty array");
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = ref[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return hi - lo;
}

/** 10 log10(peak^2 / MSE) in dB; Infinity when the volumes are identical. */
export function psnr(ref: ArrayLike<number>, test: ArrayLike<number>, peak: number): number {
  return psnrFromMse(mse(ref, test), peak);
}

export function psnrFromMse(m: number, peak: number): number {
  if (!(peak > 0) || !Number.isFinite(peak)) throw new RangeError(`psnr: peak must be positive and finite (got ${peak})`);
  return m === 0 ? Infinity : 10 * Math.log10((peak * peak) / m);
}
