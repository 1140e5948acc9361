/**
 * The CPU sampler: adds one prepared kernel into a box-sized float32 buffer.
 *
 * It walks the ellipsoidal support row by row (z, then y, then x ranges solved exactly from the
 * quadratic form) and evaluates exp(-q/2) along each x-row by forward differencing: q is quadratic
 * in x, so g(x+1) = g(x)·ρ(x) and ρ(x+1) = ρ(x)·e^(-Axx). Two exp() per row, two multiplies per
 * voxel, in float64. Rows always start at the support's own edge (never at the box edge), so a
 * voxel gets bit-identical values whichever chunk it is decoded in.
 */
import type { Box } from "../core/background.js";
import {
  K_AMP, K_AXX, K_AXY, K_AXZ, K_AYY, K_AYZ, K_AZZ, K_CX, K_CY, K_CYY, K_CYZ, K_CZ, K_CZZ, K_FLOOR, K_R2,
} from "../core/constants.js";

export function splatKernel(k: Float64Array, off: number, box: Box, out: Float32Array): void {
  const cx = k[off + K_CX]!, cy = k[off + K_CY]!, cz = k[off + K_CZ]!;
  const amp = k[off + K_AMP]!, floor = k[off + K_FLOOR]!, r2 = k[off + K_R2]!;
  const axx = k[off + K_AXX]!, axy = k[off + K_AXY]!, axz = k[off + K_AXZ]!;
  const ayy = k[off + K_AYY]!, ayz = k[off + K_AYZ]!, azz = k[off + K_AZZ]!;
  const cyy = k[off + K_CYY]!, czz = k[off + K_CZZ]!, cyz = k[off + K_CYZ]!;
  const w = box.x1 - box.x0, h = box.y1 - box.y0;
  const zr = Math.sqrt(r2 * czz);
  const zlo = Math.max(box.z0, Math.ceil(cz - zr)), zhi = Math.min(box.z1 - 1, Math.floor(cz + zr));
  const detYZ = cyy * czz - cyz * cyz;
  const step = Math.exp(-axx);
  for (let z = zlo; z <= zhi; z++) {
    const dz = z - cz;
    const t = czz * r2 - dz * dz;
    if (t < 0) continue;
    const ym = cy + (cyz * dz) / czz;
    const yh = Math.sqrt(Math.max(0, detYZ * t)) / czz;
    const ylo = Math.max(box.y0, Math.ceil(ym - yh)), yhi = Math.min(box.y1 - 1, Math.floor(ym + yh));
    for (let y = ylo; y <= yhi; y++) {
      const dy = y - cy;
      const b = axy * dy + axz * dz;
      const c = ayy * dy * dy + 2 * ayz * dy * dz + azz * dz * dz;
      const qmin = c - (b * b) / axx;
      if (qmin > r2) continue;
      const xm = cx - b / axx;
      const xh = Math.sqrt((r2 - qmin) / axx);
      const xs = Math.ceil(xm - xh); // the support's own row start
      const xlo = Math.max(box.x0, xs), xhi = Math.min(box.x1 - 1, Math.floor(xm + xh));
      if (xlo > xhi) continue;
      const dx = xs - cx;
      let g = amp * Math.exp(-0.5 * (axx * dx * dx + 2 * b * dx + c));
      let ratio = Math.exp(-0.5 * (axx * (2 * dx + 1) + 2 * b));
      for (let x = xs; x < xlo; x++) { g *= ratio; ratio *= step; }
      let o = ((z - box.z0) * h + (y - box.y0)) * w + (xlo - box.x0);
      for (let x = xlo; x <= xhi; x++) {
        out[o++]! += g - floor;
        g *= ratio;
        ratio *= step;
      }
    }
  }
}
