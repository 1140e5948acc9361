/**
 * The support of a prepared kernel, clipped to a box, as x-rows: the one piece of geometry that the
 * decoder's splat and the fitter's gradient pass share, so both visit exactly the same voxels.
 * Each row segment is handed to a RowVisitor as it is solved (no row buffer written and read
 * back: with rows of ~10 voxels that round trip cost as much as a sixth of a splat).
 *
 * Rows are solved exactly from the quadratic form (z range, then the y range of the z-slice
 * ellipse, then the x range of each row). Along a row q is quadratic in x, so exp(-q/2) follows by
 * forward differencing: e(x+1) = e(x)·ρ(x), ρ(x+1) = ρ(x)·exp(-Axx).
 *
 * The recurrence restarts in closed form at box-independent anchors: the row's first voxel in the
 * support, xs, and every ANCHOR_SPACING voxels after it. A row is planned as one segment per
 * anchor interval it meets inside the box; a segment that enters the box between two anchors
 * starts at the anchor before the box edge and skips fewer than ANCHOR_SPACING voxels. So a voxel
 * gets bit-identical values whichever box it is decoded in, no work is spent on the part of a
 * support outside the box however wide the support is, and rows shorter than ANCHOR_SPACING (those
 * of typical Gaussians) are never split.
 *
 * The ratio at a row's anchor needs no exp either: ρ is linear in y and x in the exponent, so
 * ρ(xs', y+1) = ρ(xs, y)·exp(-Axy)·exp(-Axx)^(xs'−xs), the power from a per-kernel table. It is
 * carried down each z-slice from box-independent restart rows (the slice's first support row and
 * every ANCHOR_SPACING rows after it; a box entering mid-slice starts at the restart row before
 * its edge), so it too is the same in every box; anchors that move further than MAX_ANCHOR_MOVE,
 * and kernels too narrow for the table to stay in floating-point range, restart in closed form.
 */
import type { Box } from "../core/background.js";
import {
  K_AXX, K_AXY, K_AXZ, K_AYY, K_AYZ, K_AZZ, K_CX, K_CY, K_CYY, K_CYZ, K_CZ, K_CZZ, K_R2,
} from "../core/constants.js";
import { ANCHOR_BITS, EXP_STEPS, EXP_TABLE_LENGTH, MAX_ANCHOR_MOVE, MAX_CARRY_CURVATURE } from "./kernel-layout.js";

/**
 * Anchors every 2^6 voxels: a segment skips at most 63 voxels, no more than a 64³ chunk's row
 * writes, and only rows over 64 voxels long pay a restart (two exp) per 64 voxels. On
 * bench:decode's 64³ chunks no row is split (anchors at multiples of 64 of absolute x instead
 * split 7.1% of them at scale 0).
 */
export { ANCHOR_BITS };
export const ANCHOR_SPACING = 2 ** ANCHOR_BITS;
const ANCHOR_MASK = ANCHOR_SPACING - 1;

const movePower = new Float64Array(2 * MAX_ANCHOR_MOVE + 1);

/**
 * What walks a row segment: voxels o, o+1, …, o+len−1 of the box buffer (x fastest), where the
 * segment's anchor lies `skip` voxels before o; `seg` holds its doubles (ROW_*): e = exp(-q/2) and
 * ratio = e(x+1)/e(x) at the anchor, step = exp(-Axx) the ratio's ratio; dx = x − cx at voxel o,
 * dy and dz of the row. The doubles travel in one array, not as arguments: a call that is not
 * inlined (visitRows serves several visitors) boxes each double argument, six heap numbers per
 * row (a fit's largest source of garbage, and of its GC on V8's shared helper threads).
 */
export interface RowVisitor {
  row(o: number, len: number, skip: number, seg: Float64Array): void;
}

export const ROW_E = 0, ROW_RATIO = 1, ROW_STEP = 2, ROW_DX = 3, ROW_DY = 4, ROW_DZ = 5;
/** The segment handed to every visitor (visitRows does not nest: a visitor never calls it). */
const segment = new Float64Array(6);

/** exp(-q/2) at an anchor tabulated at steps of 1/EXP_STEPS in q/2, from q/2 = 0 to past r²/2 for the largest radius (the WebAssembly kernel gets a copy). */
export const EXP_TABLE = (() => {
  const t = new Float64Array(EXP_TABLE_LENGTH);
  for (let i = 0; i < t.length; i++) t[i] = Math.exp(-i / EXP_STEPS);
  return t;
})();

/**
 * exp(-q/2) for 0 ≤ q ≤ r² (q at an anchor, which lies in the support; 0 past the table): a table value times a
 * degree-4 polynomial of the remainder (under 1/EXP_STEPS), relative error below 3e-10 — inlined,
 * where Math.exp is a call that spills every live register.
 */
export function kernelExp(q: number): number {
  const t = Math.max(0, 0.5 * q * EXP_STEPS);
  if (t >= EXP_TABLE.length - 1) return 0; // past the table (q > 66, beyond any support the format allows): exp(-33) < 5e-15, not a growing polynomial
  const i = Math.floor(t);
  const f = (t - i) * (1 / EXP_STEPS);
  return EXP_TABLE[i]! * (1 - f * (1 - f * (0.5 - f * (1 / 6 - f * (1 / 24)))));
}

/** Solve the rows of kernel `off` inside `box` and hand each segment to `visitor`. */
export function visitRows(k: Float64Array, off: number, box: Box, visitor: RowVisitor): void {
  const cx = k[off + K_CX]!, cy = k[off + K_CY]!, cz = k[off + K_CZ]!, r2 = k[off + K_R2]!;
  const axx = k[off + K_AXX]!, axy = k[off + K_AXY]!, axz = k[off + K_AXZ]!;
  const ayy = k[off + K_AYY]!, ayz = k[off + K_AYZ]!, azz = k[off + K_AZZ]!;
  const cyy = k[off + K_CYY]!, czz = k[off + K_CZZ]!, cyz = k[off + K_CYZ]!;
  const w = box.x1 - box.x0, h = box.y1 - box.y0;
  const zr = Math.sqrt(r2 * czz);
  const zlo = Math.max(box.z0, Math.ceil(cz - zr)), zhi = Math.min(box.z1 - 1, Math.floor(cz + zr));
  const detYZ = cyy * czz - cyz * cyz;
  const step = Math.exp(-axx);
  const iaxx = 1 / axx, iczz = 1 / czz;
  const carry = axx <= MAX_CARRY_CURVATURE && Math.abs(axy) <= MAX_CARRY_CURVATURE;
  const cross = Math.exp(-axy);
  const seg = segment;
  seg[ROW_STEP] = step;
  if (carry) {
    movePower[MAX_ANCHOR_MOVE] = 1;
    for (let m = 1; m <= MAX_ANCHOR_MOVE; m++) {
      movePower[MAX_ANCHOR_MOVE + m] = movePower[MAX_ANCHOR_MOVE + m - 1]! * step;
      movePower[MAX_ANCHOR_MOVE - m] = movePower[MAX_ANCHOR_MOVE - m + 1]! / step;
    }
  }
  for (let z = zlo; z <= zhi; z++) {
    const dz = z - cz;
    const bz = axz * dz, cyz2 = 2 * ayz * dz, czz2 = azz * dz * dz; // the slice's terms of b and c
    const t = czz * r2 - dz * dz;
    if (t < 0) continue;
    const ym = cy + cyz * dz * iczz;
    const yh = Math.sqrt(Math.max(0, detYZ * t)) * iczz;
    const ys = Math.ceil(ym - yh);
    const ylo = Math.max(box.y0, ys), yhi = Math.min(box.y1 - 1, Math.floor(ym + yh));
    if (!(ylo <= yhi)) continue;
    // the ratio at anchor ax of row y, carried from the restart row at or before ylo
    let ratio = NaN, ax = 0;
    for (let y = carry ? ylo - ((ylo - ys) & ANCHOR_MASK) : ylo; y <= yhi; y++, ratio *= cross) {
      const dy = y - cy;
      // q(x) = axx·x'² + 2b·x' + c with x' = x − cx, = axx·(x − xm)² + qmin
      const b = axy * dy + bz;
      const c = (ayy * dy + cyz2) * dy + czz2;
      const bi = b * iaxx;
      const qmin = c - b * bi;
      if (qmin > r2) continue;
      const xm = cx - bi;
      const xh = Math.sqrt((r2 - qmin) * iaxx);
      const xs = Math.ceil(xm - xh);
      const move = xs - ax;
      if (carry && ((y - ys) & ANCHOR_MASK) !== 0 && ratio === ratio && move >= -MAX_ANCHOR_MOVE && move <= MAX_ANCHOR_MOVE) {
        ratio *= movePower[move + MAX_ANCHOR_MOVE]!;
      } else {
        ratio = Math.exp(-0.5 * (axx * (2 * (xs - cx) + 1) + 2 * b));
      }
      ax = xs;
      if (y < ylo) continue; // a row above the box: only the ratio is carried
      const xlo = Math.max(box.x0, xs), xhi = Math.min(box.x1 - 1, Math.floor(xm + xh));
      if (!(xlo <= xhi)) continue; // also skips rows of a non-finite (degenerate) kernel
      const o0 = ((z - box.z0) * h + (y - box.y0)) * w - box.x0;
      seg[ROW_DY] = dy; seg[ROW_DZ] = dz;
      // anchors xs + m·ANCHOR_SPACING; xlo − xs is an integer below 2^53, whose int32 image
      // (taken mod 2^32) has the same residue mod ANCHOR_SPACING
      for (let a = xlo - ((xlo - xs) & ANCHOR_MASK); a <= xhi; a += ANCHOR_SPACING) {
        const first = Math.max(a, xlo), last = Math.min(xhi, a + ANCHOR_MASK);
        const dx = a - cx, t = a - xm;
        seg[ROW_E] = kernelExp(qmin + axx * t * t);
        seg[ROW_RATIO] = a === xs ? ratio : Math.exp(-0.5 * (axx * (2 * dx + 1) + 2 * b));
        seg[ROW_DX] = first - cx;
        visitor.row(o0 + first, last - first + 1, first - a, seg);
      }
    }
  }
}
