/**
 * The compressor: fits background + Gaussians to a volume under a hard byte/count budget.
 *
 * Recipe (the paper's, with what a real fitter adds):
 *  1. robust value mapping (0.1/99.9th percentiles), TOPS-Gate at τ, edge mask;
 *  2. background model fitted by least squares outside the gate (auto: constant, quadratic or a
 *     coarse grid, whichever is clearly better and affordable);
 *  3. seeds by greedy matching pursuit (default) or the paper's kNN seeding (k = 32);
 *  4. Adam on the full-grid objective (edge-boosted MSE + λ·L1 of the Gaussians' contribution),
 *     jointly with the background, in minibatches of slabs, with density control (split/clone,
 *     loss-aware pruning and merging, swaps to residual peaks) under a coarse-to-fine capacity that
 *     ends on the budget (for packed records: on what the budget buys, measured as it goes);
 *  5. quantisation-aware tail: the last steps see the parameters exactly as the payload encoding
 *     stores them (packed or float16), so the reported loss is the decoder's.
 * No Node-only dependency: the engine decides where the heavy loops run.
 */
import { fillBackground, type BackgroundModel } from "../core/background.js";
import { DEFAULT_TRUNCATION_SIGMA, F16_RECORD_BYTES, KERNEL_STRIDE, PARAMS_PER_GAUSSIAN } from "../core/constants.js";
import { choosePackedSteps, encodePacked, PACKED_HEADER_BYTES, quantizePacked, type PackedSteps } from "../format/packed.js";
import { isDType } from "../core/dtype.js";
import { Random } from "../core/random.js";
import type { Volume } from "../core/volume.js";
import { prepareKernels, type PreparedKernels } from "../decode/kernels.js";
import { defaultHeader, setMetadata, writeVmg, type VmgFile } from "../format/vmg.js";
import { GaussianAdam, VectorAdam } from "./adam.js";
import { describeBackground, initialBackground, type BackgroundChoice } from "./background-init.js";
import { maxGaussians, overheadBytes, type Budget } from "./budget.js";
import { chainGradient } from "./chain.js";
import { capacity, compact, importance, kernelIntegral, largest, lossChanges, mergeEdits, planFreeing, splitOrClone, type FreeingEdit } from "./density.js";
import { LocalEngine, SLAB_VOXELS, type FitEngine } from "./engine.js";
import { FitCancelledError, FitInputError, NothingToFitError } from "./errors.js";
import { M_E, M_R, MOMENT_STRIDE } from "./gradient.js";
import type { FitKernelPath, FitTarget } from "./objective.js";
import { float16Quantizer, O_AMP, O_LOGS, O_POS, O_ROT, OPT_STRIDE, toFileParams, type Quantizer } from "./params.js";
import { edgeMask, normalise, occupancyGate, robustMapping } from "./prepare.js";
import { clock, type PhaseTimes } from "./profile.js";
import { knnSeeds, pursuitSeeds } from "./seed.js";

export interface FitOptions {
  budget: Budget;
  /** Optimiser steps (each over the full grid). */
  iterations?: number;
  seed?: number;
  /**
   * Base learning rate (amplitudes, log-scales, rotations; positions and background scale from it).
   * The paper used 0.01 in its own parameterisation; 0.05 suits ours (voxel units), measured.
   */
  lr?: number;
  /** Weight of edge voxels in the loss (the paper: 3.0; 1 disables). */
  edgeBoost?: number;
  /** λ of the amplitude sparsity term λ·mean|amp| (the paper: 0.001). */
  sparsity?: number;
  /** TOPS-Gate threshold on the robust normalisation (the paper: 0.5). */
  gate?: number;
  init?: "pursuit" | "knn";
  knnK?: number;
  background?: BackgroundChoice;
  /**
   * A background fixed in advance, in the volume's stored values (grid or constant; a chunked
   * store's continuous background, store/continuous-background.ts): used as given and not
   * optimised, so the fit spends its Gaussians over it. `background` is then ignored.
   */
  fixedBackground?: BackgroundModel;
  densify?: boolean;
  /** Learning rates relative to `lr`: position (voxels per step at the start), log-scale, rotation, background. */
  rates?: { position?: number; logScale?: number; rotation?: number; background?: number };
  truncation?: number;
  /** Voxels per optimiser step (a random subset of slabs); the whole volume when it is smaller. */
  batchVoxels?: number;
  /** Payload encoding of the written file (default "packed"; "f16" is the paper's 22-byte records). */
  encoding?: "packed" | "f16";
  /** Fraction of steps at the end that see float16-rounded parameters. */
  quantizeFraction?: number;
  /** Name of the source, for messages (and the file's metadata when `recordSource`). */
  source?: string;
  /**
   * Store `source` (its last 64 characters) in the file's metadata. Off by default: the same
   * data then gives the same file wherever it lies, and no local path travels inside shared files.
   */
  recordSource?: boolean;
  signal?: AbortSignal;
  onStep?: (s: StepLog) => void;
  onStage?: (stage: string) => void;
  engine?: (target: FitTarget) => Promise<FitEngine>;
  /** The local engine's kernel path (objective.ts), by default this thread's; a store's block fits take the one their plan recorded. */
  kernel?: FitKernelPath;
  /** Collects wall time per phase (bench/fit-profile.ts); the local engine's too. */
  profile?: PhaseTimes;
}

export interface StepLog {
  step: number;
  loss: number;
  /** Plain MSE in source units, and PSNR with the source's data range as peak (before rounding to the dtype). */
  mse: number;
  psnr: number;
  gaussians: number;
  seconds: number;
  event?: string;
}

export interface FitResult {
  file: VmgFile;
  bytes: Uint8Array;
  log: StepLog[];
  /** Largest Gaussian count the budget allowed. */
  budgetGaussians: number;
  background: string;
  seconds: number;
}

export const DEFAULT_ITERATIONS = 600;

function checkVolume(v: Volume, source: string): void {
  if (!isDType(v.dtype)) throw new FitInputError(source, `unsupported dtype ${String(v.dtype)}`);
  if (v.data.length === 0 || v.shape.some((n) => n === 0)) throw new FitInputError(source, "is empty (no voxels)");
  // The .vmg header holds the unit as up to 16 printable ASCII characters (readers normalise µm and the like).
  if (v.unit !== undefined && !/^[\x20-\x7e]{0,16}$/.test(v.unit)) throw new FitInputError(source, `unit "${v.unit}" cannot be stored in a .vmg header (at most 16 printable ASCII characters)`);
  const thin = v.shape.filter((n) => n < 2).length;
  if (thin > 0) throw new FitInputError(source, `is not a 3D volume (shape [${v.shape.join(", ")}]): a 2D image or a line cannot be fitted with 3D Gaussians`);
}

export async function fitVolume(volume: Volume, o: FitOptions): Promise<FitResult> {
  const source = o.source ?? "volume";
  const started = performance.now();
  checkVolume(volume, source);
  const shape = volume.shape;
  const N = volume.data.length;
  const iterations = Math.max(1, Math.floor(o.iterations ?? DEFAULT_ITERATIONS));
  const seed = o.seed ?? 1;
  const rng = new Random(seed);
  const lr = o.lr ?? 0.05;
  const radius = o.truncation ?? DEFAULT_TRUNCATION_SIGMA;
  const lambda = o.sparsity ?? 0.001;
  const cancelled = () => { if (o.signal?.aborted) throw new FitCancelledError(); };

  const times = o.profile;
  let tick = clock(times);
  o.onStage?.("preparing");
  const mapping = robustMapping(volume, source);
  const data = normalise(volume, mapping);
  const gate = occupancyGate(data, o.gate ?? 0.5);
  const edgeBoost = o.edgeBoost ?? 3;
  const target: FitTarget = { shape, data, edgeBoost, ...(edgeBoost !== 1 ? { edges: edgeMask(data, shape) } : {}) };
  cancelled();
  if (times) tick = times.lap("prepare (mapping, gate, edges)", tick);

  // budget: metadata is reserved at its largest form
  const meta = (psnr: number) => ({ tool: "volmicro", ...(o.recordSource ? { source: source.slice(-64) } : {}), seed, iterations, init: o.init ?? "pursuit", fit_psnr: Number(psnr.toFixed(2)) });
  const metaBytes = new TextEncoder().encode(JSON.stringify(meta(-999.99))).length;
  const capBytes = Math.min(o.budget.bytes ?? Infinity, o.budget.bpp !== undefined ? (o.budget.bpp * N) / 8 : Infinity);
  o.onStage?.("background");
  const background: BackgroundModel = o.fixedBackground
    ? inFieldUnits(o.fixedBackground, mapping)
    : initialBackground(o.background ?? "auto", data, gate, shape, Number.isFinite(capBytes) ? 0.05 * capBytes : 4096, seed).model;
  if (times) tick = times.lap("background init", tick);
  const encoding = o.encoding ?? "packed";
  const overhead = overheadBytes(background.params.length, [metaBytes]) + (encoding === "packed" ? PACKED_HEADER_BYTES : 0);
  // packed records have no fixed size: start from a typical 9.5 bytes, then measure (below)
  let budget = maxGaussians(o.budget, N, overhead, source, encoding === "packed" ? 9.5 : F16_RECORD_BYTES);
  const remeasure = (params: Float32Array, n: number): number => {
    if (encoding !== "packed" || !Number.isFinite(capBytes)) return budget;
    // the quantisation table is in `overhead` already: a small fit's bytes per Gaussian must not count it again
    const bpg = (encodePacked(params, n, choosePackedSteps(params, n, shape)).length - PACKED_HEADER_BYTES) / Math.max(1, n);
    return maxGaussians(o.budget, N, overhead, source, bpg * 1.02);
  };
  cancelled();

  // seeds
  o.onStage?.("seeding");
  const densify = o.densify ?? true;
  const startCount = densify ? Math.max(1, Math.round(0.7 * budget)) : budget;
  const minAmplitude = 0.01;
  let opt = initialGaussians(o, target, gate, background, startCount, minAmplitude, seed);
  let count = opt.length / OPT_STRIDE;
  if (count === 0) throw new NothingToFitError(source, "has no structure above its background to fit (is it empty?)");
  {
    const seedParams = new Float32Array(count * PARAMS_PER_GAUSSIAN);
    toFileParams(opt, count, shape, seedParams);
    budget = remeasure(seedParams, count);
  }
  cancelled();
  if (times) tick = times.lap("seeding", tick);

  const engine = o.engine ? await o.engine(target) : new LocalEngine(target, SLAB_VOXELS, times, o.kernel);
  const log: StepLog[] = [];
  try {
    const adam = new GaussianAdam(count);
    const bgAdam = new VectorAdam(background.params.length);
    let params = new Float32Array(count * PARAMS_PER_GAUSSIAN);
    const buffers = new StepBuffers();
    let gradNorm = new Float64Array(count);
    let gradSteps = new Int32Array(count);
    const peakField = (mapping.max - mapping.min) / mapping.scale;
    const densifyEvery = Math.max(10, Math.round(iterations / 24));
    const quantizeFrom = Math.floor(iterations * (1 - (o.quantizeFraction ?? 0.1)));
    const splitAbove = 1.5;
    const nSlabs = engine.slabs.length;
    const subsetSize = Math.min(nSlabs, Math.ceil((nSlabs * (o.batchVoxels ?? 4_000_000)) / N));
    const order = Int32Array.from({ length: nSlabs }, (_, i) => i);
    const pickSlabs = (): Int32Array => {
      for (let i = 0; i < subsetSize; i++) { // partial Fisher–Yates: a fresh random minibatch each step
        const j = i + rng.int(nSlabs - i);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      return order.slice(0, subsetSize);
    };
    o.onStage?.("optimising");

    let quantizer: Quantizer | undefined;
    let packing: PackedSteps | undefined;
    for (let step = 0; step < iterations; step++) {
      cancelled();
      if (step === quantizeFrom) {
        // From here on the loss sees the stored parameters. Packed: fix the quantisation now, from
        // the nearly final Gaussians, and re-measure what the budget buys with it.
        const current = new Float32Array(count * PARAMS_PER_GAUSSIAN);
        toFileParams(opt, count, shape, current);
        if (encoding === "packed") {
          budget = Math.min(budget, remeasure(current, count));
          if (count > budget) ({ opt, count } = keepStrongest(opt, count, budget, adam));
          const steps = choosePackedSteps(current, count, shape);
          packing = steps;
          quantizer = (p, n) => quantizePacked(p, n, steps, p);
        } else {
          quantizer = float16Quantizer;
        }
      }
      const quantize = quantizer !== undefined;
      const bgParams = quantize ? background.params.map(Math.fround) : background.params;
      const bgModel = { ...background, params: bgParams } as BackgroundModel;
      if (params.length !== count * PARAMS_PER_GAUSSIAN) params = new Float32Array(count * PARAMS_PER_GAUSSIAN);
      toFileParams(opt, count, shape, params, quantizer);
      if (times) tick = times.lap("step setup (params, quantisation)", tick);
      const r = await engine.evaluate({ params, count, background: bgModel, radius, gradients: true, ...(subsetSize < nSlabs ? { subset: pickSlabs() } : {}) });
      if (times) tick = times.lap("evaluate (engine)", tick);
      const Nb = r.voxels;
      // sparsity: λ · (1/N) Σ |amp|·mass — the L1 norm of the Gaussians' contribution per voxel, so λ
      // means the same on any volume size and Gaussian count
      const l1 = contributionL1(opt, count, radius);
      const loss = r.wsse / Nb + (lambda * l1) / N;
      const mseField = r.sse / Nb;
      const entry: StepLog = {
        step, loss, mse: mseField * mapping.scale ** 2,
        psnr: 10 * Math.log10(peakField ** 2 / Math.max(mseField, 1e-30)),
        gaussians: count, seconds: (performance.now() - started) / 1000,
      };

      // gradients
      const kernels = prepareKernels(params, shape, [1, 1, 1], radius);
      const scale = 2 / Nb;
      const { grad, touched } = buffers.gradients(count, r.moments!, scale, kernels, opt, radius, lambda / N, gradNorm, gradSteps);
      const bgGrad = r.bgGrad!;
      for (let i = 0; i < bgGrad.length; i++) bgGrad[i] = bgGrad[i]! * scale;
      if (times) tick = times.lap("chain rule", tick);

      // learning rates: positions decay 20× over the run, everything anneals 10× in the last 30 %
      const t = step / iterations;
      const anneal = t < 0.7 ? 1 : 1 - 0.9 * ((t - 0.7) / 0.3);
      const posLr = (o.rates?.position ?? 0.3) * Math.pow(0.05, t);
      const sLr = (o.rates?.logScale ?? 1) * lr * anneal, rLr = (o.rates?.rotation ?? 1) * lr * anneal;
      const rates = buffers.rates(posLr, sLr, rLr, lr * anneal);
      adam.step(opt, grad, count, rates, touched);
      if (!o.fixedBackground) bgAdam.step(background.params, bgGrad, (o.rates?.background ?? 0.2) * lr * anneal);
      clampScales(opt, count);
      if (times) tick = times.lap("adam", tick);

      // density control
      if (densify && step > 0 && step % densifyEvery === 0 && step < 0.8 * iterations) {
        // packed records cost what their entropy costs: re-measure what the budget buys now
        if (encoding === "packed") {
          const current = new Float32Array(count * PARAMS_PER_GAUSSIAN);
          toFileParams(opt, count, shape, current);
          budget = remeasure(current, count);
        }
        const cap = capacity(step, iterations, startCount, budget, 1.2);
        const before = count;
        const result = await densityStep({ opt, count, cap, budget, gradNorm, gradSteps, splitAbove, step, iterations, engine, target, background, radius, shape, minAmplitude, adam, times });
        opt = result.opt;
        count = result.count;
        gradNorm = new Float64Array(count);
        gradSteps = new Int32Array(count);
        entry.event = `density: ${before} → ${count} (cap ${cap})`;
        if (times) tick = times.lap("density control", tick);
      }
      log.push(entry);
      o.onStep?.(entry);
    }

    // the final parameters exactly as stored, under the hard cap
    if (count > budget) ({ opt, count } = keepStrongest(opt, count, budget, adam));
    if (times) tick = clock(times);
    const header = defaultHeader(shape, volume.dtype);
    if (volume.voxelSize) header.voxelSize = volume.voxelSize;
    if (volume.unit) header.unit = volume.unit;
    if (volume.origin) header.origin = [...volume.origin];
    header.valueOffset = mapping.offset;
    header.valueScale = mapping.scale;
    header.truncation = radius;
    header.encoding = encoding;
    const last = log[log.length - 1]!;
    let file: VmgFile, bytes: Uint8Array;
    for (;;) {
      const finalParams = new Float32Array(count * PARAMS_PER_GAUSSIAN);
      toFileParams(opt, count, shape, finalParams, quantizer ?? (encoding === "f16" ? float16Quantizer : undefined));
      file = {
        header, background: { ...background, params: background.params.map(Math.fround) } as BackgroundModel,
        gaussians: finalParams, count, sections: [], ...(packing ? { packing } : {}),
      };
      setMetadata(file, meta(last.psnr));
      bytes = writeVmg(file);
      if (bytes.length <= capBytes) break;
      // entropy-coded sizes are only known after coding: drop the weakest until it fits
      const over = Math.ceil(((bytes.length - capBytes) / bytes.length) * count) + 1;
      ({ opt, count } = keepStrongest(opt, count, count - over, adam));
    }
    budget = Math.min(budget, count);
    if (times) times.lap("write file", tick);
    return { file, bytes, log, budgetGaussians: budget, background: describeBackground(background), seconds: (performance.now() - started) / 1000 };
  } finally {
    await engine.close();
  }
}

/** A grid or constant background of stored values in the fit's field units ((v − offset)/scale, node by node). */
function inFieldUnits(bg: BackgroundModel, m: { offset: number; scale: number }): BackgroundModel {
  if (bg.kind === "polynomial") throw new RangeError("a fixed background is a grid or a constant");
  return { ...bg, params: bg.params.map((v) => (v - m.offset) / m.scale) };
}

/**
 * The buffers of one optimiser step, reused from step to step (grown when density control adds
 * Gaussians), so that a step leaves no garbage behind, and the step's arithmetic in a small method
 * that V8 optimises once instead of inside fitVolume's loop (each recompile of fitVolume costs
 * tens of milliseconds of a background thread, on every worker thread).
 */
class StepBuffers {
  private grad = new Float64Array(0);
  private touched = new Uint8Array(0);
  private readonly lr = new Float64Array(OPT_STRIDE);

  /**
   * dL/dopt of every Gaussian from the step's kernel moments `m` (scaled by `scale` in place) and
   * the sparsity term of weight `l1` (λ/N); Gaussians the minibatch did not reach are not
   * `touched` and keep their state (sparse Adam). Adds the positional gradient's norm to
   * `gradNorm`, counted in `gradSteps`.
   */
  gradients(count: number, m: Float64Array, scale: number, kernels: PreparedKernels, opt: Float64Array, radius: number, l1: number, gradNorm: Float64Array, gradSteps: Int32Array): { grad: Float64Array; touched: Uint8Array } {
    if (this.touched.length < count) { this.grad = new Float64Array(count * OPT_STRIDE); this.touched = new Uint8Array(count); }
    const grad = this.grad.subarray(0, count * OPT_STRIDE), touched = this.touched.subarray(0, count);
    grad.fill(0);
    for (let i = 0; i < m.length; i++) m[i] = m[i]! * scale;
    for (let i = 0; i < count; i++) touched[i] = m[i * MOMENT_STRIDE + M_R] !== 0 || m[i * MOMENT_STRIDE + M_E] !== 0 ? 1 : 0;
    for (let kid = 0; kid < kernels.count; kid++) {
      const i = kernels.source[kid]!;
      chainGradient(m, i * MOMENT_STRIDE, kernels.k, kid * KERNEL_STRIDE, opt, grad, i * OPT_STRIDE);
    }
    for (let i = 0; i < count; i++) {
      if (!touched[i]) continue;
      const a = i * OPT_STRIDE;
      const amp = opt[a + O_AMP]!, mass = gaussianMass(opt, i, radius);
      grad[a + O_AMP] = grad[a + O_AMP]! + l1 * Math.sign(amp) * mass;
      for (let j = 0; j < 3; j++) grad[a + O_LOGS + j] = grad[a + O_LOGS + j]! + l1 * Math.abs(amp) * mass;
      gradNorm[i] = gradNorm[i]! + Math.hypot(grad[a + O_POS]!, grad[a + O_POS + 1]!, grad[a + O_POS + 2]!);
      gradSteps[i] = gradSteps[i]! + 1;
    }
    return { grad, touched };
  }

  /** The step's learning rate of each optimiser column (positions, log-scales, rotation, amplitude). */
  rates(position: number, logScale: number, rotation: number, amplitude: number): Float64Array {
    const lr = this.lr;
    lr.fill(position, O_POS, O_POS + 3);
    lr.fill(logScale, O_LOGS, O_LOGS + 3);
    lr.fill(rotation, O_ROT, O_ROT + 4);
    lr[O_AMP] = amplitude;
    return lr;
  }
}

/** Σ |amp|·mass over the Gaussians: the L1 norm of their contribution, times the voxel count. */
function contributionL1(opt: Float64Array, count: number, radius: number): number {
  let l1 = 0;
  for (let i = 0; i < count; i++) l1 += Math.abs(opt[i * OPT_STRIDE + O_AMP]!) * gaussianMass(opt, i, radius);
  return l1;
}

/** Σ_v k(q(v)) of a Gaussian in voxels (continuous approximation): s_x s_y s_z · ∫k for unit scales. */
function gaussianMass(opt: Float64Array, i: number, radius: number): number {
  const b = i * OPT_STRIDE + O_LOGS;
  return kernelIntegral(radius, 1) * Math.exp(opt[b]! + opt[b + 1]! + opt[b + 2]!);
}

/** Seeds on the background-subtracted target (a function of its own, so its full-volume buffers die with it). */
function initialGaussians(o: FitOptions, target: FitTarget, gate: Uint8Array, background: BackgroundModel, count: number, minAmplitude: number, seed: number): Float64Array {
  const { shape, data } = target;
  const bgField = new Float32Array(data.length);
  fillBackground(background, shape, { z0: 0, z1: shape[0], y0: 0, y1: shape[1], x0: 0, x1: shape[2] }, [1, 1, 1], bgField);
  if ((o.init ?? "pursuit") === "knn") return knnSeeds(data, bgField, gate, shape, { count, k: o.knnK ?? 32, seed });
  return pursuitSeeds(subtractFrom(data, bgField), shape, { count, minAmplitude });
}

/** Keep the `n` Gaussians of largest energy (and their optimiser state). */
function keepStrongest(opt: Float64Array, count: number, n: number, adam: GaussianAdam): { opt: Float64Array; count: number } {
  const imp = Float64Array.from({ length: count }, (_, i) => importance(opt, i));
  const keep = largest(imp, Math.max(1, n)).sort((a, b) => a - b);
  adam.remap(keep, 0);
  return { opt: compact(opt, keep, new Float64Array(0)), count: keep.length };
}

/** Keep log-scales within [log 0.3, log 64] voxels: thinner kernels fall between voxels, wider ones are background's job. */
function clampScales(opt: Float64Array, count: number): void {
  const lo = Math.log(0.3), hi = Math.log(64);
  for (let i = 0; i < count; i++) for (let j = 0; j < 3; j++) {
    const a = i * OPT_STRIDE + O_LOGS + j;
    opt[a] = Math.min(hi, Math.max(lo, opt[a]!));
  }
}

interface DensityState {
  opt: Float64Array; count: number; cap: number; budget: number;
  gradNorm: Float64Array; gradSteps: Int32Array; splitAbove: number; step: number; iterations: number;
  engine: FitEngine; target: FitTarget; background: BackgroundModel; radius: number;
  shape: Volume["shape"]; minAmplitude: number; adam: GaussianAdam; times: PhaseTimes | undefined;
}

/**
 * One structure update, judged on the current residual (target − field):
 *  - prune Gaussians with negligible amplitude and, above the capacity, those whose removal costs
 *    least (first-order loss change, so a Gaussian that carries real structure is never dropped in
 *    favour of a redundant one merely because it is smaller);
 *  - below the capacity: split/clone where the mean positional gradient is largest, and spawn at
 *    residual peaks (half each);
 *  - at the capacity (after 40 % of the run): merge pairs of Gaussians that sit on one structure,
 *    give the freed slots to residual peaks, and swap up to 3 % of the cheapest Gaussians for
 *    residual peaks that gain more than they cost.
 */
async function densityStep(s: DensityState): Promise<{ opt: Float64Array; count: number }> {
  const tick = clock(s.times);
  const params = new Float32Array(s.count * PARAMS_PER_GAUSSIAN);
  toFileParams(s.opt, s.count, s.shape, params);
  const field = await s.engine.predict({ params, count: s.count, background: s.background, radius: s.radius });
  const residual = subtractFrom(s.target.data, field);
  if (s.times) s.times.lap("density/residual field", tick);
  return editStructure(s, residual);
}

/**
 * `target − field`, written over `field`. A loop of its own: inside densityStep (or
 * initialGaussians) its voxels had V8 compile the caller on the fly (OSR) before the code after
 * the loop had run, and that code then deoptimised there on every call for the isolate's life.
 */
function subtractFrom(target: Float32Array, field: Float32Array): Float32Array {
  for (let i = 0; i < field.length; i++) field[i] = target[i]! - field[i]!;
  return field;
}

/** densityStep's edits of `s.opt` against the residual (synchronous: the await stays in densityStep). */
function editStructure(s: DensityState, residual: Float32Array): { opt: Float64Array; count: number } {
  const { opt, count, cap, times } = s;
  let tick = clock(times);
  let keep = strongerThan(opt, count, s.minAmplitude / 4);
  const late = s.step / s.iterations >= 0.4;
  // removal costs and merge candidates only serve to free slots (pruning above the capacity, swaps
  // at it): computed before any edit of `opt`, and only when one of those will run
  const freeing = keep.length > cap || (keep.length >= cap && late) ? freeingEdits(s, residual) : undefined;
  if (freeing) tick = clock(times);
  if (keep.length > cap) keep = without(keep, planFreeing(opt, freeing!.cost, keep, freeing!.merges, keep.length - cap));
  const swapPhase = keep.length >= cap && late;
  const free = cap - keep.length;
  const nSplit = swapPhase ? 0 : Math.floor(free / 2);
  const children = nSplit > 0 ? splitByGradient(s, keep, nSplit) : new Float64Array(0);
  const nSwap = swapPhase ? Math.max(1, Math.round(0.03 * s.budget)) : 0;
  const nSpawn = swapPhase ? nSwap : free - nSplit;
  let spawned: Float64Array = new Float64Array(0);
  if (nSpawn > 0) {
    spawned = pursuitSeeds(Float32Array.from(residual), s.shape, { count: nSpawn, minAmplitude: s.minAmplitude });
    if (swapPhase) ({ keep, spawned } = swapForPeaks(s, residual, keep, spawned, freeing!));
  }
  if (times) tick = times.lap("density/split, spawn and swap", tick);
  const added = new Float64Array(children.length + spawned.length);
  added.set(children);
  added.set(spawned, children.length);
  const next = compact(opt, keep, added);
  s.adam.remap(keep, added.length / OPT_STRIDE);
  return { opt: next, count: next.length / OPT_STRIDE };
}

/** Indices of the Gaussians whose |amplitude| reaches `floor`. */
function strongerThan(opt: Float64Array, count: number, floor: number): number[] {
  const keep: number[] = [];
  for (let i = 0; i < count; i++) if (Math.abs(opt[i * OPT_STRIDE + O_AMP]!) >= floor) keep.push(i);
  return keep;
}

function without(keep: number[], drop: Set<number>): number[] {
  return keep.filter((i) => !drop.has(i));
}

/** Removal costs and merge candidates of `s.opt` against the residual. */
function freeingEdits(s: DensityState, residual: Float32Array): { cost: Float64Array; merges: FreeingEdit[] } {
  let t = clock(s.times);
  const { cost } = lossChanges(s.opt, s.count, residual, s.shape, s.radius);
  if (s.times) t = s.times.lap("density/loss changes", t);
  const merges = mergeEdits(s.opt, s.count, residual, s.shape, s.radius);
  if (s.times) s.times.lap("density/merge candidates", t);
  return { cost, merges };
}

/** Split or clone the `n` kept Gaussians of largest mean positional gradient; their second halves, row after row. */
function splitByGradient(s: DensityState, keep: number[], n: number): Float64Array {
  const meanGrad = Float64Array.from(keep, (i) => s.gradNorm[i]! / Math.max(1, s.gradSteps[i]!));
  const chosen = largest(meanGrad, n);
  const children = new Float64Array(chosen.length * OPT_STRIDE);
  for (let c = 0; c < chosen.length; c++) children.set(splitOrClone(s.opt, keep[chosen[c]!]!, s.splitAbove), c * OPT_STRIDE);
  return children;
}

/** Free slots by the cheapest removals or merges, each only while a residual peak of `spawned` gains more; the peaks that get one. */
function swapForPeaks(s: DensityState, residual: Float32Array, keep: number[], spawned: Float64Array, freeing: { cost: Float64Array; merges: FreeingEdit[] }): { keep: number[]; spawned: Float64Array } {
  const { gain } = lossChanges(spawned, spawned.length / OPT_STRIDE, residual, s.shape, s.radius);
  const byGain = largest(gain, gain.length);
  const drop = planFreeing(s.opt, freeing.cost, keep, freeing.merges, byGain.length, (c, k) => gain[byGain[k]!]! > c);
  return { keep: without(keep, drop), spawned: compact(spawned, byGain.slice(0, drop.size), new Float64Array(0)) };
}
