/**
 * CPU decoder of a `.vmg` file: any axis-aligned box at any power-of-two scale, as field values
 * (float32) or as stored values of the source dtype. Kernels and the spatial index are built once
 * per scale and reused by every chunk.
 */
import { addBackground, boxVoxels, type Box } from "../core/background.js";
import { KERNEL_STRIDE } from "../core/constants.js";
import { allocVoxels, type VoxelArray } from "../core/dtype.js";
import type { Factors, Shape3 } from "../core/gaussian.js";
import type { VmgFile } from "../format/vmg.js";
import { ChunkRangeError } from "./errors.js";
import { prepareKernels, type PreparedKernels } from "./kernels.js";
import { SpatialIndex } from "./spatial-index.js";
import { splatKernel } from "./splat.js";
import { sumToValues } from "./values.js";
import { installedWasmKernel, type ValuesRequest, type WasmKernel } from "./wasm-kernel.js";

/**
 * Which sampler decodes a box: "js" (the reference, and the fallback), "wasm" (the thread's
 * installed WebAssembly SIMD kernel, wasm-kernel.ts; JS where none is installed) or "auto" (wasm
 * from WASM_MIN_VOXELS up).
 */
export type DecodePath = "js" | "wasm" | "auto";

/**
 * Smallest box "auto" sends to the WebAssembly kernel. Its fixed cost per call (gathering the
 * kernels, the tables, the copy out) is a few µs: on the demo block's fit (CPU time, least of 7
 * passes over 200 boxes, one thread) 2³ boxes took 26.5 µs against the JS path's 29.3, 4³ 50.2
 * against 48.0, 8³ 106.7 against 105.3, 16³ 322 against 383, 32³ 1,281 against 1,665 (the small
 * boxes' time is the index query and the planning of the kernels that reach them, alike in both).
 * No size loses measurably, so every box takes the kernel where it is installed.
 */
export const WASM_MIN_VOXELS = 1;

/** Per-axis (x, y, z) downsampling factors of scale `level`: 2^level on every axis. */
export function levelFactors(level: number): Factors {
  if (!Number.isInteger(level) || level < 0 || level > 30) throw new ChunkRangeError(`scale ${level} is not an integer in 0..30`);
  const f = 2 ** level;
  return [f, f, f];
}

/** Grid shape [z, y, x] of a scale: each axis ceil(n / f). */
export function scaledShape(shape: Shape3, factors: Factors): Shape3 {
  return [Math.ceil(shape[0] / factors[2]), Math.ceil(shape[1] / factors[1]), Math.ceil(shape[2] / factors[0])];
}

export { boxVoxels };

export function fullBox(shape: Shape3): Box {
  return { z0: 0, z1: shape[0], y0: 0, y1: shape[1], x0: 0, x1: shape[2] };
}

export interface ScaleState {
  factors: Factors;
  shape: Shape3;
  kernels: PreparedKernels;
  index: SpatialIndex;
}

export class VmgDecoder {
  private readonly scales = new Map<string, ScaleState>();
  /** The path of the last decode: "wasm" or "js" (what the benches report). */
  lastPath: "js" | "wasm" = "js";

  constructor(readonly file: VmgFile, readonly path: DecodePath = "auto") {}

  /** The WebAssembly kernel that decodes `box`, or undefined for the JS path. */
  private wasmFor(box: Box): WasmKernel | undefined {
    const kernel = this.path === "js" ? undefined : installedWasmKernel();
    const use = kernel && (this.path === "wasm" || boxVoxels(box) >= WASM_MIN_VOXELS) ? kernel : undefined;
    this.lastPath = use ? "wasm" : "js";
    return use;
  }

  get shape(): Shape3 {
    return this.file.header.shape;
  }

  /** Bytes this decoder holds: the parsed Gaussians, and each prepared scale's kernels and spatial index. */
  bytes(): number {
    let n = this.file.gaussians.byteLength + this.file.background.params.byteLength;
    for (const { kernels: k, index } of this.scales.values()) n += k.k.byteLength + k.box.byteLength + k.source.byteLength + index.bytes;
    return n;
  }

  /** Kernels and spatial index of a scale, built on first use. */
  scale(factors: Factors): ScaleState {
    const key = factors.join(",");
    let s = this.scales.get(key);
    if (!s) {
      const shape = scaledShape(this.shape, factors);
      const kernels = prepareKernels(this.file.gaussians, this.shape, factors, this.file.header.truncation);
      s = { factors, shape, kernels, index: new SpatialIndex(kernels, shape) };
      this.scales.set(key, s);
    }
    return s;
  }

  /** Throws ChunkRangeError unless `box` is a non-empty integer box inside the scale's grid. */
  checkBox(box: Box, factors: Factors): void {
    const [nz, ny, nx] = scaledShape(this.shape, factors);
    const axes: Array<[string, number, number, number]> = [["z", box.z0, box.z1, nz], ["y", box.y0, box.y1, ny], ["x", box.x0, box.x1, nx]];
    for (const [name, a, b, n] of axes) {
      if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b > n || a >= b) {
        throw new ChunkRangeError(`box ${name} range ${a}:${b} is outside 0:${n} at scale factors ${factors.join("x")}`);
      }
    }
  }

  /**
   * Field values (background + Gaussians) over `box`, x fastest. An aborted `signal` stops the
   * decode between kernels (every 256) with its AbortError.
   */
  decodeField(box: Box, factors: Factors = [1, 1, 1], out?: Float32Array, signal?: AbortSignal): Float32Array {
    const field = this.sumKernels(box, factors, out, signal, undefined);
    addBackground(this.file.background, this.shape, box, factors, field);
    return field;
  }

  /** Stored values (source dtype: rounded, clamped) over `box`, x fastest. */
  decode(box: Box, factors: Factors = [1, 1, 1], out?: VoxelArray, scratch?: Float32Array, signal?: AbortSignal): VoxelArray {
    this.checkBox(box, factors); // before sizing the output by it
    const h = this.file.header;
    const values = out ?? allocVoxels(h.dtype, boxVoxels(box));
    const request = { model: this.file.background, shape: this.shape, factors, dtype: h.dtype, offset: h.valueOffset, scale: h.valueScale, out: values };
    const sum = this.sumKernels(box, factors, scratch, signal, request);
    // the background is added as the sum is converted: one sweep over the box instead of two
    if (sum) sumToValues(sum, { model: this.file.background, shape: this.shape, box, factors }, h.dtype, h.valueOffset, h.valueScale, values);
    return values;
  }

  /**
   * Σ kernels over `box` (no background), into `out` or a new buffer. With `values`, the
   * WebAssembly path may write the stored values itself: then it returns undefined.
   */
  private sumKernels(box: Box, factors: Factors, out: Float32Array | undefined, signal: AbortSignal | undefined, values: ValuesRequest): Float32Array | undefined;
  private sumKernels(box: Box, factors: Factors, out: Float32Array | undefined, signal: AbortSignal | undefined, values: undefined): Float32Array;
  private sumKernels(box: Box, factors: Factors, out: Float32Array | undefined, signal: AbortSignal | undefined, values: ValuesRequest | undefined): Float32Array | undefined {
    signal?.throwIfAborted();
    this.checkBox(box, factors);
    const n = boxVoxels(box);
    if (out && out.length < n) throw new ChunkRangeError(`output buffer holds ${out.length} values, box needs ${n}`);
    const s = this.scale(factors);
    const k = s.kernels.k;
    const wasm = this.wasmFor(box);
    if (wasm) {
      // no buffer allocated here: the kernel makes one only when it hands a sum back
      return wasm.decode(k, (b) => s.index.query(b), box, out?.subarray(0, n), signal, values);
    }
    const ids = s.index.query(box);
    const field = out ? out.subarray(0, n).fill(0) : new Float32Array(n);
    for (let j = 0; j < ids.length; j++) {
      if ((j & 255) === 255) signal?.throwIfAborted();
      splatKernel(k, ids[j]! * KERNEL_STRIDE, box, field);
    }
    return field;
  }
}
