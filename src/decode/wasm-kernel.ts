/**
 * Host of the decoder's WebAssembly SIMD kernel (asm/decode-kernel.ts): lays out its memory
 * (kernel-layout.ts), gathers the kernels a box needs, runs the splat and the background +
 * conversion sweep, and copies the values out. The same module runs in Node (decode pool, CLI)
 * and in the browser's workers; each adapter hands the bytes to `installWasmKernel` once per
 * thread (src/node/wasm-kernel.ts, src/viewer/wasm-kernel.ts). Without WebAssembly SIMD nothing
 * is installed and the decoder keeps its JavaScript path, the reference.
 *
 * The memory grows only as a call needs (the largest box decoded so far) and is reused by every
 * call on the thread, whichever file it decodes.
 */
import { BackgroundRows, boxVoxels, type BackgroundModel, type Box } from "../core/background.js";
import {
  K_AMP, K_AXX, K_AXY, K_AXZ, K_AYY, K_AYZ, K_AZZ, K_CX, K_CY, K_CYY, K_CYZ, K_CZ, K_CZZ, K_FLOOR, K_R2, KERNEL_STRIDE,
} from "../core/constants.js";
import { DTYPES, type DType, type VoxelArray } from "../core/dtype.js";
import type { Factors, Shape3 } from "../core/gaussian.js";
import * as L from "./kernel-layout.js";
import { EXP_TABLE } from "./rows.js";

interface KernelExports {
  memory: WebAssembly.Memory;
  layout?(): number;
  splat(kernels: number, count: number, field: number, rows: number, cap: number, x0: number, x1: number, y0: number, y1: number, z0: number, z1: number): void;
  splatRecording(
    kernels: number, count: number, field: number, rows: number, cap: number, x0: number, x1: number, y0: number, y1: number, z0: number, z1: number,
    kseg: number, segs: number, maxSegs: number, steps: number, maxSteps: number,
  ): number;
  moments(count: number, kseg: number, segs: number, steps: number, out: number): void;
  convert(
    kind: number, field: number, out: number, outRow: number, outPlane: number, w: number, h: number, d: number, x0: number, offset: number, scale: number,
    params: number, gx: number, gy: number, gz: number, zNode: number, zWeight: number, yNode: number, yWeight: number,
    nRuns: number, runStart: number, runCell: number, runNode: number, slope: number, node: number,
  ): void;
}

/** Output kind of the sweep for each dtype (kernel-layout.ts OUT_*). */
const OUT_KIND: Record<DType, number> = {
  uint8: L.OUT_U8, uint16: L.OUT_U16, uint32: L.OUT_U32, int8: L.OUT_I8, int16: L.OUT_I16, int32: L.OUT_I32, float32: L.OUT_F32,
};

/** Kernels splatted per call into the module: an aborted signal is seen between batches, as the JS path sees it every 256 kernels. */
const BATCH = 256;

/** Most bytes the fitter's recording splat lays out (a 64³ block + halo needs ~20 MB); beyond, the JS path. */
const MAX_RECORD_BYTES = 1 << 30;

const align = (n: number) => Math.ceil(n / L.CALL_ALIGN) * L.CALL_ALIGN;

/**
 * Voxels of a tile of a values decode: a 1 MB field (a 64³ chunk is one tile). Full-volume tiles
 * of 2 M voxels decoded whole spent ~1.4× a chunk's time per voxel, the field out of cache.
 */
export const TILE_VOXELS = 1 << 18;
/** Widest tile: rows split in x only past this (a split row is planned and set up twice). */
const TILE_WIDTH = 512;
/** The per-tile background tables, in their order in the module's memory, and their bytes. */
function tableSizes(rows: BackgroundRows, tile: Box): Array<[string, number]> {
  const nRuns = rows.runCell.length, d = tile.z1 - tile.z0, h = tile.y1 - tile.y0;
  return [
    ["zNode", d * 4], ["zWeight", d * 8], ["yNode", h * 4], ["yWeight", h * 8],
    ["runStart", (nRuns + 1) * 4], ["runCell", nRuns * 4], ["runNode", nRuns * 4], ["node", rows.dims[2] * 8],
  ];
}

/** `box` cut into tiles of at most TILE_VOXELS (full rows where they fit, then as many slices, then rows). */
export function tilesOf(box: Box): Box[] {
  const w = box.x1 - box.x0, h = box.y1 - box.y0, d = box.z1 - box.z0;
  const tw = Math.min(w, TILE_WIDTH);
  const td = Math.min(d, Math.max(1, Math.floor(TILE_VOXELS / (tw * Math.min(h, 64)))));
  const th = Math.min(h, Math.max(1, Math.floor(TILE_VOXELS / (tw * td))));
  const tiles: Box[] = [];
  for (let z0 = box.z0; z0 < box.z1; z0 += td) for (let y0 = box.y0; y0 < box.y1; y0 += th) for (let x0 = box.x0; x0 < box.x1; x0 += tw) {
    tiles.push({ z0, z1: Math.min(box.z1, z0 + td), y0, y1: Math.min(box.y1, y0 + th), x0, x1: Math.min(box.x1, x0 + tw) });
  }
  return tiles;
}

/** The background and conversion of a decode: what `sumToValues` takes. */
export interface ValuesRequest {
  model: BackgroundModel;
  shape: Shape3;
  factors: Factors;
  dtype: DType;
  offset: number;
  scale: number;
  out: VoxelArray;
}

export class WasmKernel {
  private readonly x: KernelExports;
  /** Where the background tables of the current tile go (after its row scratch). */
  private tablesPtr = L.CALL_PTR;
  /** Room for the recording splat's segments and 4-voxel steps (grown to the largest need within recordLimit). */
  private segCap = 0;
  private stepCap = 0;
  /** Most bytes a recording splat lays out (MAX_RECORD_BYTES; tests lower it to reach the JS fallback). */
  recordLimit = MAX_RECORD_BYTES;
  /** What the last recording splat left in the module for recordedMoments. */
  private recorded?: { ids: Uint32Array; count: number; n: number; fieldPtr: number; ksegPtr: number; segsPtr: number; stepsPtr: number; outPtr: number };

  constructor(module: WebAssembly.Module) {
    this.x = new WebAssembly.Instance(module, { env: { abort: () => { throw new Error("decode kernel aborted"); } } }).exports as unknown as KernelExports;
    const built = this.x.layout?.();
    if (built !== L.layoutSignature()) throw new Error(`the decode kernel was built for another memory layout (${built ?? "none"}, not ${L.layoutSignature()}): rebuild it (node --import tsx scripts/build-wasm.ts)`);
    this.reserve(0);
    new Float64Array(this.x.memory.buffer, L.TABLES_PTR, L.EXP_TABLE_LENGTH).set(EXP_TABLE);
  }

  /** Bytes of the module's memory (grown to the largest call so far). */
  get bytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  /**
   * Σ kernels over `box` (`query` lists the indices into `k`, KERNEL_STRIDE apart, of those that
   * may reach a box) into `sum` (box-sized); with `values`, the background is added and the sum
   * converted to `values.out` instead, tile by tile (TILE_VOXELS: a field that stays in cache; a
   * voxel's value does not depend on the box it is decoded in, so the tiles make the same values).
   * Returns the sum (in `sum`, or a new buffer without one) unless it wrote the values: without
   * `values`, or when the background model has no sweep here (polynomial: the caller's JS sweep).
   */
  decode(k: Float64Array, query: (b: Box) => Uint32Array, box: Box, sum: Float32Array | undefined, signal?: AbortSignal, values?: ValuesRequest): Float32Array | undefined {
    if (!values || values.model.kind === "polynomial") {
      const field = this.splat(k, query(box), box, 0, signal);
      const out = sum ?? new Float32Array(boxVoxels(box));
      out.set(new Float32Array(this.x.memory.buffer, field, boxVoxels(box)));
      return out;
    }
    const n = boxVoxels(box), bytes = DTYPES[values.dtype].bytes;
    const w = box.x1 - box.x0, h = box.y1 - box.y0;
    const tiles = tilesOf(box);
    // the values, then the model's params (copied once: a grid may hold up to 256³ nodes), then each tile's area
    const params = values.model.params;
    const outPtr = L.CALL_PTR, paramsPtr = align(outPtr + n * bytes), after = align(paramsPtr + params.length * 8);
    this.reserve(after - L.CALL_PTR);
    new Float64Array(this.x.memory.buffer, paramsPtr, params.length).set(params);
    for (const tile of tiles) {
      const rows = new BackgroundRows(values.model, values.shape, tile, values.factors);
      const sizes = tableSizes(rows, tile);
      const fieldPtr = this.splat(k, query(tile), tile, after - L.CALL_PTR, signal, sizes.reduce((s, [, b]) => s + align(b), 0));
      const o = outPtr + ((tile.z0 - box.z0) * h * w + (tile.y0 - box.y0) * w + (tile.x0 - box.x0)) * bytes;
      this.convert(values, rows, sizes, tile, paramsPtr, fieldPtr, o, w, h * w);
    }
    const out = values.out, buf = this.x.memory.buffer;
    out.set(new (out.constructor as new (b: ArrayBufferLike, o: number, n: number) => VoxelArray)(buf, outPtr, n) as never);
    return undefined;
  }

  /**
   * Σ kernels `ids` over `box` into a zeroed float32 field in the module's memory, laid out from
   * CALL_PTR + `base` (kernel records, the padded field, the row scratch, then `tables` bytes for
   * the caller's background tables); returns the field's address.
   */
  private splat(k: Float64Array, ids: Uint32Array, box: Box, base: number, signal: AbortSignal | undefined, tables = 0): number {
    const n = boxVoxels(box), h = box.y1 - box.y0, count = ids.length;
    const kernPtr = L.CALL_PTR + base;
    const fieldPtr = align(kernPtr + count * L.KREC_STRIDE * 8) + L.CALL_ALIGN;
    const rowCap = 2 * Math.ceil((h + 2) / 2); // rows of a slice inside the box and a pair's spare lane
    const rowsPtr = align(fieldPtr + n * 4) + L.CALL_ALIGN;
    this.tablesPtr = rowsPtr + L.ROW_ARRAYS * rowCap * 8;
    this.reserve(this.tablesPtr - L.CALL_PTR + tables);
    const buf = this.x.memory.buffer;
    this.gather(k, ids, kernPtr);
    new Float32Array(buf, fieldPtr, n).fill(0);
    for (let i = 0; i < count; i += BATCH) {
      if (i > 0) signal?.throwIfAborted();
      this.x.splat(kernPtr + i * L.KREC_STRIDE * 8, Math.min(BATCH, count - i), fieldPtr, rowsPtr, rowCap, box.x0, box.x1, box.y0, box.y1, box.z0, box.z1);
    }
    return fieldPtr;
  }

  /**
   * The background tables of `tile` (`sizes`, reserved after its field by splat), then the sweep
   * into `out` (rows `outRow`, planes `outPlane` elements apart); the model's params are at `paramsPtr`.
   */
  private convert(values: ValuesRequest, rows: BackgroundRows, sizes: Array<[string, number]>, tile: Box, paramsPtr: number, fieldPtr: number, out: number, outRow: number, outPlane: number): void {
    const w = tile.x1 - tile.x0, h = tile.y1 - tile.y0, d = tile.z1 - tile.z0;
    const nRuns = rows.runCell.length, [gz, gy, gx] = rows.dims;
    const t: Record<string, number> = {};
    let end = this.tablesPtr;
    for (const [name, bytes] of sizes) { t[name] = end; end = align(end + bytes); }
    const buf = this.x.memory.buffer;
    const grid = values.model.kind === "grid";
    // constant model: one node, every row at node 0 (weights 0)
    if (grid) new Int32Array(buf, t.zNode!, d).set(rows.zNode); else new Int32Array(buf, t.zNode!, d).fill(0);
    if (grid) new Float64Array(buf, t.zWeight!, d).set(rows.zWeight); else new Float64Array(buf, t.zWeight!, d).fill(0);
    if (grid) new Int32Array(buf, t.yNode!, h).set(rows.yNode); else new Int32Array(buf, t.yNode!, h).fill(0);
    if (grid) new Float64Array(buf, t.yWeight!, h).set(rows.yWeight); else new Float64Array(buf, t.yWeight!, h).fill(0);
    new Int32Array(buf, t.runStart!, nRuns + 1).set(rows.runStart);
    new Int32Array(buf, t.runCell!, nRuns).set(rows.runCell);
    new Int32Array(buf, t.runNode!, nRuns).set(rows.runNode);
    this.x.convert(OUT_KIND[values.dtype], fieldPtr, out, outRow, outPlane, w, h, d, tile.x0, values.offset, values.scale,
      paramsPtr, gx, gy, gz, t.zNode!, t.zWeight!, t.yNode!, t.yWeight!, nRuns, t.runStart!, t.runCell!, t.runNode!, rows.slope, t.node!);
  }

  /** The kernels `ids` of `k` as records at `ptr` (the field order of kernel-layout.ts, not of constants.ts). */
  private gather(k: Float64Array, ids: Uint32Array, ptr: number): void {
    const count = ids.length;
    const rec = new Float64Array(this.x.memory.buffer, ptr, count * L.KREC_STRIDE);
    for (let i = 0; i < count; i++) {
      const o = ids[i]! * KERNEL_STRIDE, r = i * L.KREC_STRIDE;
      rec[r + L.KREC_CX] = k[o + K_CX]!; rec[r + L.KREC_CY] = k[o + K_CY]!; rec[r + L.KREC_CZ] = k[o + K_CZ]!;
      rec[r + L.KREC_AMP] = k[o + K_AMP]!; rec[r + L.KREC_AXX] = k[o + K_AXX]!; rec[r + L.KREC_AXY] = k[o + K_AXY]!;
      rec[r + L.KREC_AXZ] = k[o + K_AXZ]!; rec[r + L.KREC_AYY] = k[o + K_AYY]!; rec[r + L.KREC_AYZ] = k[o + K_AYZ]!;
      rec[r + L.KREC_AZZ] = k[o + K_AZZ]!; rec[r + L.KREC_CYY] = k[o + K_CYY]!; rec[r + L.KREC_CZZ] = k[o + K_CZZ]!;
      rec[r + L.KREC_CYZ] = k[o + K_CYZ]!; rec[r + L.KREC_R2] = k[o + K_R2]!; rec[r + L.KREC_FLOOR] = k[o + K_FLOOR]!;
    }
  }

  /**
   * The fitter's forward splat: adds kernels `ids` of `k` over `box` into `field` (box-sized, x
   * fastest, e.g. holding the background) and records every row segment's e = exp(−q/2) values in
   * the module for `recordedMoments`, the next kernel call on this thread. The field agrees with
   * `decode`'s sum to float32 rounding (the lanes carry e, not amp·e). False, `field` untouched,
   * when this box's records would pass recordLimit: the caller's JS path takes the box then.
   */
  splatRecorded(k: Float64Array, ids: Uint32Array, box: Box, field: Float32Array): boolean {
    const n = boxVoxels(box), h = box.y1 - box.y0, count = ids.length;
    const kernPtr = L.CALL_PTR;
    const fieldPtr = align(kernPtr + count * L.KREC_STRIDE * 8) + L.CALL_ALIGN;
    const rowCap = 2 * Math.ceil((h + 2) / 2);
    const rowsPtr = align(fieldPtr + n * 4) + L.CALL_ALIGN;
    const ksegPtr = rowsPtr + L.ROW_ARRAYS * rowCap * 8;
    const outPtr = align(ksegPtr + (count + 1) * 4);
    const segsPtr = align(outPtr + count * L.KMOMENTS * 8);
    // whether records of `segs` segments and `steps` steps fit the limit: decided from this box's need
    // alone, so a box takes the same path whatever the thread fitted before
    const end = (segs: number, steps: number) => align(segsPtr + segs * L.SEG_BYTES) + steps * 16;
    const fits = (segs: number, steps: number) => end(segs, steps) - L.CALL_PTR <= this.recordLimit;
    let segCap = Math.max(this.segCap, 4096), stepCap = Math.max(this.stepCap, Math.ceil(n / 4));
    // room left by earlier boxes past the limit here: this box's first guess, or none (the splat then only counts)
    if (!fits(segCap, stepCap)) [segCap, stepCap] = fits(4096, Math.ceil(n / 4)) ? [4096, Math.ceil(n / 4)] : [0, 0];
    if (!fits(segCap, stepCap)) { this.recorded = undefined; return false; }
    for (;;) {
      const stepsPtr = align(segsPtr + segCap * L.SEG_BYTES);
      this.reserve(end(segCap, stepCap) - L.CALL_PTR);
      this.gather(k, ids, kernPtr);
      new Float32Array(this.x.memory.buffer, fieldPtr, n).set(field);
      const steps = this.x.splatRecording(kernPtr, count, fieldPtr, rowsPtr, rowCap, box.x0, box.x1, box.y0, box.y1, box.z0, box.z1, ksegPtr, segsPtr, segCap, stepsPtr, stepCap);
      const segs = new Int32Array(this.x.memory.buffer, ksegPtr, count + 1)[count]!;
      if (segs <= segCap && steps <= stepCap) {
        field.set(new Float32Array(this.x.memory.buffer, fieldPtr, n));
        this.recorded = { ids, count, n, fieldPtr, ksegPtr, segsPtr, stepsPtr, outPtr };
        return true;
      }
      // records cut short: past the limit, the JS path (the caps as they were); else room for them, with a margin within the limit
      if (!fits(segs, steps)) { this.recorded = undefined; return false; }
      [segCap, stepCap] = fits(Math.ceil(1.25 * segs), Math.ceil(1.25 * steps)) ? [Math.ceil(1.25 * segs), Math.ceil(1.25 * steps)] : [segs, steps];
      this.segCap = Math.max(this.segCap, segCap);
      this.stepCap = Math.max(this.stepCap, stepCap);
    }
  }

  /**
   * Add the moments (src/fit/gradient.ts, M_*) of the kernels last splatted by `splatRecorded`
   * against `residual` (the same box) to `acc`, at `source[kernel id]`·MOMENT_STRIDE. Within a row
   * segment the sums run in float32 lanes, across segments in float64.
   */
  recordedMoments(residual: Float32Array, source: Uint32Array, acc: Float64Array): void {
    const r = this.recorded;
    if (!r) throw new Error("recordedMoments without a recorded splat");
    this.recorded = undefined;
    new Float32Array(this.x.memory.buffer, r.fieldPtr, r.n).set(residual.subarray(0, r.n));
    this.x.moments(r.count, r.ksegPtr, r.segsPtr, r.stepsPtr, r.outPtr);
    const m = new Float64Array(this.x.memory.buffer, r.outPtr, r.count * L.KMOMENTS);
    for (let j = 0; j < r.count; j++) {
      const a = source[r.ids[j]!]! * L.KMOMENTS, o = j * L.KMOMENTS;
      for (let i = 0; i < L.KMOMENTS; i++) acc[a + i]! += m[o + i]!;
    }
  }

  /** Grow the memory (whole pages) so that the per-call area holds `bytes`. */
  private reserve(bytes: number): void {
    const need = L.CALL_PTR + bytes, have = this.x.memory.buffer.byteLength;
    if (need > have) this.x.memory.grow(Math.ceil((need - have) / 65536));
  }
}

let installed: WasmKernel | undefined;

/** A tiny module using one SIMD instruction (i32x4.splat): validates only where WebAssembly SIMD128 is supported. */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 17, 11]);

/** Whether this engine runs WebAssembly with SIMD128. */
export function wasmSimdSupported(): boolean {
  return typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
}

/**
 * Compile the kernel from its bytes and make it the thread's (once; later calls return the
 * first). Undefined where WebAssembly SIMD is not supported: the decoder stays on JS. Throws for
 * bytes that do not compile or a module built for another kernel-layout.ts (nothing installed).
 */
export function installWasmKernel(bytes: Uint8Array): WasmKernel | undefined {
  if (installed || !wasmSimdSupported()) return installed;
  installed = new WasmKernel(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>));
  return installed;
}

/** The thread's installed kernel, if any. */
export function installedWasmKernel(): WasmKernel | undefined {
  return installed;
}
