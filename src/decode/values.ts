/** Field (background + Gaussians) → stored values of the source dtype: offset + scale·field, rounded, clamped. */
import { BackgroundRows, type BackgroundModel, type Box } from "../core/background.js";
import { DTYPES, type DType, type VoxelArray } from "../core/dtype.js";
import type { Factors, Shape3 } from "../core/gaussian.js";

/**
 * Round half up = floor(v + 0.5). For unsigned types the clamped value is ≥ 0, where the typed
 * array's truncating store is that floor.
 */
export function fieldToValues(
  field: Float32Array, dtype: DType, offset: number, scale: number, out: VoxelArray, outOffset = 0,
): void {
  const n = field.length;
  const { min, max, integer } = DTYPES[dtype];
  if (!integer) {
    for (let i = 0; i < n; i++) out[outOffset + i] = offset + scale * field[i]!;
    return;
  }
  const o = offset + 0.5;
  if (min === 0) {
    for (let i = 0; i < n; i++) out[outOffset + i] = Math.min(Math.max(o + scale * field[i]!, 0), max);
  } else {
    for (let i = 0; i < n; i++) out[outOffset + i] = Math.floor(Math.min(Math.max(o + scale * field[i]!, min), max));
  }
}

/** The background of a box, to be added to a field of that box as it is converted. */
export interface FieldBackground {
  model: BackgroundModel;
  shape: Shape3;
  box: Box;
  factors: Factors;
}

/**
 * Σ Gaussians (`sum`, box-sized) + the background → stored values, in one sweep: each voxel's
 * field value is rounded to float32 exactly as `addBackground` rounds it, so the values equal
 * fieldToValues of the field that decodeField returns.
 */
export function sumToValues(
  sum: Float32Array, background: FieldBackground, dtype: DType, offset: number, scale: number, out: VoxelArray,
): void {
  const { model, shape, box, factors } = background;
  const { min, max, integer } = DTYPES[dtype];
  const rows = new BackgroundRows(model, shape, box, factors);
  const w = box.x1 - box.x0, h = box.y1 - box.y0, d = box.z1 - box.z0;
  const o = offset + 0.5, fr = Math.fround;
  // each value: the field rounded to float32 as addBackground rounds it, then converted (for
  // unsigned types with comparisons, which V8 compiles tighter than Math.min/max here)
  for (let z = 0, i0 = 0; z < d; z++) for (let y = 0; y < h; y++, i0 += w) {
    if (rows.linear) {
      rows.lines(z, y);
      const runStart = rows.runStart, runA = rows.runA, runB = rows.runB;
      for (let r = 0; r + 1 < runStart.length; r++) {
        const A = runA[r]!, B = runB[r]!;
        let X = box.x0 + runStart[r]!;
        const end = i0 + runStart[r + 1]!;
        if (!integer) for (let i = i0 + runStart[r]!; i < end; i++, X++) out[i] = offset + scale * fr(sum[i]! + (A + B * X));
        else if (min === 0) {
          for (let i = i0 + runStart[r]!; i < end; i++, X++) { const v = o + scale * fr(sum[i]! + (A + B * X)); out[i] = v > max ? max : v > 0 ? v : 0; }
        } else for (let i = i0 + runStart[r]!; i < end; i++, X++) out[i] = Math.floor(Math.min(Math.max(o + scale * fr(sum[i]! + (A + B * X)), min), max));
      }
      continue;
    }
    const bg = rows.row(z, y), a = -i0, end = i0 + w;
    if (!integer) for (let i = i0; i < end; i++) out[i] = offset + scale * fr(sum[i]! + bg[a + i]!);
    else if (min === 0) for (let i = i0; i < end; i++) { const v = o + scale * fr(sum[i]! + bg[a + i]!); out[i] = v > max ? max : v > 0 ? v : 0; }
    else for (let i = i0; i < end; i++) out[i] = Math.floor(Math.min(Math.max(o + scale * fr(sum[i]! + bg[a + i]!), min), max));
  }
}
