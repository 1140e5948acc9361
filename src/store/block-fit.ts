/**
 * One chunk of the store from its block of data (docs/vmg-zarr-codec.md § 4): the fitter runs on
 * the chunk's voxels plus a halo of `halo` voxels on every side (clipped to the volume), so
 * Gaussians near a face are fitted with their neighbourhood in the loss; the chunk keeps those
 * whose support reaches it, moved into its frame and the store's value mapping. A chunk with
 * nothing above the fitter's gate is a background-only chunk (a few bytes), or absent when that
 * background stores the fill value everywhere.
 */
import { constantBackground, fillBackground, type BackgroundModel, type Box } from "../core/background.js";
import { P_AMP, P_ROT, P_SCALE, PARAMS_PER_GAUSSIAN } from "../core/constants.js";
import { allocVoxels, type DType, type VoxelArray } from "../core/dtype.js";
import { roundToHalf } from "../core/float16.js";
import { covariance, volumeDiagonal, type Shape3 } from "../core/gaussian.js";
import type { Volume } from "../core/volume.js";
import { fieldToValues } from "../decode/values.js";
import type { BackgroundChoice } from "../fit/background-init.js";
import { FitInputError, NothingToFitError } from "../fit/errors.js";
import { DEFAULT_ITERATIONS, fitVolume } from "../fit/fitter.js";
import type { FitKernelPath } from "../fit/objective.js";
import { clock, type PhaseTimes } from "../fit/profile.js";
import { PACKED_HEADER_BYTES } from "../format/packed.js";
import { HEADER_BYTES } from "../format/vmg.js";
import type { GaussianCodecConfig } from "./codec/config.js";
import { chunkOverheadBytes, encodeChunk, halfGrid } from "./codec/chunk.js";
import { CHUNK_NODES, NODES } from "./continuous-background.js";
import { DEFAULT_STORE_ITERATIONS } from "./plan.js";
import { TYPICAL_TABLE_BYTES } from "./codec/chunk-table.js";
import { rebaseBackground, rebaseGaussians, type Frame } from "./rebase.js";

/** What a chunk's fit needs, as plain data (it crosses to a worker thread). */
export interface ChunkJob {
  /** The block: the chunk's voxels plus the halo inside the volume, stored values, x fastest. */
  block: { shape: Shape3; dtype: DType; data: VoxelArray };
  /** Block voxel index [z, y, x] of the chunk's voxel 0, and the chunk's voxels inside the volume. */
  offset: Shape3;
  valid: Shape3;
  /** The chunk's declared shape. */
  chunk: Shape3;
  /** Byte cap of the chunk. */
  bytes: number;
  /** The fit kernel path the store's run records (store/fit-kernel.ts): every engine fits the block on it. */
  kernel: FitKernelPath;
  /** Normalised units ((value − a)/b) above which a voxel is structure: a chunk with none is empty. */
  gate: number;
  config: GaussianCodecConfig;
  fill: number;
  iterations: number;
  /** Voxels of the store's level 0 (its input): a small store's blocks get more steps (blockSteps). */
  storeVoxels: number;
  seed: number;
  /** The fit's background model, or "continuous": the store's, fixed by the plan (`nodes`). */
  background: BackgroundChoice | "continuous";
  /**
   * The chunk's NODES³ nodes of its level's continuous background (field units, float16 numbers, z,
   * y, x order, x fastest; store/continuous-background.ts): the chunk's background, which its fit
   * does not change, so neighbours agree on their shared face. Set with `background` "continuous".
   */
  nodes?: number[];
  /**
   * Which of the block's Gaussians the chunk keeps: "overlap" (default), every one whose support
   * reaches it, so the chunk decodes the block fit's field on its voxels; "centre", only those
   * whose centre lies in it, which drops the tails that neighbours' Gaussians cast across a face
   * (bench/store-study.ts on DIADEM at 0.5 bpp, 32³ chunks, halo 4: face voxels 30.7 dB against 38.9 dB
   * with "overlap"; docs/vmg-zarr-codec.md § 6.2).
   */
  keep?: "centre" | "overlap";
}

/**
 * Bytes of the container the fitter writes around the Gaussians that a chunk does not: header,
 * META section (12-byte head and about 80 bytes of JSON: tool, seed, iterations, init, fit PSNR),
 * CRC, and for packed payloads the file's 45-byte table where a chunk has its compact one. The block's Gaussians that reach the chunk are nearly all of them (its halo is narrower
 * than their support), so the block's fit gets the chunk's cap, not a share scaled by its halo'd
 * voxels (that bought Gaussians the drop loop below then threw away).
 */
const FILE_OVERHEAD = HEADER_BYTES + 12 + 80 + 4;
const fileOverhead = (encoding: GaussianCodecConfig["encoding"]) => FILE_OVERHEAD + (encoding === "packed" ? PACKED_HEADER_BYTES - TYPICAL_TABLE_BYTES : 0);

/** What a chunk's bytes depend on besides its content: its dtype, shape, codec and fill value. */
export interface ChunkTarget { block: { dtype: DType }; chunk: Shape3; config: GaussianCodecConfig; fill: number }

export function blockValid(job: ChunkJob): Box {
  const [oz, oy, ox] = job.offset, [vz, vy, vx] = job.valid;
  return { z0: oz, z1: oz + vz, y0: oy, y1: oy + vy, x0: ox, x1: ox + vx };
}

/** The chunk's valid voxels in field units ((value − a)/b), z, y, x order. */
export function validField(job: ChunkJob): Float64Array {
  const [, ny, nx] = job.block.shape, box = blockValid(job);
  const out = new Float64Array((box.z1 - box.z0) * (box.y1 - box.y0) * (box.x1 - box.x0));
  let k = 0;
  for (let z = box.z0; z < box.z1; z++) for (let y = box.y0; y < box.y1; y++) for (let x = box.x0; x < box.x1; x++) {
    out[k++] = (job.block.data[(z * ny + y) * nx + x]! - job.config.valueOffset) / job.config.valueScale;
  }
  return out;
}

/**
 * Mean of the chunk's field and whether any voxel exceeds the gate: one pass over the block that
 * allocates nothing (the gate of every chunk, empty ones included). The mean is validField's summed
 * in its order; the gate is tested on the largest value, which (v − a)/b maps monotonically.
 */
function chunkStats(job: ChunkJob): { mean: number; structured: boolean } {
  const [, ny, nx] = job.block.shape, box = blockValid(job), data = job.block.data;
  const a = job.config.valueOffset, b = job.config.valueScale;
  let sum = 0, max = -Infinity;
  for (let z = box.z0; z < box.z1; z++) for (let y = box.y0; y < box.y1; y++) {
    for (let i = (z * ny + y) * nx + box.x0, end = i + box.x1 - box.x0; i < end; i++) {
      const v = data[i]!;
      sum += (v - a) / b;
      if (v > max) max = v;
    }
  }
  return { mean: sum / (job.valid[0] * job.valid[1] * job.valid[2]), structured: (max - a) / b > job.gate };
}

/**
 * The gate, before any fit: `{ bytes }` (a background-only chunk, or undefined: absent) when the
 * block has nothing above the gate or is too thin to fit, else undefined; a FitInputError when a
 * voxel is NaN or infinite. The store's worker pool calls it before sending a block to a worker,
 * so an empty block costs one pass over its voxels.
 */
export function gatedChunk(job: ChunkJob, stats = chunkStats(job)): { bytes: Uint8Array | undefined } | undefined {
  return isGated(job, stats) ? { bytes: backgroundChunk(chunkBackground(job, stats.mean), job) } : undefined;
}

/** Whether the gate finds the block empty or too thin to fit (gatedChunk without the chunk's bytes: what planning asks). */
export function isGated(job: ChunkJob, stats = chunkStats(job)): boolean {
  // a NaN or infinite voxel makes the sum so (the planning pass refused them: the input changed since, or is corrupt)
  if (!Number.isFinite(stats.mean)) throw new FitInputError("block", "contains NaN or infinite voxels: the input is corrupt, or changed since the store was planned");
  return !(stats.structured && job.block.shape.every((n) => n >= 2));
}

/**
 * The background a chunk stores when it has no Gaussians of its own: its nodes of the store's
 * continuous background (a constant when they are all one value: 7 bytes), or the constant of its mean.
 */
function chunkBackground(job: ChunkJob, mean: number): BackgroundModel {
  return job.background === "continuous" ? nodesOnly(planNodes(job)) : constantBackground(mean);
}

/** A background-only chunk's model of its nodes: a constant when they are all one value. */
function nodesOnly(nodes: number[]): BackgroundModel {
  return nodes.every((c) => c === nodes[0]) ? constantBackground(nodes[0]!) : halfGrid(nodes, NODES);
}

/** Bytes of the background-only chunk of `nodes` (0: absent), for the plan's allocation. */
export function nodesOnlyBytes(nodes: number[], target: ChunkTarget): number {
  return backgroundChunk(nodesOnly(nodes), target)?.length ?? 0;
}

/** The job's planned nodes (a job of the continuous background without them is a bug in its plan). */
function planNodes(job: ChunkJob): number[] {
  if (job.nodes?.length !== CHUNK_NODES) throw new RangeError(`a chunk of a continuous background needs its ${CHUNK_NODES} planned nodes`);
  return job.nodes;
}

/**
 * A background-only chunk, or undefined when it would store the fill value everywhere: a constant
 * that maps to it, or corners whose least and largest do (every voxel of a trilinear field lies
 * between them; a margin of 10⁻⁶ covers the evaluation's rounding).
 */
function backgroundChunk(bg: BackgroundModel, job: ChunkTarget): Uint8Array | undefined {
  if (bg.kind !== "polynomial") {
    const p = bg.params.map(Math.fround), lo = Math.min(...p), hi = Math.max(...p), margin = bg.kind === "grid" ? 1e-6 * (1 + Math.abs(lo) + Math.abs(hi)) : 0;
    const ends = allocVoxels(job.block.dtype, 2);
    fieldToValues(Float32Array.of(lo - margin, hi + margin), job.block.dtype, job.config.valueOffset, job.config.valueScale, ends);
    if (ends[0] === job.fill && ends[1] === job.fill) return undefined;
  }
  return encodeChunk({ background: { ...bg, params: bg.params.map(Math.fround) } as BackgroundModel, gaussians: new Float32Array(0), count: 0 }, job.chunk, job.config);
}

/** At most this many times a full chunk's steps for a chunk the volume's edge cuts short. */
export const MAX_STEP_FACTOR = 5;

/**
 * A store of at most this many level-0 voxels is small: its blocks get more steps, up to the file
 * fitter's steps per voxel (smallStoreSteps), so that its level 0 costs about the voxel-steps of a
 * store of this many voxels at the default steps (about 45 CPU-s on trailmap's blocks; edge chunks,
 * halos and the coarser levels add to it as in any store).
 */
export const SMALL_STORE_VOXELS = 2 ** 22;
/** The most a small store multiplies its steps by: the file fitter's default steps per the store's. */
const SMALL_STORE_FACTOR = DEFAULT_ITERATIONS / DEFAULT_STORE_ITERATIONS;

/**
 * The least steps of any block of a store of `storeVoxels` level-0 voxels: `iterations` for a large
 * store, and for a small one up to SMALL_STORE_FACTOR× as many, so that its level 0's voxel-steps
 * come to about SMALL_STORE_VOXELS × `iterations` (DIADEM 92×77×86 at the default: 600 steps, the
 * file's; a 128³ store 320). An explicit `--iterations` is scaled the same way: it sets the steps of
 * a full chunk of a large store. A small store's single file fits every voxel with the file's steps, and its
 * store's few blocks cost seconds: 160 steps lost DIADEM 0.4 dB (bench/results/store.md).
 */
export function smallStoreSteps(iterations: number, storeVoxels: number): number {
  return Math.round(iterations * Math.min(SMALL_STORE_FACTOR, Math.max(1, SMALL_STORE_VOXELS / storeVoxels)));
}

/**
 * A block's fitter steps: `iterations` for a full chunk, and for a chunk the volume's edge cuts
 * short the same voxel-steps (a step's cost grows with the block's voxels), up to
 * MAX_STEP_FACTOR× as many: small blocks are cheap and the steps are where their PSNR is (DIADEM
 * 92×77×86, whose 64³ chunks are mostly edge chunks: 38.09 dB at 120 steps, 38.79 at 600); and in
 * a small store (`storeVoxels` level-0 voxels) at least smallStoreSteps. A pure function of the
 * job, so every engine fits a block the same.
 */
export function blockSteps(iterations: number, chunk: Shape3, valid: Shape3, storeVoxels = Infinity): number {
  const full = chunk[0] * chunk[1] * chunk[2], inside = valid[0] * valid[1] * valid[2];
  const edge = Math.min(MAX_STEP_FACTOR * iterations, Math.max(iterations, Math.round((iterations * full) / inside)));
  return Math.max(edge, smallStoreSteps(iterations, storeVoxels));
}

/**
 * The chunk's bytes (or undefined: absent, the fill value), never more than `job.bytes`. `times`
 * collects wall time per phase (bench/fit-profile.ts).
 */
export async function fitChunk(job: ChunkJob, times?: PhaseTimes): Promise<Uint8Array | undefined> {
  let tick = clock(times);
  const stats = chunkStats(job);
  const gated = gatedChunk(job, stats);
  if (times) tick = times.lap("gate (block statistics)", tick);
  if (gated) return gated.bytes;
  const flat = chunkBackground(job, stats.mean);
  const fixed = job.background === "continuous" ? halfGrid(planNodes(job), NODES) : undefined;
  // what the chunk stores of it: a constant where its nodes are all one value (6 bytes, not 59: a
  // sparse volume's zero background), which decodes the same field
  const stored = job.background === "continuous" ? nodesOnly(planNodes(job)) : undefined;
  // a fixed background: the fit's volume is the block less it (in stored values), over a background of 0
  const volume: Volume = fixed ? residualBlock(job, fixed) : { shape: job.block.shape, dtype: job.block.dtype, data: job.block.data };
  // the fitter's file then holds a 4-byte constant where the chunk holds its nodes: the fit has that less to spend
  const extra = stored ? 4 - chunkOverheadBytes(stored, 1) : 0;
  let fit;
  try {
    fit = await fitVolume(volume, {
      budget: { bytes: job.bytes + fileOverhead(job.config.encoding) + extra },
      iterations: blockSteps(job.iterations, job.chunk, job.valid, job.storeVoxels), seed: job.seed, truncation: job.config.truncation,
      ...(fixed ? { fixedBackground: constantBackground(0) } : { background: job.background as BackgroundChoice }),
      encoding: job.config.encoding, gate: job.gate, kernel: job.kernel, ...(times ? { profile: times } : {}),
    });
    if (times) tick = clock(times);
  } catch (e) {
    // too small a cap for a Gaussian, or nothing above the background: the chunk is its background. Any
    // other refusal (NaN or infinite voxels: the input changed or is corrupt) fails the block, to be
    // reported with its region, rather than storing a background where data was
    if (e instanceof NothingToFitError) return backgroundChunk(flat, job);
    throw e;
  }
  const h = fit.file.header;
  const value = { gain: h.valueScale / job.config.valueScale, shift: (h.valueOffset - job.config.valueOffset) / job.config.valueScale };
  const frame: Frame = { block: job.block.shape, chunk: job.chunk, offset: job.offset };
  const background = stored ?? rebaseBackground(fit.file.background, frame, value);
  const src = fit.file.gaussians, r = job.config.truncation;
  const reach = (c: [number, number, number], i: number) => {
    const b = i * PARAMS_PER_GAUSSIAN;
    const cov = covariance(src[b + P_SCALE]!, src[b + P_SCALE + 1]!, src[b + P_SCALE + 2]!, src[b + P_ROT]!, src[b + P_ROT + 1]!, src[b + P_ROT + 2]!, src[b + P_ROT + 3]!);
    const half = [cov[0], cov[3], cov[5]].map((v) => r * Math.sqrt(v));
    return c.every((v, a) => v + half[a]! >= -0.5 && v - half[a]! < job.valid[2 - a]! - 0.5);
  };
  const inside = (c: [number, number, number]) => c.every((v, a) => v >= -0.5 && v < job.valid[2 - a]! - 0.5);
  const { gaussians, count } = rebaseGaussians(src, fit.file.count, frame, value, job.keep === "centre" ? inside : reach);
  clampScales(gaussians, count, job.chunk);
  const storedBg = storedBackground(background, job);
  if (times) tick = times.lap("rebase into the chunk", tick);
  const encode = (n: number) => {
    const kept = n === count ? { gaussians, count } : strongest(gaussians, count, n);
    return encodeChunk({ background: storedBg, gaussians: kept.gaussians, count: kept.count }, job.chunk, job.config);
  };
  let bytes = encode(count);
  if (bytes.length > job.bytes) {
    // entropy-coded sizes are known only after coding: the most of the strongest that fit, by
    // bisection (a chunk's size grows with its count, nearly always strictly)
    let lo = 0, hi = count; // encode(lo) fits (or lo = 0), encode(hi) does not
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (encode(mid).length <= job.bytes) lo = mid; else hi = mid;
    }
    bytes = encode(lo);
  }
  if (times) times.lap("encode chunk (drop until it fits)", tick);
  return bytes.length <= job.bytes ? bytes : backgroundChunk(flat, job);
}

/**
 * The block less the chunk's background `bg` (its grid over the chunk, evaluated as the decoder does
 * at the block's voxels: exactly on the chunk's, held at its outer nodes in a halo), in stored
 * values, float32: what the fit runs on, so any block, an edge chunk's or one with a halo, sees
 * the background its chunk will decode.
 */
function residualBlock(job: ChunkJob, bg: BackgroundModel): Volume {
  const [bz, by, bx] = job.block.shape, [oz, oy, ox] = job.offset;
  const field = new Float32Array(bz * by * bx);
  fillBackground(bg, job.chunk, { z0: -oz, z1: bz - oz, y0: -oy, y1: by - oy, x0: -ox, x1: bx - ox }, [1, 1, 1], field);
  const a = job.config.valueOffset, b = job.config.valueScale, data = job.block.data;
  for (let i = 0; i < field.length; i++) field[i] = data[i]! - (a + b * field[i]!);
  return { shape: job.block.shape, dtype: "float32", data: field };
}

/** A polynomial may move no voxel by more than this many stored units for its coefficients to be stored as float16. */
const HALF_POLYNOMIAL_TOLERANCE = 0.25;

/**
 * The background as the chunk stores it: float32, or a polynomial's coefficients as float16 (codec
 * kind 4: 8 bytes fewer at degree 1, 1 % of a 64³ chunk at 0.073 bpp on DIADEM) where that moves no
 * voxel of an integer type by more than a quarter of a stored unit. The monomials are at most 1 in
 * magnitude inside the chunk, so Σ |Δc| · value_scale bounds the change; a u8 volume's coefficients
 * nearly always pass, a u16 one's where its background is dark.
 */
function storedBackground(bg: BackgroundModel, job: ChunkJob): BackgroundModel {
  const f32 = bg.params.map(Math.fround);
  if (bg.kind === "polynomial" && job.block.dtype !== "float32") {
    const half = f32.map(roundToHalf);
    const moved = half.reduce((s, h, i) => s + Math.abs(h - f32[i]!), 0) * Math.abs(job.config.valueScale);
    if (moved <= HALF_POLYNOMIAL_TOLERANCE) return { ...bg, params: half };
  }
  return { ...bg, params: f32 } as BackgroundModel;
}

/** σ within the chunk's bound (its diagonal, § 5 of the codec spec): wider is background there. */
function clampScales(g: Float32Array, count: number, chunk: Shape3): void {
  const max = Math.fround(volumeDiagonal(chunk) * (1 - 2 ** -20));
  for (let i = 0; i < count; i++) for (let a = 0; a < 3; a++) {
    const k = i * PARAMS_PER_GAUSSIAN + P_SCALE + a;
    g[k] = Math.min(g[k]!, max);
  }
}

/** The `n` Gaussians of largest |amp| · σx σy σz, in their order. */
function strongest(g: Float32Array, count: number, n: number): { gaussians: Float32Array; count: number } {
  const b = (i: number) => i * PARAMS_PER_GAUSSIAN;
  const energy = (i: number) => Math.abs(g[b(i) + P_AMP]!) * g[b(i) + P_SCALE]! * g[b(i) + P_SCALE + 1]! * g[b(i) + P_SCALE + 2]!;
  const keep = Array.from({ length: count }, (_, i) => i).sort((i, j) => energy(j) - energy(i) || i - j).slice(0, n).sort((i, j) => i - j);
  const out = new Float32Array(keep.length * PARAMS_PER_GAUSSIAN);
  keep.forEach((i, k) => out.set(g.subarray(b(i), b(i) + PARAMS_PER_GAUSSIAN), b(k)));
  return { gaussians: out, count: keep.length };
}
