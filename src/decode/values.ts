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
  for (let i = 0; i < n; i++) {
    const v = offset + scale * field[i]!;
    out[outOffset + i] = v <= min ? min : v >= max ? max : Math.round(v);
  }
}
