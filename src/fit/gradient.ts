/**
 * Gradient pass of one kernel over a box: walks exactly the rows the decoder splats (visitRows) and
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
import { KMOMENTS } from "../decode/kernel-layout.js";
import { ROW_DX, ROW_DY, ROW_DZ, ROW_E, ROW_RATIO, ROW_STEP, visitRows, type RowVisitor } from "../decode/rows.js";

/** Doubles per kernel in a moment accumulator (the WebAssembly moments pass writes them in this order). */
export const MOMENT_STRIDE = KMOMENTS;
export const M_R = 0, M_E = 1, M_EX = 2, M_EY = 3, M_EZ = 4, M_EXX = 5, M_EXY = 6, M_EXZ = 7, M_EYY = 8, M_EYZ = 9, M_EZZ = 10;

/** Sums the moments of one kernel along each row as the row is solved. */
class MomentRows implements RowVisitor {
  residual: Float32Array = new Float32Array(0);
  sr = 0; se = 0; sex = 0; sey = 0; sez = 0; sexx = 0; sexy = 0; sexz = 0; seyy = 0; seyz = 0; sezz = 0;

  row(o: number, len: number, skip: number, seg: Float64Array): void {
    const residual = this.residual, step = seg[ROW_STEP]!, dy = seg[ROW_DY]!, dz = seg[ROW_DZ]!;
    let e = seg[ROW_E]!, ratio = seg[ROW_RATIO]!, dx = seg[ROW_DX]!;
    for (let s = skip; s > 0; s--) { e *= ratio; ratio *= step; } // from the anchor
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (const end = o + len; o < end; o++) {
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
    this.sr += s0; this.se += s1; this.sex += s2; this.sey += dy * s1; this.sez += dz * s1;
    this.sexx += s3; this.sexy += dy * s2; this.sexz += dz * s2; this.seyy += dy * dy * s1; this.seyz += dy * dz * s1; this.sezz += dz * dz * s1;
  }
}

const moments = new MomentRows();

export function accumulateMoments(
  k: Float64Array, off: number, box: Box, residual: Float32Array, acc: Float64Array, a: number,
): void {
  const m = moments;
  m.residual = residual;
  m.sr = m.se = m.sex = m.sey = m.sez = m.sexx = m.sexy = m.sexz = m.seyy = m.seyz = m.sezz = 0;
  visitRows(k, off, box, m);
  acc[a + M_R]! += m.sr; acc[a + M_E]! += m.se; acc[a + M_EX]! += m.sex; acc[a + M_EY]! += m.sey; acc[a + M_EZ]! += m.sez;
  acc[a + M_EXX]! += m.sexx; acc[a + M_EXY]! += m.sexy; acc[a + M_EXZ]! += m.sexz;
  acc[a + M_EYY]! += m.seyy; acc[a + M_EYZ]! += m.seyz; acc[a + M_EZZ]! += m.sezz;
}

/** The moment layout as WGSL `const` declarations, for the WebGPU moments pass (shaders/moments.wgsl). */
export function wgslMomentConstants(): string {
  const entries: Record<string, number> = { MOMENT_STRIDE, M_R, M_E, M_EX, M_EY, M_EZ, M_EXX, M_EXY, M_EXZ, M_EYY, M_EYZ, M_EZZ };
  return Object.entries(entries).map(([name, value]) => `const ${name}: u32 = ${value}u;`).join("\n") + "\n";
}
