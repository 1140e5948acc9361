/** The quality numbers VolMicro reports for a reconstruction against its reference. Browser-safe. */
import { dataRange, mse, psnrFromMse } from "./psnr.js";
import { ssim3d } from "./ssim.js";

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
