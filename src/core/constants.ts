/**
 * Constants shared by every evaluator of the Gaussian model: the CPU decoder, the fitter and the
 * WGSL shaders. The WGSL side never hard-codes them: `wgslConstants()` renders this module into a
 * WGSL prelude that is prepended to every shader, so both sides read the same numbers.
 */

/** Floats per Gaussian in the in-memory parameter array (AoS): position 3, scale 3, rotation 4, amplitude 1. */
export const PARAMS_PER_GAUSSIAN = 11;

/** Offsets inside one in-memory / on-disk Gaussian record. Vectors are stored x, y, z. */
export const P_POS = 0; // normalised position in [-1, 1] per axis (x, y, z)
export const P_SCALE = 3; // standard deviations along the local axes, in voxels (x, y, z)
export const P_ROT = 6; // rotation quaternion (w, x, y, z), normalised on use
export const P_AMP = 10; // peak amplitude in field units

/** Bytes per Gaussian in the paper's plain float16 encoding. */
export const F16_RECORD_BYTES = PARAMS_PER_GAUSSIAN * 2;

/** Default kernel truncation radius, in standard deviations (Mahalanobis distance). */
export const DEFAULT_TRUNCATION_SIGMA = 3;

/** Limits the reader enforces on the truncation radius. */
export const MIN_TRUNCATION_SIGMA = 1;
export const MAX_TRUNCATION_SIGMA = 8;

/** Smallest standard deviation (voxels) accepted: below it a Gaussian is degenerate. */
export const MIN_SCALE = 1e-3;

/**
 * Largest |amplitude| accepted (field units): the binary16 maximum, so both payload encodings hold
 * the same amplitudes. The fitter's value mapping keeps every field value within a quarter of it
 * (MAX_FIELD_VALUE, src/fit/prepare.ts) and its parameterisation clamps amplitudes to half of it.
 */
export const MAX_AMPLITUDE = 65504;

/** Smallest quaternion norm accepted before normalisation. */
export const MIN_QUAT_NORM = 1e-3;

/** Floats per prepared kernel (see `prepareKernel` in `gaussian.ts`). */
export const KERNEL_STRIDE = 16;

/** Offsets inside one prepared kernel: everything a sampler needs, in output-grid voxel units. */
export const K_CX = 0;
export const K_CY = 1;
export const K_CZ = 2;
export const K_AMP = 3; // amplitude already divided by (1 - exp(-r²/2)), see kernelValue
export const K_AXX = 4; // inverse covariance, symmetric: xx xy xz yy yz zz
export const K_AXY = 5;
export const K_AXZ = 6;
export const K_AYY = 7;
export const K_AYZ = 8;
export const K_AZZ = 9;
export const K_CXX = 10; // covariance entries used for the support: xx yy zz yz
export const K_CYY = 11;
export const K_CZZ = 12;
export const K_CYZ = 13;
export const K_R2 = 14; // squared truncation radius
export const K_FLOOR = 15; // exp(-r²/2) * K_AMP: value subtracted so the kernel is 0 at the cutoff

/** Render the constants a shader needs as WGSL `const` declarations. */
export function wgslConstants(): string {
  const entries: Record<string, number> = {
    PARAMS_PER_GAUSSIAN,
    KERNEL_STRIDE,
    K_CX, K_CY, K_CZ, K_AMP, K_AXX, K_AXY, K_AXZ, K_AYY, K_AYZ, K_AZZ,
    K_CXX, K_CYY, K_CZZ, K_CYZ, K_R2, K_FLOOR,
  };
  return Object.entries(entries)
    .map(([name, value]) => `const ${name}: u32 = ${value}u;`)
    .join("\n") + "\n";
}
