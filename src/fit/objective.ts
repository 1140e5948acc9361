/**
 * The fitting objective over one box of the full-resolution grid, shared by every engine:
 *   loss = (1/N) Σ_v w_v (field_v − target_v)²
 * where field is exactly what the decoder computes (same kernels, same rows, same background), w is
 * the edge-boost weight and N the voxel count of the whole volume. Returns the weighted and plain
 * squared-error sums and adds kernel moments (per Gaussian) and background gradients.
 */
import { accumulateBackgroundGradient, fillBackground, type BackgroundModel, type Box } from "../core/background.js";
import { KERNEL_STRIDE } from "../core/constants.js";
import type { Shape3 } from "../core/gaussian.js";
import type { PreparedKernels } from "../decode/kernels.js";
import type { SpatialIndex } from "../decode/spatial-index.js";
import { splatKernel } from "../decode/splat.js";
import { installedWasmKernel } from "../decode/wasm-kernel.js";
import { clock, type PhaseTimes } from "./profile.js";
import { RecordedRows } from "./recorded-rows.js";

export interface FitTarget {
  shape: Shape3;
  /** Normalised target field, x fastest. */
  data: Float32Array;
  /** Per-voxel flag: 1 where the edge boost applies (strong gradients), else 0. */
  edges?: Uint8Array;
  /** Weight on edge voxels (the paper's 3.0); 1 disables the boost. */
  edgeBoost: number;
}

export interface SlabResult {
  wsse: number;
  sse: number;
}

/**
 * Where the gradient steps' forward splat and moments run: "wasm", the thread's WebAssembly kernel
 * (src/node/wasm-kernel.ts installs it; a box past its record limit takes the JS path, the same on
 * every host), or "js", the reference path (recorded-rows.ts). The two agree to float32 rounding,
 * each deterministic, but not bit for bit: a fit's bytes follow its path, so a store records it
 * (store/fit-kernel.ts) and every thread is given it, never left to choose.
 */
export type FitKernelPath = "wasm" | "js";

/** The path this thread can take: "wasm" where its kernel is installed. */
export function installedFitKernel(): FitKernelPath {
  return installedWasmKernel() ? "wasm" : "js";
}

export class SlabEvaluator {
  private pred = new Float32Array(0);
  private readonly rows = new RecordedRows();
  /** Where the time goes, when profiling. */
  times?: PhaseTimes;

  constructor(private readonly path: FitKernelPath) {}

  /**
   * Forward (and, when `moments` is given, backward) over `box`. `moments` is indexed by Gaussian
   * (kernels.source), `bgGrad` by background parameter.
   */
  evaluate(
    target: FitTarget, kernels: PreparedKernels, index: SpatialIndex, background: BackgroundModel, box: Box,
    moments?: Float64Array, bgGrad?: Float64Array,
  ): SlabResult {
    const [, ny, nx] = target.shape;
    const w = box.x1 - box.x0, h = box.y1 - box.y0, d = box.z1 - box.z0;
    const n = w * h * d;
    if (this.pred.length < n) this.pred = new Float32Array(n);
    const pred = this.pred.subarray(0, n);
    const times = this.times;
    let tick = clock(times);
    fillBackground(background, target.shape, box, [1, 1, 1], pred);
    if (times) tick = times.lap("evaluate/background field", tick);
    const ids = index.query(box);
    const k = kernels.k;
    // the kernel is looked up per call: a worker may install it after constructing its evaluator
    const wasm = moments && this.path === "wasm" ? installedWasmKernel() : undefined;
    if (moments && this.path === "wasm" && !wasm) throw new Error("this fit runs on the WebAssembly fit kernel, but this thread has none installed (VMG_DECODE_KERNEL=js, no dist/wasm or no WebAssembly SIMD)");
    const onWasm = wasm !== undefined && wasm.splatRecorded(k, ids, box, pred);
    if (moments && !onWasm) this.rows.splat(k, ids, box, pred);
    else if (!moments) for (let j = 0; j < ids.length; j++) splatKernel(k, ids[j]! * KERNEL_STRIDE, box, pred);
    if (times) tick = times.lap("evaluate/forward splat", tick);
    // residual in place: dL/dfield = 2 w (pred − target) / N, scaled by the caller
    const t = target.data, edges = target.edges, boost = target.edgeBoost;
    let wsse = 0, sse = 0;
    for (let z = 0, o = 0; z < d; z++) for (let y = 0; y < h; y++) {
      let src = ((box.z0 + z) * ny + box.y0 + y) * nx + box.x0;
      for (let x = 0; x < w; x++, o++, src++) {
        const diff = pred[o]! - t[src]!;
        const wv = edges && edges[src] ? boost : 1;
        sse += diff * diff;
        wsse += wv * diff * diff;
        pred[o] = wv * diff;
      }
    }
    if (times) tick = times.lap("evaluate/loss and residual", tick);
    if (moments && onWasm) wasm.recordedMoments(pred, kernels.source, moments);
    else if (moments) this.rows.moments(k, kernels.source, pred, moments);
    if (times) tick = times.lap("evaluate/gradient moments", tick);
    if (bgGrad) accumulateBackgroundGradient(background, target.shape, box, pred, bgGrad);
    if (times) times.lap("evaluate/background gradient", tick);
    return { wsse, sse };
  }
}
