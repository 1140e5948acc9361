/**
 * The optimiser's view of the Gaussians: a Float64Array with, per Gaussian,
 *   centre x y z (full-res voxel coordinates), log-scale x y z, quaternion w x y z (raw), amplitude.
 * `toFileParams` writes the decoder's parameter layout (normalised positions, scales), optionally
 * through the payload encoding's rounding, so the loss sees exactly what the file will decode to.
 */
import { MAX_AMPLITUDE, P_AMP, P_POS, P_ROT, P_SCALE, PARAMS_PER_GAUSSIAN, MIN_SCALE } from "../core/constants.js";
import { roundToHalf } from "../core/float16.js";
import { toNormalized, toVoxel, volumeDiagonal, type Shape3 } from "../core/gaussian.js";

export const OPT_STRIDE = 11;
export const O_POS = 0, O_LOGS = 3, O_ROT = 6, O_AMP = 10;

/** Rounds file-layout parameters in place exactly as a payload encoding will store them. */
export type Quantizer = (params: Float32Array, count: number) => void;

export const float16Quantizer: Quantizer = (params, count) => {
  for (let i = 0; i < count * PARAMS_PER_GAUSSIAN; i++) params[i] = roundToHalf(params[i]!);
};

/**
 * Bounds of the file parameters, inside the reader's (vmg.ts validateGaussians) by a factor of two,
 * so that no payload rounding (float16, packed steps of ≤ 1/2 octave) can push them out.
 */
const SCALE_FLOOR = MIN_SCALE * 2;
const AMPLITUDE_CAP = MAX_AMPLITUDE / 2;

export function toFileParams(opt: Float64Array, count: number, shape: Shape3, out: Float32Array, quantizer?: Quantizer): void {
  const [nz, ny, nx] = shape;
  const n = [nx, ny, nz];
  const scaleCap = volumeDiagonal(shape) / 2;
  for (let i = 0; i < count; i++) {
    const a = i * OPT_STRIDE, b = i * PARAMS_PER_GAUSSIAN;
    for (let j = 0; j < 3; j++) {
      out[b + P_POS + j] = toNormalized(opt[a + O_POS + j]!, n[j]!);
      out[b + P_SCALE + j] = Math.min(scaleCap, Math.max(SCALE_FLOOR, Math.exp(opt[a + O_LOGS + j]!)));
    }
    const qn = Math.hypot(opt[a + O_ROT]!, opt[a + O_ROT + 1]!, opt[a + O_ROT + 2]!, opt[a + O_ROT + 3]!) || 1;
    for (let j = 0; j < 4; j++) out[b + P_ROT + j] = opt[a + O_ROT + j]! / qn;
    out[b + P_AMP] = Math.min(AMPLITUDE_CAP, Math.max(-AMPLITUDE_CAP, opt[a + O_AMP]!));
  }
  quantizer?.(out, count);
}

export function fromFileParams(params: Float32Array, count: number, shape: Shape3): Float64Array {
  const [nz, ny, nx] = shape;
  const n = [nx, ny, nz];
  const opt = new Float64Array(count * OPT_STRIDE);
  for (let i = 0; i < count; i++) {
    const a = i * OPT_STRIDE, b = i * PARAMS_PER_GAUSSIAN;
    for (let j = 0; j < 3; j++) {
      opt[a + O_POS + j] = toVoxel(params[b + P_POS + j]!, n[j]!);
      opt[a + O_LOGS + j] = Math.log(params[b + P_SCALE + j]!);
    }
    for (let j = 0; j < 4; j++) opt[a + O_ROT + j] = params[b + P_ROT + j]!;
    opt[a + O_AMP] = params[b + P_AMP]!;
  }
  return opt;
}
