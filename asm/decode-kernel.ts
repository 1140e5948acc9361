/**
 * The decoder's hot loops in WebAssembly (AssemblyScript, SIMD128): the splat of prepared kernels
 * into a float32 field (row planning as in src/decode/rows.ts, two rows a step in f64x2 lanes; the
 * row walk four voxels a step in float32x4 lanes, exp(−q/2) evaluated at every voxel, where the
 * JS path runs a recurrence from anchors), the fitter's recording splat and moments (the anchored
 * recurrence, its ratio at each anchor in closed form by a vector exp), and the sweep that adds the
 * background and converts to the stored dtype. The host (src/decode/wasm-kernel.ts) lays out the memory as
 * src/decode/kernel-layout.ts describes.
 *
 * Built by scripts/build-wasm.ts; not type-checked by tsc (AssemblyScript types: f64, i32, v128).
 */
import {
  ANCHOR_BITS, EXP_STEPS, EXP_TABLE_LENGTH, TABLES_PTR,
  KREC_CX, KREC_CY, KREC_CZ, KREC_AMP, KREC_AXX, KREC_AXY, KREC_AXZ, KREC_AYY, KREC_AYZ, KREC_AZZ,
  KREC_CYY, KREC_CZZ, KREC_CYZ, KREC_R2, KREC_FLOOR, KREC_STRIDE,
  OUT_U8, OUT_U16, OUT_U32, OUT_I8, OUT_I16, OUT_I32, OUT_F32, layoutSignature,
  SEG_DX, SEG_DY, SEG_DZ, SEG_P, SEG_M0, SEG_LO, SEG_HI, SEG_STEPS, SEG_BYTES, KMOMENTS,
} from "../src/decode/kernel-layout";

/** The layout this module was built for (the host checks it on install). */
export function layout(): f64 {
  return layoutSignature();
}

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
 * exp(x) of two values: 2^k·p(r), x = k·ln 2 + r, |r| ≤ ln 2 / 2, p the Taylor polynomial of
 * degree 11 (relative error below 1e-14); x clamped to ±700 (a ratio that large only ever meets
 * lanes outside the support, which the walk masks).
 */
@inline function expV(x: v128): v128 {
  const c = f64x2.min(f64x2.max(x, f64x2.splat(-700)), f64x2.splat(700));
  const k = f64x2.nearest(f64x2.mul(c, f64x2.splat(1.4426950408889634)));
  const r = f64x2.sub(f64x2.sub(c, f64x2.mul(k, f64x2.splat(6.93147180369123816490e-01))), f64x2.mul(k, f64x2.splat(1.90821492927058770002e-10)));
  let p = f64x2.splat(1.0 / 39916800);
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 3628800));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 362880));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 40320));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 5040));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 720));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 120));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 24));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 6));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.5));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1));
  const ki = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(k));
  return f64x2.mul(p, i64x2.shl(i64x2.add(ki, i64x2.splat(1023)), 52));
}

/** kernelExp of two values at once: the same operations lane by lane, so the same results. */
@inline function kernelExp2(q: v128): v128 {
  const lim = f64x2.splat(<f64>(EXP_TABLE_LENGTH - 1));
  const t = f64x2.max(f64x2.splat(0), f64x2.mul(f64x2.mul(f64x2.splat(0.5), q), f64x2.splat(<f64>EXP_STEPS)));
  const inside = f64x2.lt(t, lim); // false past the table and for NaN: 0 there
  const ti = i32x4.trunc_sat_f64x2_s_zero(f64x2.min(t, lim));
  const fi = f64x2.convert_low_i32x4_s(ti);
  const f = f64x2.mul(f64x2.sub(t, fi), f64x2.splat(1.0 / <f64>EXP_STEPS));
  const tab = f64x2(load<f64>(TABLES_PTR + (<usize>i32x4.extract_lane(ti, 0) << 3)), load<f64>(TABLES_PTR + (<usize>i32x4.extract_lane(ti, 1) << 3)));
  const one = f64x2.splat(1);
  let p = f64x2.sub(f64x2.splat(1.0 / 6), f64x2.mul(f, f64x2.splat(1.0 / 24)));
  p = f64x2.sub(f64x2.splat(0.5), f64x2.mul(f, p));
  p = f64x2.sub(one, f64x2.mul(f, p));
  p = f64x2.sub(one, f64x2.mul(f, p));
  return v128.and(f64x2.mul(tab, p), inside);
}

/** A recording walk's four lanes at the anchor: g0·ρ^m·s^(m(m−1)/2), m = 0 … 3, set up in float64 (walkRecording()). */
@inline function startLanes(g0: f64, ratio: f64, sg: v128): v128 {
  const r2 = ratio * ratio;
  const lo = f64x2.mul(f64x2.splat(g0), f64x2(1, ratio));
  const hi = f64x2.mul(f64x2.mul(f64x2.splat(g0 * r2), f64x2(1, ratio)), sg);
  return v128.shuffle<i32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** Each lane's factor over its first four voxels: ρ⁴·s^(6+4m) (walkRecording()). */
@inline function startFactors(ratio: f64, sf0: v128, sf1: v128): v128 {
  const r2 = ratio * ratio, rr = f64x2.splat(r2 * r2);
  return v128.shuffle<i32>(f32x4.demote_f64x2_zero(f64x2.mul(rr, sf0)), f32x4.demote_f64x2_zero(f64x2.mul(rr, sf1)), 0, 1, 4, 5);
}

const HALF_LOG2E: f64 = 0.5 * 1.4426950408889634;
// 2^f ≈ C0 + C1·f + … + C5·f⁵ on [−½, ½]: a near-minimax fit of the relative error (7.5e-8; 2.4e-7 evaluated in float32)
const EXP2_C0: f32 = 1.0000001192092896;
const EXP2_C1: f32 = 0.6931469440460205;
const EXP2_C2: f32 = 0.24022120237350464;
const EXP2_C3: f32 = 0.05550713464617729;
const EXP2_C4: f32 = 0.009675540961325169;
const EXP2_C5: f32 = 0.0013276457320898771;
/** 1.5·2^23: in float32, t + ROUNDER is round(t) (ties to even) in the low mantissa bits, for |t| < 2^22. */
const ROUNDER: f32 = 12582912.0;

/**
 * 2^t, four lanes in float32, for −126 < t ≤ 0 (elsewhere a value the caller masks): 2^n·p(f),
 * n = round(t), f = t − n in [−½, ½] exactly, p a degree-5 polynomial of 2^f (relative error
 * below 2.5e-7); 2^n is added to p's exponent bits.
 */
@inline function exp2v(t: v128): v128 {
  const tm = f32x4.add(t, f32x4.splat(ROUNDER));
  const f = f32x4.sub(t, f32x4.sub(tm, f32x4.splat(ROUNDER)));
  let p = f32x4.add(f32x4.mul(f32x4.splat(EXP2_C5), f), f32x4.splat(EXP2_C4));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(EXP2_C3));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(EXP2_C2));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(EXP2_C1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(EXP2_C0));
  return i32x4.add(p, i32x4.shl(tm, 23));
}

/**
 * The decoder's walk: adds amp·e − floor along voxels o … o+len−1 of the field, the first `k0`
 * voxels after the row's support start xs, e = 2^(a − c·d²) evaluated at every voxel in float32
 * lanes: d = u + k, u = xs − xm rounded to float32 once per row, k = x − xs counted exactly in int32,
 * a = −qmin·log2(e)/2 and c = Axx·log2(e)/2. A voxel's value depends on its row and its x alone,
 * not on where the walk entered the row or which voxels share its vector, so every box gets the
 * same bits; no anchor, no recurrence to set up. Inside the support t = a − c·d² ≥ −r²·log2(e)/2
 * (> −47 for the largest radius), so exp2v's range holds; lanes past the segment are masked to
 * +0 (the field is padded for them).
 */
@inline function walkDirect(field: usize, o: i32, len: i32, k0: i32, u: v128, a: v128, c: v128, amp: v128, fl: v128): void {
  const end = i32x4.splat(k0 + len), four = i32x4.splat(4);
  let k = i32x4.add(i32x4.splat(k0), i32x4(0, 1, 2, 3));
  let p = field + (<usize>o << 2);
  const stop = p + (<usize>((len + 3) >> 2) << 4);
  for (; p < stop; p += 16, k = i32x4.add(k, four)) {
    const d = f32x4.add(u, f32x4.convert_i32x4_s(k));
    const e = exp2v(f32x4.sub(a, f32x4.mul(c, f32x4.mul(d, d))));
    v128.store(p, f32x4.add(v128.load(p), v128.and(f32x4.sub(f32x4.mul(amp, e), fl), i32x4.lt_s(k, end))));
  }
}

/**
 * Solve the rows of the kernel record at `k` inside the box and walk each segment (rows.ts visitRows);
 * `record` (a constant at each call: inlined, so the decoder's splat has no recording branch) walks
 * them for the fitter instead.
 */
@inline function splatOne(k: usize, field: usize, rows: usize, cap: i32, bx0: f64, bx1: f64, by0: f64, by1: f64, bz0: f64, bz1: f64, record: bool): void {
  const cx = kf(k, KREC_CX), cy = kf(k, KREC_CY), cz = kf(k, KREC_CZ), r2 = kf(k, KREC_R2);
  const axx = kf(k, KREC_AXX), axy = kf(k, KREC_AXY), axz = kf(k, KREC_AXZ);
  const ayy = kf(k, KREC_AYY), ayz = kf(k, KREC_AYZ), azz = kf(k, KREC_AZZ);
  const cyy = kf(k, KREC_CYY), czz = kf(k, KREC_CZZ), cyz = kf(k, KREC_CYZ);
  const amp = kf(k, KREC_AMP), floor = kf(k, KREC_FLOOR);
  const w = bx1 - bx0, h = by1 - by0;
  const zr = Math.sqrt(r2 * czz);
  const zlo = max(bz0, Math.ceil(cz - zr)), zhi = min(bz1 - 1, Math.floor(cz + zr));
  const detYZ = cyy * czz - cyz * cyz;
  const step = record ? Math.exp(-axx) : 0; // the recording walk's recurrence only
  const s2 = step * step, s3 = s2 * step, s4 = s2 * s2, s6 = s3 * s3, s8 = s4 * s4, s16 = s8 * s8;
  const s10 = s6 * s4, s14 = s10 * s4, s18 = s14 * s4;
  const sg = f64x2(step, s3), sf0 = f64x2(s6, s10), sf1 = f64x2(s14, s18), sv16 = f32x4.splat(<f32>s16), fl = f32x4.splat(<f32>floor);
  const iaxx = 1 / axx, iczz = 1 / czz;
  const vcx = f64x2.splat(cx), vcy = f64x2.splat(cy), vr2 = f64x2.splat(r2), vaxx = f64x2.splat(axx), vaxy = f64x2.splat(axy);
  const vayy = f64x2.splat(ayy), viaxx = f64x2.splat(iaxx), v2 = f64x2.splat(2);
  const rowB = rows, rowQ = rows + (<usize>cap << 3), rowM = rows + (<usize>cap << 4), rowS = rows + (<usize>cap * 24);
  const rowE = rows + (<usize>cap << 5), rowQ0 = rows + (<usize>cap * 40), rowR = rows + (<usize>cap * 48);
  const vhalf = f64x2.splat(-0.5), vone = f64x2.splat(1);
  const vc2 = f32x4.splat(<f32>(HALF_LOG2E * axx)), vamp = f32x4.splat(<f32>amp);
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
    // pass 1, two rows a step in f64x2 lanes: each row's solve, the same operations as the
    // scalar code, into the row scratch (structure of arrays, `cap` rows each)
    const ystart = ylo;
    const nrows = <i32>(yhi - ystart) + 1;
    let Y = f64x2(ystart, ystart + 1);
    for (let i = 0; i < nrows; i += 2, Y = f64x2.add(Y, v2)) {
      const dy = f64x2.sub(Y, vcy);
      const b = f64x2.add(f64x2.mul(vaxy, dy), f64x2.splat(bz));
      const c = f64x2.add(f64x2.mul(f64x2.add(f64x2.mul(vayy, dy), f64x2.splat(cyz2)), dy), f64x2.splat(czz2));
      const bi = f64x2.mul(b, viaxx);
      const qmin = f64x2.sub(c, f64x2.mul(b, bi));
      const xm = f64x2.sub(vcx, bi);
      const xh = f64x2.sqrt(f64x2.max(f64x2.splat(0), f64x2.mul(f64x2.sub(vr2, qmin), viaxx)));
      const xs = f64x2.ceil(f64x2.sub(xm, xh));
      const q = <usize>i << 3;
      v128.store(rowQ + q, qmin);
      v128.store(rowM + q, xm);
      v128.store(rowS + q, xs);
      v128.store(rowE + q, f64x2.floor(f64x2.add(xm, xh)));
      if (record) {
        // the recurrence's start at xs: e by the table, the ratio in closed form, exp(−(axx·(2(xs − cx) + 1) + 2b)/2)
        const ta = f64x2.sub(xs, xm);
        v128.store(rowB + q, b);
        v128.store(rowQ0 + q, kernelExp2(f64x2.add(qmin, f64x2.mul(vaxx, f64x2.mul(ta, ta)))));
        const arg = f64x2.mul(vhalf, f64x2.add(f64x2.mul(vaxx, f64x2.add(f64x2.mul(v2, f64x2.sub(xs, vcx)), vone)), f64x2.mul(v2, b)));
        v128.store(rowR + q, expV(arg));
      }
    }
    if (!record) {
      // pass 2 of the decoder: each row's segment in the box, evaluated voxel by voxel (walkDirect)
      let y = ystart;
      for (let i = 0; i < nrows; i++, y++) {
        const q = <usize>i << 3;
        const qmin = load<f64>(rowQ + q);
        if (qmin > r2) continue;
        const xs = load<f64>(rowS + q);
        const xlo = max(bx0, xs), xhi = min(bx1 - 1, load<f64>(rowE + q));
        if (!(xlo <= xhi)) continue;
        const o = ((z - bz0) * h + (y - by0)) * w + (xlo - bx0);
        walkDirect(field, <i32>o, <i32>(xhi - xlo) + 1, <i32>(xlo - xs), f32x4.splat(<f32>(xs - load<f64>(rowM + q))), f32x4.splat(<f32>(-HALF_LOG2E * qmin)), vc2, vamp, fl);
      }
      continue;
    }
    // pass 2 of the recording splat, row by row: the segments walked from their anchors
    let y = ystart;
    for (let i = 0; i < nrows; i++, y++) {
      const q = <usize>i << 3;
      const qmin = load<f64>(rowQ + q);
      if (qmin > r2) continue;
      const xs = load<f64>(rowS + q), b = load<f64>(rowB + q), ratio = load<f64>(rowR + q);
      const xlo = max(bx0, xs), xhi = min(bx1 - 1, load<f64>(rowE + q));
      if (!(xlo <= xhi)) continue;
      const o0 = ((z - bz0) * h + (y - by0)) * w - bx0; // field index of column 0 of the row
      for (let a = xlo - <f64>anchorResidue(xlo - xs); a <= xhi; a += ANCHOR_SPACING) {
        const first = max(a, xlo), last = min(xhi, a + <f64>ANCHOR_MASK);
        let e: f64, r: f64;
        if (a == xs) { e = load<f64>(rowQ0 + q); r = ratio; } else {
          const ta = a - load<f64>(rowM + q);
          e = kernelExp(qmin + axx * ta * ta);
          r = Math.exp(-0.5 * (axx * (2 * (a - cx) + 1) + 2 * b));
        }
        walkRecording(field, <i32>(o0 + first), <i32>(last - first) + 1, <i32>(first - a), e, r, sg, sf0, sf1, sv16, amp, fl, a - cx, y - cy, z - cz);
      }
    }
  }
}

/**
 * Σ of `count` kernel records at `kernels` over the box (half-open, scale-grid voxels), added into
 * the float32 field at `field`; `rows` is the row scratch: ROW_ARRAYS f64 arrays of `cap` entries,
 * cap ≥ the box's height + 2 (a pair's spare lane).
 */
export function splat(kernels: usize, count: i32, field: usize, rows: usize, cap: i32, bx0: f64, bx1: f64, by0: f64, by1: f64, bz0: f64, bz1: f64): void {
  for (let i = 0; i < count; i++) splatOne(kernels + (<usize>(i * KREC_STRIDE) << 3), field, rows, cap, bx0, bx1, by0, by1, bz0, bz1, false);
}

// The recording splat's cursors: segments and steps recorded so far in this call (counted on past
// the capacities, so the host learns what to reserve), where they go, and their capacities.
let segCount: i32 = 0, stepCount: i32 = 0, segBase: usize = 0, stepBase: usize = 0, segCap: i32 = 0, stepCap: i32 = 0;

/**
 * The fitter's walk: adds amp·e − floor along one row segment, voxels o … o+len−1 of the field
 * (byte address of voxel 0 in `field`), whose anchor lies `skip` voxels before o, and records the
 * segment and its e = exp(−q/2) vectors for the moments pass while they fit the capacities.
 * Lanes are aligned to the anchor (lane m holds anchor + m, m = 4j … 4j+3 in step j); lanes
 * outside the segment add +0 (the field is padded for them). With ρ the ratio at the anchor and s
 * the step: e(m) = e(0)·ρ^m·s^(m(m−1)/2), and each lane's factor over 4 voxels is ρ⁴·s^(6+4m), times
 * s¹⁶ per step; `sg`, `sf0`, `sf1` hold the step powers. The lanes start in float64 and walk in
 * float32 (four voxels a vector): every value a valid lane takes lies inside the support, within
 * exp(−r²/2) … 1, and the float32 recurrence over at most 16 steps stays within 1e-5 of the
 * float64 one, relative.
 */
@inline function walkRecording(field: usize, o: i32, len: i32, skip: i32, e: f64, ratio: f64, sg: v128, sf0: v128, sf1: v128, s16: v128, amp: f64, fl: v128, dxa: f64, dy: f64, dz: f64): void {
  let g = startLanes(e, ratio, sg), f = startFactors(ratio, sf0, sf1);
  const jb = skip >> 2, je = (skip + len - 1) >> 2;
  for (let j = 0; j < jb; j++) { g = f32x4.mul(g, f); f = f32x4.mul(f, s16); }
  const lo = i32x4.splat(skip), hi = i32x4.splat(skip + len), four = i32x4.splat(4), va = f32x4.splat(<f32>amp);
  let m = i32x4.add(i32x4.splat(jb << 2), i32x4(0, 1, 2, 3));
  let p = field + (<usize>(o - skip + (jb << 2)) << 2);
  const steps = je - jb + 1;
  const keep = segCount < segCap && stepCount + steps <= stepCap;
  if (keep) {
    const s = segBase + <usize>segCount * SEG_BYTES;
    store<f64>(s + SEG_DX, dxa); store<f64>(s + SEG_DY, dy); store<f64>(s + SEG_DZ, dz);
    store<i32>(s + SEG_P, <i32>p); store<i32>(s + SEG_M0, jb << 2); store<i32>(s + SEG_LO, skip); store<i32>(s + SEG_HI, skip + len); store<i32>(s + SEG_STEPS, steps);
  }
  let v = stepBase + (<usize>stepCount << 4);
  for (let j = jb; j <= je; j++, p += 16, v += 16) {
    const inside = v128.and(i32x4.ge_s(m, lo), i32x4.lt_s(m, hi));
    v128.store(p, f32x4.add(v128.load(p), v128.and(f32x4.sub(f32x4.mul(g, va), fl), inside)));
    if (keep) v128.store(v, v128.and(g, inside));
    g = f32x4.mul(g, f); f = f32x4.mul(f, s16); m = i32x4.add(m, four);
  }
  segCount++;
  stepCount += steps;
}

/**
 * splat() that records each kernel's row segments (segments at `segs`, up to `maxSegs`; e vectors at
 * `steps`, up to `maxSteps`; kernel i's segments from kseg[i] to kseg[i + 1], i32) for moments().
 * Returns the steps it needed (and kseg[count] the segments): when either
 * exceeds its capacity the records are incomplete (the field is whole) and the host calls again
 * with more room.
 */
export function splatRecording(kernels: usize, count: i32, field: usize, rows: usize, cap: i32, bx0: f64, bx1: f64, by0: f64, by1: f64, bz0: f64, bz1: f64, kseg: usize, segs: usize, maxSegs: i32, steps: usize, maxSteps: i32): i32 {
  segCount = 0; stepCount = 0; segBase = segs; stepBase = steps; segCap = maxSegs; stepCap = maxSteps;
  for (let i = 0; i < count; i++) {
    store<i32>(kseg + (<usize>i << 2), segCount);
    splatOne(kernels + (<usize>(i * KREC_STRIDE) << 3), field, rows, cap, bx0, bx1, by0, by1, bz0, bz1, true);
  }
  store<i32>(kseg + (<usize>count << 2), segCount);
  return stepCount;
}

@inline function hsum(v: v128): f64 {
  return (<f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1)) + (<f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3));
}

/**
 * The moments (gradient.ts) of the `count` kernels last recorded by splatRecording, against the
 * residual now in the field: KMOMENTS f64 per kernel into `out`. Four voxels a step in float32
 * lanes within a segment (at most 17 steps), each segment's sums added in float64.
 */
export function moments(count: i32, kseg: usize, segs: usize, steps: usize, out: usize): void {
  let v = steps;
  const four = i32x4.splat(4), fourf = f32x4.splat(4), zero = f32x4.splat(0);
  for (let i = 0; i < count; i++) {
    let sr = 0.0, se = 0.0, sex = 0.0, sey = 0.0, sez = 0.0, sexx = 0.0, sexy = 0.0, sexz = 0.0, seyy = 0.0, seyz = 0.0, sezz = 0.0;
    for (let s = load<i32>(kseg + (<usize>i << 2)), end = load<i32>(kseg + (<usize>(i + 1) << 2)); s < end; s++) {
      const rec = segs + <usize>s * SEG_BYTES;
      const dxa = load<f64>(rec + SEG_DX), dy = load<f64>(rec + SEG_DY), dz = load<f64>(rec + SEG_DZ);
      let p = <usize>load<i32>(rec + SEG_P);
      const m0 = load<i32>(rec + SEG_M0), n = load<i32>(rec + SEG_STEPS);
      const lo = i32x4.splat(load<i32>(rec + SEG_LO)), hi = i32x4.splat(load<i32>(rec + SEG_HI));
      let m = i32x4.add(i32x4.splat(m0), i32x4(0, 1, 2, 3));
      const d0 = dxa + <f64>m0;
      let dx = f32x4(<f32>d0, <f32>(d0 + 1), <f32>(d0 + 2), <f32>(d0 + 3));
      let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
      for (let j = 0; j < n; j++, p += 16, v += 16) {
        const r = v128.and(v128.load(p), v128.and(i32x4.ge_s(m, lo), i32x4.lt_s(m, hi)));
        const re = f32x4.mul(r, v128.load(v));
        const rex = f32x4.mul(re, dx);
        a0 = f32x4.add(a0, r); a1 = f32x4.add(a1, re); a2 = f32x4.add(a2, rex); a3 = f32x4.add(a3, f32x4.mul(rex, dx));
        dx = f32x4.add(dx, fourf); m = i32x4.add(m, four);
      }
      const s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
      sr += s0; se += s1; sex += s2; sey += dy * s1; sez += dz * s1;
      sexx += s3; sexy += dy * s2; sexz += dz * s2; seyy += dy * dy * s1; seyz += dy * dz * s1; sezz += dz * dz * s1;
    }
    const o = out + <usize>i * (KMOMENTS << 3);
    store<f64>(o, sr); store<f64>(o, se, 8); store<f64>(o, sex, 16); store<f64>(o, sey, 24); store<f64>(o, sez, 32);
    store<f64>(o, sexx, 40); store<f64>(o, sexy, 48); store<f64>(o, sexz, 56); store<f64>(o, seyy, 64); store<f64>(o, seyz, 72); store<f64>(o, sezz, 80);
  }
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
 * Four field sums (f32x4) + their backgrounds (f64x2 pairs) → four stored u8/u16 values (the
 * low lanes of the result), the scalar path's operations lane by lane: the sum rounded to f32 as
 * addBackground rounds it, then offset + ½ + scale·v. Below 0 and NaN → 0 are the saturating
 * truncation's; above, a pseudo-minimum (one instruction, where f64x2.min with its NaN rules is
 * several; NaN stays NaN and truncates to 0).
 */
@inline function values4<T>(acc: v128, bglo: v128, bghi: v128, vo: v128, vs: v128, vmax: v128): v128 {
  const lo = f64x2.add(f64x2.promote_low_f32x4(acc), bglo);
  const hi = f64x2.add(f64x2.promote_low_f32x4(v128.shuffle<i32>(acc, acc, 2, 3, 0, 1)), bghi);
  const frlo = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(lo)), frhi = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(hi));
  const tlo = f64x2.pmin(f64x2.add(vo, f64x2.mul(vs, frlo)), vmax);
  const thi = f64x2.pmin(f64x2.add(vo, f64x2.mul(vs, frhi)), vmax);
  const u = v128.shuffle<i32>(i32x4.trunc_sat_f64x2_u_zero(tlo), i32x4.trunc_sat_f64x2_u_zero(thi), 0, 1, 4, 5);
  const h16 = i16x8.narrow_i32x4_u(u, u);
  return sizeof<T>() == 2 ? h16 : i8x16.narrow_i16x8_u(h16, h16);
}

/** values4's four values into elements i … i+3 of the row at `orow`. */
@inline function store4<T>(orow: usize, i: i32, v: v128): void {
  if (sizeof<T>() == 2) v128.store64_lane(orow + (<usize>i << 1), v, 0);
  else v128.store32_lane(orow + <usize>i, v, 0);
}

/**
 * The sweep for one output type: row by row, the grid (or constant) background as runs of
 * A + B·X at absolute column X (core/background.ts BackgroundRows.lines), added to the sum.
 */
function sweep<T>(
  field: usize, out: usize, outRow: i32, outPlane: i32, w: i32, h: i32, d: i32, x0: f64, offset: f64, scale: f64,
  params: usize, gx: i32, gy: i32, gz: i32, zNode: usize, zWeight: usize, yNode: usize, yWeight: usize,
  nRuns: i32, runStart: usize, runCell: usize, runNode: usize, slope: f64, node: usize,
): void {
  const o = offset + 0.5;
  let i0 = 0;
  for (let z = 0; z < d; z++) for (let y = 0; y < h; y++, i0 += w) {
    // output element of field index i in this row: orow + i·sizeof<T> (the output box may be wider than the field's)
    const orow = out + <usize>((z * outPlane + y * outRow - i0) * <i32>sizeof<T>());
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
      let i = i0 + s;
      const end = i0 + e;
      if (isInteger<T>() && !isSigned<T>() && sizeof<T>() <= 2) {
        const vA = f64x2.splat(A), vB = f64x2.splat(B), vo = f64x2.splat(o), vs = f64x2.splat(scale);
        const vmax = f64x2.splat(<f64><T>-1);
        if (B == 0) {
          // a run of one background value (constant model, outside the grid's outer x nodes):
          // where the four sums are all +0 (most of a sparse fit) the values are the run's own,
          // made once by the same steps
          const plain = values4<T>(v128.splat<i32>(0), vA, vA, vo, vs, vmax);
          for (; i + 4 <= end; i += 4) {
            const acc = v128.load(field + (<usize>i << 2));
            store4<T>(orow, i, v128.any_true(acc) ? values4<T>(acc, vA, vA, vo, vs, vmax) : plain);
          }
        } else {
          const four = f64x2.splat(4);
          let Xlo = f64x2(X, X + 1), Xhi = f64x2(X + 2, X + 3);
          for (; i + 4 <= end; i += 4, Xlo = f64x2.add(Xlo, four), Xhi = f64x2.add(Xhi, four)) {
            const acc = v128.load(field + (<usize>i << 2));
            store4<T>(orow, i, values4<T>(acc, f64x2.add(vA, f64x2.mul(vB, Xlo)), f64x2.add(vA, f64x2.mul(vB, Xhi)), vo, vs, vmax));
          }
        }
        X = x0 + <f64>(i - i0);
      }
      for (; i < end; i++, X++) {
        storeValue<T>(orow, i, <f64>load<f32>(field + (<usize>i << 2)) + (A + B * X), offset, o, scale);
      }
    }
  }
}

/**
 * Field sum + grid/constant background → stored values of output kind `kind` (OUT_*), over a
 * w×h×d box; voxel (z, y, x) of the box goes to element z·outPlane + y·outRow + x of `out` (a box
 * that is one tile of a larger output).
 */
export function convert(
  kind: i32, field: usize, out: usize, outRow: i32, outPlane: i32, w: i32, h: i32, d: i32, x0: f64, offset: f64, scale: f64,
  params: usize, gx: i32, gy: i32, gz: i32, zNode: usize, zWeight: usize, yNode: usize, yWeight: usize,
  nRuns: i32, runStart: usize, runCell: usize, runNode: usize, slope: f64, node: usize,
): void {
  if (kind == OUT_U8) sweep<u8>(field, out, outRow, outPlane, w, h, d, x0, offset, scale, params, gx, gy, gz, zNode, zWeight, yNode, yWeight, nRuns, runStart, runCell, runNode, slope, node);
  else if (kind == OUT_U16) sweep<u16>(field, out, outRow, outPlane, w, h, d, x0, offset, scale, params, gx, gy, gz, zNode, zWeight, yNode, yWeight, nRuns, runStart, runCell, runNode, slope, node);
  else if (kind == OUT_U32) sweep<u32>(field, out, outRow, outPlane, w, h, d, x0, offset, scale, params, gx, gy, gz, zNode, zWeight, yNode, yWeight, nRuns, runStart, runCell, runNode, slope, node);
  else if (kind == OUT_I8) sweep<i8>(field, out, outRow, outPlane, w, h, d, x0, offset, scale, params, gx, gy, gz, zNode, zWeight, yNode, yWeight, nRuns, runStart, runCell, runNode, slope, node);
  else if (kind == OUT_I16) sweep<i16>(field, out, outRow, outPlane, w, h, d, x0, offset, scale, params, gx, gy, gz, zNode, zWeight, yNode, yWeight, nRuns, runStart, runCell, runNode, slope, node);
  else if (kind == OUT_I32) sweep<i32>(field, out, outRow, outPlane, w, h, d, x0, offset, scale, params, gx, gy, gz, zNode, zWeight, yNode, yWeight, nRuns, runStart, runCell, runNode, slope, node);
  else if (kind == OUT_F32) sweep<f32>(field, out, outRow, outPlane, w, h, d, x0, offset, scale, params, gx, gy, gz, zNode, zWeight, yNode, yWeight, nRuns, runStart, runCell, runNode, slope, node);
}
