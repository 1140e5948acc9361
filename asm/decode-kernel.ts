/**
 * The decoder's hot loops in WebAssembly (AssemblyScript, SIMD128): the splat of prepared kernels
 * into a float32 field (row planning as in src/decode/rows.ts, the row walk four voxels a step in
 * f64x2 lanes) and the sweep that adds the background and converts to the stored dtype. The host
 * (src/decode/wasm-kernel.ts) lays out the memory as src/decode/kernel-layout.ts describes.
 *
 * Built by scripts/build-wasm.ts; not type-checked by tsc (AssemblyScript types: f64, i32, v128).
 */
import {
  ANCHOR_BITS, MAX_ANCHOR_MOVE, MAX_CARRY_CURVATURE, EXP_STEPS, EXP_TABLE_LENGTH, TABLES_PTR, MOVE_POWER_PTR,
  KREC_CX, KREC_CY, KREC_CZ, KREC_AMP, KREC_AXX, KREC_AXY, KREC_AXZ, KREC_AYY, KREC_AYZ, KREC_AZZ,
  KREC_CYY, KREC_CZZ, KREC_CYZ, KREC_R2, KREC_FLOOR, KREC_STRIDE,
  OUT_U8, OUT_U16, OUT_U32, OUT_I8, OUT_I16, OUT_I32, OUT_F32,
} from "../src/decode/kernel-layout";

const ANCHOR_SPACING: f64 = <f64>(1 << ANCHOR_BITS);
const ANCHOR_MASK: i32 = (1 << ANCHOR_BITS) - 1;

@inline function kf(k: usize, i: i32): f64 {
  return load<f64>(k + (<usize>i << 3));
}

/** The residue of an integer-valued double modulo the anchor spacing, as JavaScript's `(v) & mask` takes it. */
@inline function anchorResidue(v: f64): i32 {
  return <i32><i64>v & ANCHOR_MASK;
}

/** exp(-q/2) for q at an anchor: the table value times a degree-4 polynomial (rows.ts kernelExp). */
@inline function kernelExp(q: f64): f64 {
  const t = max(0.0, 0.5 * q * <f64>EXP_STEPS);
  if (!(t < <f64>(EXP_TABLE_LENGTH - 1))) return 0;
  const i = <i32>t;
  const f = (t - <f64>i) * (1.0 / <f64>EXP_STEPS);
  return load<f64>(TABLES_PTR + (<usize>i << 3)) * (1 - f * (1 - f * (0.5 - f * (1.0 / 6 - f * (1.0 / 24)))));
}

/**
 * Adds amp·(e − floor) along one row segment: voxels o … o+len−1 of the field (byte address of
 * voxel 0 in `field`), whose anchor lies `skip` voxels before o. Lanes are aligned to the anchor
 * (lane m holds anchor + m, m = 4j … 4j+3 in step j), so a voxel's value does not depend on where
 * the segment was entered; lanes outside the segment add +0 (the field is padded for them).
 */
@inline function walk(field: usize, o: i32, len: i32, skip: i32, e: f64, ratio: f64, step: f64, step16: f64, amp: f64, floor: f64): void {
  // values of lanes 0..3 and their 4-step factors, by the scalar recurrence from the anchor
  const g0 = amp * e;
  const r1 = ratio * step, r2 = r1 * step, r3 = r2 * step, r4 = r3 * step, r5 = r4 * step, r6 = r5 * step;
  const g1 = g0 * ratio, g2 = g1 * r1, g3 = g2 * r2;
  const p12 = r1 * r2, p34 = r3 * r4;
  let glo = f64x2(g0, g1), ghi = f64x2(g2, g3);
  let flo = f64x2(ratio * p12 * r3, p12 * p34), fhi = f64x2(r2 * p34 * r5, p34 * r5 * r6);
  const s16 = f64x2.splat(step16), fl = f64x2.splat(floor);
  const jb = skip >> 2, je = (skip + len - 1) >> 2;
  for (let j = 0; j < jb; j++) { glo = f64x2.mul(glo, flo); ghi = f64x2.mul(ghi, fhi); flo = f64x2.mul(flo, s16); fhi = f64x2.mul(fhi, s16); }
  const lo = f64x2.splat(<f64>skip), hi = f64x2.splat(<f64>(skip + len));
  let mlo = f64x2(<f64>(jb << 2), <f64>((jb << 2) + 1)), mhi = f64x2(<f64>((jb << 2) + 2), <f64>((jb << 2) + 3));
  const four = f64x2.splat(4);
  let p = field + (<usize>(o - skip + (jb << 2)) << 2);
  for (let j = jb; j <= je; j++, p += 16) {
    const acc = v128.load(p);
    const alo = f64x2.promote_low_f32x4(acc), ahi = f64x2.promote_low_f32x4(v128.shuffle<i32>(acc, acc, 2, 3, 0, 1));
    const klo = v128.and(f64x2.ge(mlo, lo), f64x2.lt(mlo, hi)), khi = v128.and(f64x2.ge(mhi, lo), f64x2.lt(mhi, hi));
    const slo = f64x2.add(alo, v128.and(f64x2.sub(glo, fl), klo));
    const shi = f64x2.add(ahi, v128.and(f64x2.sub(ghi, fl), khi));
    v128.store(p, v128.shuffle<i32>(f32x4.demote_f64x2_zero(slo), f32x4.demote_f64x2_zero(shi), 0, 1, 4, 5));
    glo = f64x2.mul(glo, flo); ghi = f64x2.mul(ghi, fhi); flo = f64x2.mul(flo, s16); fhi = f64x2.mul(fhi, s16);
    mlo = f64x2.add(mlo, four); mhi = f64x2.add(mhi, four);
  }
}

/** Solve the rows of the kernel record at `k` inside the box and walk each segment (rows.ts visitRows). */
function splatOne(k: usize, field: usize, bx0: f64, bx1: f64, by0: f64, by1: f64, bz0: f64, bz1: f64): void {
  const cx = kf(k, KREC_CX), cy = kf(k, KREC_CY), cz = kf(k, KREC_CZ), r2 = kf(k, KREC_R2);
  const axx = kf(k, KREC_AXX), axy = kf(k, KREC_AXY), axz = kf(k, KREC_AXZ);
  const ayy = kf(k, KREC_AYY), ayz = kf(k, KREC_AYZ), azz = kf(k, KREC_AZZ);
  const cyy = kf(k, KREC_CYY), czz = kf(k, KREC_CZZ), cyz = kf(k, KREC_CYZ);
  const amp = kf(k, KREC_AMP), floor = kf(k, KREC_FLOOR);
  const w = bx1 - bx0, h = by1 - by0;
  const zr = Math.sqrt(r2 * czz);
  const zlo = max(bz0, Math.ceil(cz - zr)), zhi = min(bz1 - 1, Math.floor(cz + zr));
  const detYZ = cyy * czz - cyz * cyz;
  const step = Math.exp(-axx);
  const s2 = step * step, s4 = s2 * s2, s8 = s4 * s4, step16 = s8 * s8;
  const iaxx = 1 / axx, iczz = 1 / czz;
  const carry = axx <= <f64>MAX_CARRY_CURVATURE && Math.abs(axy) <= <f64>MAX_CARRY_CURVATURE;
  const cross = Math.exp(-axy);
  if (carry) {
    store<f64>(MOVE_POWER_PTR + (<usize>MAX_ANCHOR_MOVE << 3), 1.0);
    for (let m = 1; m <= MAX_ANCHOR_MOVE; m++) {
      store<f64>(MOVE_POWER_PTR + (<usize>(MAX_ANCHOR_MOVE + m) << 3), load<f64>(MOVE_POWER_PTR + (<usize>(MAX_ANCHOR_MOVE + m - 1) << 3)) * step);
      store<f64>(MOVE_POWER_PTR + (<usize>(MAX_ANCHOR_MOVE - m) << 3), load<f64>(MOVE_POWER_PTR + (<usize>(MAX_ANCHOR_MOVE - m + 1) << 3)) / step);
    }
  }
  for (let z = zlo; z <= zhi; z++) {
    const dz = z - cz;
    const bz = axz * dz, cyz2 = 2 * ayz * dz, czz2 = azz * dz * dz;
    const t = czz * r2 - dz * dz;
    if (t < 0) continue;
    const ym = cy + cyz * dz * iczz;
    const yh = Math.sqrt(max(0.0, detYZ * t)) * iczz;
    const ys = Math.ceil(ym - yh);
    const ylo = max(by0, ys), yhi = min(by1 - 1, Math.floor(ym + yh));
    if (!(ylo <= yhi)) continue;
    let ratio: f64 = NaN, ax: f64 = 0;
    for (let y = carry ? ylo - <f64>anchorResidue(ylo - ys) : ylo; y <= yhi; y++, ratio *= cross) {
      const dy = y - cy;
      const b = axy * dy + bz;
      const c = (ayy * dy + cyz2) * dy + czz2;
      const bi = b * iaxx;
      const qmin = c - b * bi;
      if (qmin > r2) continue;
      const xm = cx - bi;
      const xh = Math.sqrt((r2 - qmin) * iaxx);
      const xs = Math.ceil(xm - xh);
      const move = xs - ax;
      if (carry && anchorResidue(y - ys) != 0 && ratio == ratio && move >= -<f64>MAX_ANCHOR_MOVE && move <= <f64>MAX_ANCHOR_MOVE) {
        ratio *= load<f64>(MOVE_POWER_PTR + (<usize>(<i32>move + MAX_ANCHOR_MOVE) << 3));
      } else {
        ratio = Math.exp(-0.5 * (axx * (2 * (xs - cx) + 1) + 2 * b));
      }
      ax = xs;
      if (y < ylo) continue;
      const xlo = max(bx0, xs), xhi = min(bx1 - 1, Math.floor(xm + xh));
      if (!(xlo <= xhi)) continue;
      const o0 = ((z - bz0) * h + (y - by0)) * w - bx0; // field index of column 0 of the row
      for (let a = xlo - <f64>anchorResidue(xlo - xs); a <= xhi; a += ANCHOR_SPACING) {
        const first = max(a, xlo), last = min(xhi, a + <f64>ANCHOR_MASK);
        const ta = a - xm;
        const r = a == xs ? ratio : Math.exp(-0.5 * (axx * (2 * (a - cx) + 1) + 2 * b));
        walk(field, <i32>(o0 + first), <i32>(last - first) + 1, <i32>(first - a), kernelExp(qmin + axx * ta * ta), r, step, step16, amp, floor);
      }
    }
  }
}

/** Σ of `count` kernel records at `kernels` over the box (half-open, scale-grid voxels), added into the float32 field at `field`. */
export function splat(kernels: usize, count: i32, field: usize, bx0: f64, bx1: f64, by0: f64, by1: f64, bz0: f64, bz1: f64): void {
  for (let i = 0; i < count; i++) splatOne(kernels + (<usize>(i * KREC_STRIDE) << 3), field, bx0, bx1, by0, by1, bz0, bz1);
}

/** One field value (f32 sum + background, rounded to f32 as addBackground rounds it) → a stored value (values.ts). */
@inline function storeValue<T>(out: usize, i: i32, v: f64, offset: f64, o: f64, scale: f64): void {
  const fr = <f64><f32>v;
  if (!isInteger<T>()) {
    store<f32>(out + (<usize>i << 2), <f32>(offset + scale * fr));
  } else if (!isSigned<T>()) {
    const max = <f64><T>-1;
    const t = o + scale * fr;
    store<T>(out + (<usize>i << alignof<T>()), <T><u32>(t > max ? max : t > 0 ? t : 0));
  } else {
    const lo = -<f64>(<i64>1 << <i64>(sizeof<T>() * 8 - 1)), hi = -lo - 1;
    store<T>(out + (<usize>i << alignof<T>()), <T><i32>Math.floor(min(max(o + scale * fr, lo), hi)));
  }
}

/**
 * The sweep for one output type: row by row, the grid (or constant) background as runs of
 * A + B·X at absolute column X (core/background.ts BackgroundRows.lines), added to the sum.
 */
function sweep<T>(
  field: usize, out: usize, w: i32, h: i32, d: i32, x0: f64, offset: f64, scale: f64,
  params: usize, gx: i32, gy: i32, gz: i32, zNode: usize, zWeight: usize, yNode: usize, yWeight: usize,
  nRuns: i32, runStart: usize, runCell: usize, runNode: usize, slope: f64, node: usize,
): void {
  const o = offset + 0.5;
  let i0 = 0;
  for (let z = 0; z < d; z++) for (let y = 0; y < h; y++, i0 += w) {
    const iz = load<i32>(zNode + (<usize>z << 2)), tz = load<f64>(zWeight + (<usize>z << 3));
    const iz1 = min(iz + 1, gz - 1);
    const iy = load<i32>(yNode + (<usize>y << 2)), ty = load<f64>(yWeight + (<usize>y << 3));
    const iy1 = min(iy + 1, gy - 1);
    const pa = params + (<usize>((iz * gy + iy) * gx) << 3), pb = params + (<usize>((iz * gy + iy1) * gx) << 3);
    const pc = params + (<usize>((iz1 * gy + iy) * gx) << 3), pe = params + (<usize>((iz1 * gy + iy1) * gx) << 3);
    for (let k = 0; k < gx; k++) {
      const q = <usize>k << 3;
      store<f64>(node + q, (1 - tz) * ((1 - ty) * load<f64>(pa + q) + ty * load<f64>(pb + q)) + tz * ((1 - ty) * load<f64>(pc + q) + ty * load<f64>(pe + q)));
    }
    for (let r = 0; r < nRuns; r++) {
      const k = load<i32>(runCell + (<usize>r << 2));
      let A: f64, B: f64;
      if (k >= 0) {
        const nk = load<f64>(node + (<usize>k << 3)), dd = load<f64>(node + (<usize>(k + 1) << 3)) - nk;
        B = slope * dd; A = nk + (0.5 * slope - <f64>k) * dd;
      } else { A = load<f64>(node + (<usize>load<i32>(runNode + (<usize>r << 2)) << 3)); B = 0; }
      const s = load<i32>(runStart + (<usize>r << 2)), e = load<i32>(runStart + (<usize>(r + 1) << 2));
      let X = x0 + <f64>s;
      for (let i = i0 + s, end = i0 + e; i < end; i++, X++) {
        storeValue<T>(out, i, <f64>load<f32>(field + (<usize>i << 2)) + (A + B * X), offset, o, scale);
      }
    }
  }
}

/** Field sum + grid/constant background → stored values of output kind `kind` (OUT_*), over a w×h×d box. */
export function convert(
  kind: i32, field: usize, out: usize, w: i32, h: i32, d: i32, x0: f64, offset: f64, scale: f64,
  params: usize, gx: i32, gy: i32, gz: i32, zNode: usize, zWeight: usize, yNode: usize, yWeight: usize,
  nRuns: i32, runStart: usize, runCell: usize, runNode: usize, slope: f64, node: usize,
): void {
  if (kind == OUT_U8) sweep<u8>(field, out, w, h, d, x0, offset, scale, params, gx, gy, gz, zNode, zWeight, yNode, yWeight, nRuns, runStart, runCell, runNode, slope, node);
  else if (kind == OUT_U16) sweep<u16>(field, out, w, h, d, x0, offset, scale, params, gx, gy, gz, zNode, zWeight, yNode, yWeight, nRuns, runStart, runCell, runNode, slope, node);
  else if (kind == OUT_U32) sweep<u32>(field, out, w, h, d, x0, offset, scale, params, gx, gy, gz, zNode, zWeight, yNode, yWeight, nRuns, runStart, runCell, runNode, slope, node);
  else if (kind == OUT_I8) sweep<i8>(field, out, w, h, d, x0, offset, scale, params, gx, gy, gz, zNode, zWeight, yNode, yWeight, nRuns, runStart, runCell, runNode, slope, node);
  else if (kind == OUT_I16) sweep<i16>(field, out, w, h, d, x0, offset, scale, params, gx, gy, gz, zNode, zWeight, yNode, yWeight, nRuns, runStart, runCell, runNode, slope, node);
  else if (kind == OUT_I32) sweep<i32>(field, out, w, h, d, x0, offset, scale, params, gx, gy, gz, zNode, zWeight, yNode, yWeight, nRuns, runStart, runCell, runNode, slope, node);
  else if (kind == OUT_F32) sweep<f32>(field, out, w, h, d, x0, offset, scale, params, gx, gy, gz, zNode, zWeight, yNode, yWeight, nRuns, runStart, runCell, runNode, slope, node);
}
