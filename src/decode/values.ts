/** Field (background + Gaussians) → stored values of the source dtype: offset + scale·field, rounded, clamped. */
import { DTYPES, type DType, type VoxelArray } from "../core/dtype.js";

export function fieldToValues(
  field: Float32Array, dtype: DType, offset: number, scale: number, out: VoxelArray, outOffset = 0,
): void {
  const n = field.length;
  const { min, max, integer } = DTYPES[dtype];
  if (!integer) {
    for (let i = 0; i < n; i++) out[outOffset + i] = offset + scale * field[i]!;
    return;
  }
  // Round half up = floor(v + 0.5). For unsigned types the clamped value is ≥ 0, where the typed
  // array's truncating store is that floor: Math.min/max compile to branch-free code, 2× faster
  // than a Math.round with comparisons on this hot path.
  const o = offset + 0.5;
  if (min === 0) {
    for (let i = 0; i < n; i++) out[outOffset + i] = Math.min(Math.max(o + scale * field[i]!, 0), max);
  } else {
    for (let i = 0; i < n; i++) out[outOffset + i] = Math.floor(Math.min(Math.max(o + scale * field[i]!, min), max));
  }
}
