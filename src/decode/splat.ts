/** The CPU sampler: adds one prepared kernel into a box-sized float32 buffer (see rows.ts). */
import type { Box } from "../core/background.js";
import { K_AMP, K_FLOOR } from "../core/constants.js";
import { R_E, R_LEN, R_OUT, R_RATIO, R_SKIP, ROW_STRIDE, RowPlan } from "./rows.js";

const plan = new RowPlan();

export function splatKernel(k: Float64Array, off: number, box: Box, out: Float32Array): void {
  const n = plan.plan(k, off, box);
  const amp = k[off + K_AMP]!, floor = k[off + K_FLOOR]!, step = plan.step;
  const rows = plan.rows;
  for (let r = 0; r < n * ROW_STRIDE; r += ROW_STRIDE) {
    let o = rows[r + R_OUT]!;
    const end = o + rows[r + R_LEN]!;
    let g = amp * rows[r + R_E]!;
    let ratio = rows[r + R_RATIO]!;
    for (let s = rows[r + R_SKIP]!; s > 0; s--) { g *= ratio; ratio *= step; } // from the anchor
    for (; o < end; o++) {
      out[o]! += g - floor;
      g *= ratio;
      ratio *= step;
    }
  }
}
