/** The CPU sampler: adds one prepared kernel into a box-sized float32 buffer (see rows.ts). */
import type { Box } from "../core/background.js";
import { K_AMP, K_FLOOR } from "../core/constants.js";
import { ROW_E, ROW_RATIO, ROW_STEP, visitRows, type RowVisitor } from "./rows.js";

/** Adds amp·(e − f0) along each row as the row is solved. */
class SplatRows implements RowVisitor {
  out: Float32Array = new Float32Array(0);
  amp = 0;
  floor = 0;

  row(o: number, len: number, skip: number, seg: Float64Array): void {
    const out = this.out, floor = this.floor, step = seg[ROW_STEP]!;
    let g = this.amp * seg[ROW_E]!, ratio = seg[ROW_RATIO]!;
    for (let s = skip; s > 0; s--) { g *= ratio; ratio *= step; } // from the anchor
    for (const end = o + len; o < end; o++) {
      out[o]! += g - floor;
      g *= ratio;
      ratio *= step;
    }
  }
}

const splat = new SplatRows();

export function splatKernel(k: Float64Array, off: number, box: Box, out: Float32Array): void {
  splat.out = out;
  splat.amp = k[off + K_AMP]!;
  splat.floor = k[off + K_FLOOR]!;
  visitRows(k, off, box, splat);
}
