/**
 * The layer's default look: a grayscale shader whose contrast window is the header's intensity
 * mapping, i.e. stored values of field 0 (background floor) to field 1 (a unit-amplitude
 * Gaussian's peak), clamped to the data type's range.
 */
import { DTYPES } from "../core/dtype.js";
import type { VmgInfo } from "./base.js";

export function contrastWindow(info: Pick<VmgInfo, "dtype" | "valueOffset" | "valueScale">): [number, number] {
  const { min, max, integer } = DTYPES[info.dtype];
  const clamp = (v: number) => Math.min(max, Math.max(min, integer ? Math.round(v) : v));
  const a = clamp(info.valueOffset), b = clamp(info.valueOffset + info.valueScale);
  return a <= b ? [a, b] : [b, a];
}

export function defaultShader(info: Pick<VmgInfo, "dtype" | "valueOffset" | "valueScale">): string {
  const [lo, hi] = contrastWindow(info);
  return `#uicontrol invlerp normalized(range=[${lo}, ${hi}])\nvoid main() {\n  emitGrayscale(normalized());\n}\n`;
}
