/**
 * `volmicro.compareFitEngines()`: the WebGPU fit engine against the CPU `LocalEngine` on a small
 * synthetic target (random Gaussians on a linear background, noise, an edge mask), for the browser
 * test and the console. Both engines cut the volume into the same slabs, so minibatches match.
 */
import type { BackgroundModel } from "../core/background.js";
import { PARAMS_PER_GAUSSIAN, P_AMP, P_POS, P_ROT, P_SCALE } from "../core/constants.js";
import type { Shape3 } from "../core/gaussian.js";
import { Random } from "../core/random.js";
import { prepareKernels } from "../decode/kernels.js";
import { LocalEngine, type EvalRequest, type EvalResult, type FitEngine } from "../fit/engine.js";
import { MOMENT_STRIDE } from "../fit/gradient.js";
import type { FitTarget } from "../fit/objective.js";
import { getGpu } from "./device.js";
import { WebGpuEngine } from "./fit-engine.js";

export interface EngineParityOptions {
  shape: Shape3;
  gaussians: number;
  seed: number;
  /** Voxels per slab (several slabs exercise the per-slab accumulation and minibatches). */
  slabVoxels: number;
  /** Slab indices of the minibatch evaluation. */
  subset: number[];
  /** The most voxels a workgroup of the moments pass walks (default: the engine's). */
  pieceVoxels?: number;
}

export interface EvalParity {
  /** |gpu − cpu| / cpu of the weighted and plain squared-error sums. */
  wsseRel: number;
  sseRel: number;
  /** max |gpu − cpu| / max |cpu| over the background gradient. */
  bgGradRel: number;
  /** Per moment (M_* order): max over Gaussians of |gpu − cpu|, over the largest |cpu| of that moment. */
  momentRel: number[];
  /** max |gpu − cpu| / |cpu| over moments with |cpu| ≥ 1% of their moment's largest. */
  significantRel: number;
  cpuMs: number;
  gpuMs: number;
}

export interface EngineParity {
  adapter: string;
  slabs: number;
  full: EvalParity;
  minibatch: EvalParity;
  /** Kernels, and the moments pass's workgroups (pieces) in the full step: more pieces than kernels means supports were split. */
  kernels: number;
  momentPieces: number;
  /** max |gpu − cpu| of `predict`, and the range of the CPU field. */
  predictMaxAbs: number;
  predictRange: number;
}

function randomParams(rng: Random, n: number): Float32Array {
  const p = new Float32Array(n * PARAMS_PER_GAUSSIAN);
  for (let i = 0; i < n; i++) {
    const b = i * PARAMS_PER_GAUSSIAN;
    for (let a = 0; a < 3; a++) p[b + P_POS + a] = rng.uniform(-1.05, 1.05); // some supports cross the faces
    for (let a = 0; a < 3; a++) p[b + P_SCALE + a] = rng.uniform(0.7, 3.5);
    for (let a = 0; a < 4; a++) p[b + P_ROT + a] = rng.normal();
    p[b + P_AMP] = i === 3 ? 0 : rng.uniform(-0.3, 1); // a zero amplitude: no kernel, zero moments
  }
  return p;
}

async function timed(engine: FitEngine, req: EvalRequest): Promise<{ r: EvalResult; ms: number }> {
  const t0 = performance.now();
  const r = await engine.evaluate(req);
  return { r, ms: performance.now() - t0 };
}

function maxRel(gpu: Float64Array, cpu: Float64Array): number {
  let err = 0, scale = 0;
  for (let i = 0; i < cpu.length; i++) { err = Math.max(err, Math.abs(gpu[i]! - cpu[i]!)); scale = Math.max(scale, Math.abs(cpu[i]!)); }
  return scale > 0 ? err / scale : err;
}

async function compareEval(cpu: FitEngine, gpu: FitEngine, req: EvalRequest): Promise<EvalParity> {
  const c = await timed(cpu, req), g = await timed(gpu, req);
  const momentRel: number[] = [];
  let significantRel = 0;
  const cm = c.r.moments!, gm = g.r.moments!;
  for (let m = 0; m < MOMENT_STRIDE; m++) {
    let err = 0, scale = 0;
    for (let i = m; i < cm.length; i += MOMENT_STRIDE) { err = Math.max(err, Math.abs(gm[i]! - cm[i]!)); scale = Math.max(scale, Math.abs(cm[i]!)); }
    momentRel.push(scale > 0 ? err / scale : err);
    for (let i = m; i < cm.length; i += MOMENT_STRIDE) {
      if (Math.abs(cm[i]!) >= 0.01 * scale) significantRel = Math.max(significantRel, Math.abs(gm[i]! - cm[i]!) / Math.abs(cm[i]!));
    }
  }
  return {
    wsseRel: Math.abs(g.r.wsse - c.r.wsse) / c.r.wsse, sseRel: Math.abs(g.r.sse - c.r.sse) / c.r.sse,
    bgGradRel: maxRel(g.r.bgGrad!, c.r.bgGrad!), momentRel, significantRel, cpuMs: c.ms, gpuMs: g.ms,
  };
}

export async function compareFitEngines(o: EngineParityOptions): Promise<EngineParity> {
  const ctx = await getGpu();
  if (!ctx) throw new Error("no WebGPU device");
  const rng = new Random(o.seed);
  const [nz, ny, nx] = o.shape;
  const n = nz * ny * nx;
  const truth = randomParams(rng, o.gaussians);
  const bgTrue: BackgroundModel = { kind: "polynomial", degree: 1, params: Float64Array.of(0.1, 0.02, -0.03, 0.05) };
  // the target: the model's own field plus noise, with about 15% of the voxels flagged as edges
  const data = await new LocalEngine({ shape: o.shape, data: new Float32Array(n), edgeBoost: 1 }).predict({ params: truth, count: o.gaussians, background: bgTrue, radius: 3 });
  const edges = new Uint8Array(n);
  for (let i = 0; i < n; i++) { data[i]! += 0.02 * rng.normal(); edges[i] = rng.next() < 0.15 ? 1 : 0; }
  const target: FitTarget = { shape: o.shape, data, edges, edgeBoost: 3 };
  // evaluated away from the truth so every moment is non-trivial
  const params = truth.slice();
  for (let i = 0; i < params.length; i++) params[i] = params[i]! * (1 + 0.1 * rng.normal());
  const background: BackgroundModel = { kind: "polynomial", degree: 1, params: Float64Array.of(0.12, 0, -0.02, 0.04) };
  const cpu = new LocalEngine(target, o.slabVoxels), gpu = new WebGpuEngine(ctx, target, o.slabVoxels, o.pieceVoxels);
  try {
    const req: EvalRequest = { params, count: o.gaussians, background, radius: 3, gradients: true };
    const full = await compareEval(cpu, gpu, req);
    const momentPieces = gpu.momentPieces;
    const minibatch = await compareEval(cpu, gpu, { ...req, subset: Int32Array.from(o.subset) });
    const pc = await cpu.predict(req), pg = await gpu.predict(req);
    let predictMaxAbs = 0, lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i++) { predictMaxAbs = Math.max(predictMaxAbs, Math.abs(pg[i]! - pc[i]!)); lo = Math.min(lo, pc[i]!); hi = Math.max(hi, pc[i]!); }
    const kernels = prepareKernels(params, o.shape, [1, 1, 1], req.radius).count;
    return { adapter: ctx.adapter, slabs: gpu.slabs.length, full, minibatch, kernels, momentPieces, predictMaxAbs, predictRange: hi - lo };
  } finally {
    await gpu.close();
    await cpu.close();
  }
}
