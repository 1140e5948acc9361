/**
 * Gradient pass of one kernel over a box: walks exactly the rows the decoder splats (RowPlan) and
 * accumulates the residual-weighted moments from which every parameter gradient follows.
 *
 * With e = exp(-q/2), value = K·(e − f0) (K = K_AMP, f0 = exp(-r²/2)) and r the residual dL/dvalue
 * at each voxel, the kernel needs
 *   Σr, Σr·e, Σr·e·d, Σr·e·d·dᵀ        (d = voxel − centre)
 * because dL/damp = (Σre − f0Σr)/(1 − f0), dL/dc = K·A·Σre·d and dL/dA = −½K·Σre·d·dᵀ.
 * The truncation boundary moves with the parameters, but the kernel is zero there, so it adds no
 * term: the gradient is exact for the function the decoder computes.
 */
import type { Box } from "../core/background.js";
import { R_DX, R_DY, R_DZ, R_E, R_LEN, R_OUT, R_RATIO, R_SKIP, ROW_STRIDE, type RowPlan } from "../decode/rows.js";

/** Doubles per kernel in a moment accumulator. */
export const MOMENT_STRIDE = 11;
export const M_R = 0, M_E = 1, M_EX = 2, M_EY = 3, M_EZ = 4, M_EXX = 5, M_EXY = 6, M_EXZ = 7, M_EYY = 8, M_EYZ = 9, M_EZZ = 10;

export function accumulateMoments(
  k: Float64Array, off: number, box: Box, residual: Float32Array, plan: RowPlan, acc: Float64Array, a: number,
): void {
  const n = plan.plan(k, off, box);
  const rows = plan.rows, step = plan.step;
  let sr = 0, se = 0, sex = 0, sey = 0, sez = 0, sexx = 0, sexy = 0, sexz = 0, seyy = 0, seyz = 0, sezz = 0;
  for (let p = 0; p < n * ROW_STRIDE; p += ROW_STRIDE) {
    let o = rows[p + R_OUT]!;
    const end = o + rows[p + R_LEN]!;
    let e = rows[p + R_E]!, ratio = rows[p + R_RATIO]!, dx = rows[p + R_DX]!;
    for (let s = rows[p + R_SKIP]!; s > 0; s--) { e *= ratio; ratio *= step; } // from the anchor
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (; o < end; o++) {
      const r = residual[o]!;
      const re = r * e;
      s0 += r;
      s1 += re;
      s2 += re * dx;
      s3 += re * dx * dx;
      dx += 1;
      e *= ratio;
      ratio *= step;
    }
    const dy = rows[p + R_DY]!, dz = rows[p + R_DZ]!;
    sr += s0; se += s1; sex += s2; sey += dy * s1; sez += dz * s1;
    sexx += s3; sexy += dy * s2; sexz += dz * s2; seyy += dy * dy * s1; seyz += dy * dz * s1; sezz += dz * dz * s1;
  }
  acc[a + M_R]! += sr; acc[a + M_E]! += se; acc[a + M_EX]! += sex; acc[a + M_EY]! += sey; acc[a + M_EZ]! += sez;
  acc[a + M_EXX]! += sexx; acc[a + M_EXY]! += sexy; acc[a + M_EXZ]! += sexz;
  acc[a + M_EYY]! += seyy; acc[a + M_EYZ]! += seyz; acc[a + M_EZZ]! += sezz;
}

/** The moment layout as WGSL `const` declarations, for the WebGPU moments pass (shaders/moments.wgsl). */
export function wgslMomentConstants(): string {
  const entries: Record<string, number> = { MOMENT_STRIDE, M_R, M_E, M_EX, M_EY, M_EZ, M_EXX, M_EXY, M_EXZ, M_EYY, M_EYZ, M_EZZ };
  return Object.entries(entries).map(([name, value]) => `const ${name}: u32 = ${value}u;`).join("\n") + "\n";
}
