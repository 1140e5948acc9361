/**
 * Engines evaluate the objective over the whole volume. The local engine runs on the calling
 * thread (browser Web Worker or Node); a Node engine spreads slabs over worker threads
 * (src/node/fit-engine.ts). Both run the same SlabEvaluator, so they agree to rounding.
 */
import type { BackgroundModel, Box } from "../core/background.js";
import { KERNEL_STRIDE } from "../core/constants.js";
import { prepareKernels } from "../decode/kernels.js";
import { SpatialIndex } from "../decode/spatial-index.js";
import { splatKernel } from "../decode/splat.js";
import { fillBackground } from "../core/background.js";
import { MOMENT_STRIDE } from "./gradient.js";
import { installedFitKernel, SlabEvaluator, type FitKernelPath, type FitTarget } from "./objective.js";
import type { PhaseTimes } from "./profile.js";

export interface EvalRequest {
  /** Gaussians in the file layout (core/constants P_*), as the decoder will see them. */
  params: Float32Array;
  count: number;
  background: BackgroundModel;
  radius: number;
  gradients: boolean;
  /** Indices of the engine's slabs to evaluate (a minibatch); all slabs when absent. */
  subset?: Int32Array;
}

export interface EvalResult {
  /** Σ w·(field − target)² and Σ (field − target)² over the whole volume. */
  wsse: number;
  sse: number;
  /** Voxels evaluated. */
  voxels: number;
  /** Raw kernel moments per Gaussian (gradient.ts), to be scaled by 2/N. */
  moments?: Float64Array;
  /** Σ w·(field − target)·basis per background parameter, to be scaled by 2/N. */
  bgGrad?: Float64Array;
}

export interface FitEngine {
  /** The slabs this engine splits the volume into (minibatches pick among them). */
  readonly slabs: Box[];
  evaluate(req: EvalRequest): Promise<EvalResult>;
  /** The decoded field over the whole volume (for density control). */
  predict(req: Omit<EvalRequest, "gradients">): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Slab size of every engine: small enough to stay in cache and to make fine minibatches. */
export const SLAB_VOXELS = 1 << 18;

/** Slabs of whole z-planes with about `voxels` voxels each. */
export function slabs(shape: readonly [number, number, number], voxels = 1 << 20): Box[] {
  const [nz, ny, nx] = shape;
  const depth = Math.max(1, Math.min(nz, Math.floor(voxels / (ny * nx))));
  const out: Box[] = [];
  for (let z = 0; z < nz; z += depth) out.push({ z0: z, z1: Math.min(nz, z + depth), y0: 0, y1: ny, x0: 0, x1: nx });
  return out;
}

/** A source of slabs for `predictSlabs`: a fixed list here, a shared counter across Node workers. */
export type NextBox = () => Box | undefined;

export function listOf(boxes: Box[]): NextBox {
  let i = 0;
  return () => boxes[i++];
}

export function boxSize(b: Box): number {
  return (b.z1 - b.z0) * (b.y1 - b.y0) * (b.x1 - b.x0);
}

/**
 * Sums over slabs run in a fixed number of lanes whose partial sums are added in lane order, so a
 * step gives bit-identical results whether one thread or eight ran it.
 */
export const LANES = 8;

export interface LaneResult extends EvalResult {
  lane: number;
}

/** The step's slab indices (all, or the minibatch) that fall to `lane`. */
export function laneSlabs(total: number, subset: Int32Array | undefined, lane: number): number[] {
  const out: number[] = [];
  const n = subset ? subset.length : total;
  for (let i = lane; i < n; i += LANES) out.push(subset ? subset[i]! : i);
  return out;
}

/** Evaluate `lanes` on this thread; shared by the local engine and the Node workers. */
export function evaluateLanes(target: FitTarget, req: EvalRequest, slabs: Box[], lanes: number[], evaluator: SlabEvaluator): LaneResult[] {
  const kernels = prepareKernels(req.params, target.shape, [1, 1, 1], req.radius);
  const index = new SpatialIndex(kernels, target.shape);
  return lanes.map((lane) => {
    const mine = laneSlabs(slabs.length, req.subset, lane);
    // a lane with no slab (most of them, in a block of one slab) adds nothing: no zero moments to make and add
    if (mine.length === 0) return { lane, wsse: 0, sse: 0, voxels: 0 };
    const moments = req.gradients ? new Float64Array(req.count * MOMENT_STRIDE) : undefined;
    const bgGrad = req.gradients ? new Float64Array(req.background.params.length) : undefined;
    let wsse = 0, sse = 0, voxels = 0;
    for (const i of mine) {
      const box = slabs[i]!;
      const r = evaluator.evaluate(target, kernels, index, req.background, box, moments, bgGrad);
      wsse += r.wsse;
      sse += r.sse;
      voxels += boxSize(box);
    }
    return { lane, wsse, sse, voxels, ...(moments ? { moments } : {}), ...(bgGrad ? { bgGrad } : {}) };
  });
}

/** Add lane results in lane order. */
export function combineLanes(results: LaneResult[]): EvalResult {
  const sorted = [...results].sort((a, b) => a.lane - b.lane);
  const total: EvalResult = { wsse: 0, sse: 0, voxels: 0 };
  for (const r of sorted) {
    total.wsse += r.wsse;
    total.sse += r.sse;
    total.voxels += r.voxels;
    if (!r.moments) continue;
    if (!total.moments) { total.moments = r.moments.slice(); total.bgGrad = r.bgGrad!.slice(); continue; }
    for (let i = 0; i < r.moments.length; i++) total.moments[i] = total.moments[i]! + r.moments[i]!;
    for (let i = 0; i < r.bgGrad!.length; i++) total.bgGrad![i] = total.bgGrad![i]! + r.bgGrad![i]!;
  }
  return total;
}

/** Field over `boxes` written into `out` (full volume, x fastest). (JavaScript: on the WebAssembly kernel it measured no faster in a 68³ block fit, where it is ~5 % of the time.) */
export function predictSlabs(shape: readonly [number, number, number], req: Omit<EvalRequest, "gradients">, next: NextBox, out: Float32Array): void {
  const kernels = prepareKernels(req.params, shape, [1, 1, 1], req.radius);
  const index = new SpatialIndex(kernels, shape);
  const [, ny, nx] = shape;
  for (let box = next(); box; box = next()) {
    const view = out.subarray(box.z0 * ny * nx, box.z1 * ny * nx);
    fillBackground(req.background, shape, box, [1, 1, 1], view);
    const ids = index.query(box);
    for (let j = 0; j < ids.length; j++) splatKernel(kernels.k, ids[j]! * KERNEL_STRIDE, box, view);
  }
}

export class LocalEngine implements FitEngine {
  private readonly evaluator: SlabEvaluator;
  readonly slabs: Box[];

  /** `slabVoxels` other than the default only for tests that need several slabs in a small volume; `path` by default this thread's (objective.ts). */
  constructor(private readonly target: FitTarget, slabVoxels = SLAB_VOXELS, times?: PhaseTimes, path: FitKernelPath = installedFitKernel()) {
    this.evaluator = new SlabEvaluator(path);
    this.slabs = slabs(target.shape, slabVoxels);
    if (times) this.evaluator.times = times;
  }

  async evaluate(req: EvalRequest): Promise<EvalResult> {
    const lanes = Array.from({ length: LANES }, (_, l) => l);
    return combineLanes(evaluateLanes(this.target, req, this.slabs, lanes, this.evaluator));
  }

  async predict(req: Omit<EvalRequest, "gradients">): Promise<Float32Array> {
    const out = new Float32Array(this.target.data.length);
    predictSlabs(this.target.shape, req, listOf(this.slabs), out);
    return out;
  }

  async close(): Promise<void> {}
}
