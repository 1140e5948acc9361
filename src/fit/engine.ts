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
import { SlabEvaluator, type FitTarget } from "./objective.js";

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

/** A source of slabs: a fixed list here, a shared counter across Node workers. */
export type NextBox = () => Box | undefined;

export function listOf(boxes: Box[], subset?: Int32Array): NextBox {
  let i = 0;
  return subset ? () => (i < subset.length ? boxes[subset[i++]!] : undefined) : () => boxes[i++];
}

export function boxSize(b: Box): number {
  return (b.z1 - b.z0) * (b.y1 - b.y0) * (b.x1 - b.x0);
}

/** Evaluate slabs on this thread until `next` runs dry; shared by the local engine and the Node workers. */
export function evaluateSlabs(target: FitTarget, req: EvalRequest, next: NextBox, evaluator: SlabEvaluator): EvalResult {
  const kernels = prepareKernels(req.params, target.shape, [1, 1, 1], req.radius);
  const index = new SpatialIndex(kernels, target.shape);
  const moments = req.gradients ? new Float64Array(req.count * MOMENT_STRIDE) : undefined;
  const bgGrad = req.gradients ? new Float64Array(req.background.params.length) : undefined;
  let wsse = 0, sse = 0, voxels = 0;
  for (let box = next(); box; box = next()) {
    const r = evaluator.evaluate(target, kernels, index, req.background, box, moments, bgGrad);
    wsse += r.wsse;
    sse += r.sse;
    voxels += boxSize(box);
  }
  return { wsse, sse, voxels, ...(moments ? { moments } : {}), ...(bgGrad ? { bgGrad } : {}) };
}

/** Field over `boxes` written into `out` (full volume, x fastest). */
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
  private readonly evaluator = new SlabEvaluator();
  readonly slabs: Box[];

  constructor(private readonly target: FitTarget) {
    this.slabs = slabs(target.shape, SLAB_VOXELS);
  }

  async evaluate(req: EvalRequest): Promise<EvalResult> {
    return evaluateSlabs(this.target, req, listOf(this.slabs, req.subset), this.evaluator);
  }

  async predict(req: Omit<EvalRequest, "gradients">): Promise<Float32Array> {
    const out = new Float32Array(this.target.data.length);
    predictSlabs(this.target.shape, req, listOf(this.slabs), out);
    return out;
  }

  async close(): Promise<void> {}
}
