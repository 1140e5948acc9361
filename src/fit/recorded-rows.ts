/**
 * The fitter's forward splat, recording what its gradient pass needs: every row segment's place and
 * offsets and exp(-q/2) at each of its voxels. The gradient pass then walks the records instead of
 * solving each kernel's rows a second time (visitRows) and re-running the recurrence. On the 232
 * Gaussians of a 68³ trailmap block the moments pass runs 3.2× faster and the recording splat 1.3×
 * slower: splat + moments 7.8 → 6.9 ms (rows of ~10 voxels: solving them is most of a pass).
 * The moments are bit-identical to accumulateMoments' and the field to splatKernel's (same values,
 * same order of operations), so fits give the same bytes as before; accumulateMoments stays the
 * reference and the path of any kernel whose records would exceed the cap. This is the fitter's
 * JavaScript path; where the WebAssembly kernel is installed the same two passes run there
 * (WasmKernel.splatRecorded / recordedMoments, chosen in objective.ts), to float32 rounding.
 */
import type { Box } from "../core/background.js";
import { K_AMP, K_FLOOR, KERNEL_STRIDE } from "../core/constants.js";
import { ROW_DX, ROW_DY, ROW_DZ, ROW_E, ROW_RATIO, ROW_STEP, visitRows, type RowVisitor } from "../decode/rows.js";
import { accumulateMoments, M_E, M_EX, M_EXX, M_EXY, M_EXZ, M_EY, M_EYY, M_EYZ, M_EZ, M_EZZ, M_R, MOMENT_STRIDE } from "./gradient.js";

/** Most voxel values one slab records (8 bytes each); kernels beyond it are solved again instead. */
const MAX_VALUES = 1 << 22;

class Recorder implements RowVisitor {
  constructor(private readonly maxValues: number) {}
  out: Float32Array = new Float32Array(0);
  amp = 0;
  floor = 0;
  /** Per segment: voxel offset, length (Int32), and dx at its first voxel, dy, dz (Float64). */
  segI = new Int32Array(2 * 1024);
  segF = new Float64Array(3 * 1024);
  values = new Float64Array(1 << 14);
  nSeg = 0;
  nVal = 0;
  overflow = false;

  row(o: number, len: number, skip: number, seg: Float64Array): void {
    const step = seg[ROW_STEP]!;
    let e = seg[ROW_E]!, ratio = seg[ROW_RATIO]!;
    // g = amp·e as the decoder's splat carries it (so the field is bit-identical to splatKernel's),
    // e as the moments pass carries it
    let g = this.amp * e;
    for (let s = skip; s > 0; s--) { g *= ratio; e *= ratio; ratio *= step; } // from the anchor
    const out = this.out, floor = this.floor;
    if (!this.overflow && this.reserve(len)) {
      const values = this.values;
      let v = this.nVal;
      const s = this.nSeg;
      this.segI[2 * s] = o; this.segI[2 * s + 1] = len;
      this.segF[3 * s] = seg[ROW_DX]!; this.segF[3 * s + 1] = seg[ROW_DY]!; this.segF[3 * s + 2] = seg[ROW_DZ]!;
      for (const end = o + len; o < end; o++) {
        values[v++] = e;
        out[o]! += g - floor;
        g *= ratio;
        e *= ratio;
        ratio *= step;
      }
      this.nVal = v;
      this.nSeg = s + 1;
      return;
    }
    this.overflow = true;
    for (const end = o + len; o < end; o++) {
      out[o]! += g - floor;
      g *= ratio;
      ratio *= step;
    }
  }

  /** Room for one more segment of `len` values, growing the buffers up to the cap. */
  private reserve(len: number): boolean {
    if (this.nVal + len > this.maxValues) return false;
    if (this.nVal + len > this.values.length) {
      const grown = new Float64Array(Math.min(this.maxValues, Math.max(2 * this.values.length, this.nVal + len)));
      grown.set(this.values.subarray(0, this.nVal));
      this.values = grown;
    }
    if (this.nSeg + 1 > this.segI.length / 2) {
      const i = new Int32Array(this.segI.length * 2), f = new Float64Array(this.segF.length * 2);
      i.set(this.segI); f.set(this.segF);
      this.segI = i; this.segF = f;
    }
    return true;
  }
}

/** Splats kernels into a box buffer, then accumulates their moments against a residual in it. */
export class RecordedRows {
  private readonly rec: Recorder;
  /** Per splatted kernel: first segment and first value (-1: not recorded), and its kernel id. */
  private segStart = new Int32Array(256);
  private valStart = new Int32Array(256);
  private kernelIds: Uint32Array = new Uint32Array(0);
  private box: Box = { z0: 0, z1: 0, y0: 0, y1: 0, x0: 0, x1: 0 };

  /** `maxValues` other than the default only for tests of the fallback. */
  constructor(maxValues = MAX_VALUES) {
    this.rec = new Recorder(maxValues);
  }

  /** Add kernels `ids` of `k` into `out` (box-sized, x fastest), recording their rows. */
  splat(k: Float64Array, ids: Uint32Array, box: Box, out: Float32Array): void {
    const rec = this.rec;
    rec.out = out;
    rec.nSeg = rec.nVal = 0;
    if (this.segStart.length < ids.length + 1) {
      this.segStart = new Int32Array(2 * ids.length + 1);
      this.valStart = new Int32Array(2 * ids.length + 1);
    }
    for (let j = 0; j < ids.length; j++) {
      const off = ids[j]! * KERNEL_STRIDE;
      const seg = rec.nSeg, val = rec.nVal;
      rec.amp = k[off + K_AMP]!;
      rec.floor = k[off + K_FLOOR]!;
      rec.overflow = false;
      visitRows(k, off, box, rec);
      if (rec.overflow) { rec.nSeg = seg; rec.nVal = val; this.valStart[j] = -1; } // solved again in `moments`
      else this.valStart[j] = val;
      this.segStart[j] = seg;
    }
    this.segStart[ids.length] = rec.nSeg;
    this.kernelIds = ids;
    this.box = box;
  }

  /**
   * Add the moments (gradient.ts) of the kernels last splatted against `residual` (the same box) to
   * `acc`, indexed by `source[kernel id]`.
   */
  moments(k: Float64Array, source: Uint32Array, residual: Float32Array, acc: Float64Array): void {
    const { segI, segF, values } = this.rec;
    const ids = this.kernelIds;
    for (let j = 0; j < ids.length; j++) {
      const kid = ids[j]!;
      const a = source[kid]! * MOMENT_STRIDE;
      if (this.valStart[j]! < 0) { accumulateMoments(k, kid * KERNEL_STRIDE, this.box, residual, acc, a); continue; }
      let sr = 0, se = 0, sex = 0, sey = 0, sez = 0, sexx = 0, sexy = 0, sexz = 0, seyy = 0, seyz = 0, sezz = 0;
      let v = this.valStart[j]!;
      // the same sums, in the same order, as gradient.ts's MomentRows
      for (let s = this.segStart[j]!, end = this.segStart[j + 1]!; s < end; s++) {
        let o = segI[2 * s]!;
        let dx = segF[3 * s]!;
        const dy = segF[3 * s + 1]!, dz = segF[3 * s + 2]!;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (const stop = o + segI[2 * s + 1]!; o < stop; o++) {
          const r = residual[o]!;
          const re = r * values[v++]!;
          s0 += r;
          s1 += re;
          s2 += re * dx;
          s3 += re * dx * dx;
          dx += 1;
        }
        sr += s0; se += s1; sex += s2; sey += dy * s1; sez += dz * s1;
        sexx += s3; sexy += dy * s2; sexz += dz * s2; seyy += dy * dy * s1; seyz += dy * dz * s1; sezz += dz * dz * s1;
      }
      acc[a + M_R]! += sr; acc[a + M_E]! += se; acc[a + M_EX]! += sex; acc[a + M_EY]! += sey; acc[a + M_EZ]! += sez;
      acc[a + M_EXX]! += sexx; acc[a + M_EXY]! += sexy; acc[a + M_EXZ]! += sexz;
      acc[a + M_EYY]! += seyy; acc[a + M_EYZ]! += seyz; acc[a + M_EZZ]! += sezz;
    }
  }
}
