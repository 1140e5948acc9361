/**
 * `vmg compress <input> -o out.ome.zarr`: the chunked Gaussian store (docs/vmg-zarr-codec.md § 6).
 * Levels are made by 2× mean downsampling, every chunk of every level is fitted on its own block
 * (plus a halo) on worker threads, and the budget covers the whole store (metadata, shard indexes
 * and chunks, all levels). The input is read block by block and the levels below it are made chunk
 * by chunk into the run's scratch, so memory follows the block, not the volume. The store is written
 * in place as a run (store-run.ts, § 6.3): a planning pass fixes every chunk's byte cap, so chunks
 * can be fitted by any number of runs (`blocks`), and an interrupted run resumes; readers see the
 * store once its root zarr.json, written last, is there.
 *
 * One job model for every engine (local threads here, `--blocks i/N`, the queue in src/queue):
 * planStore + openStoreRun + buildScratch (the coordinator), jobBlock → fitChunk → StoreRun.stage
 * for job k (any worker, idempotent), assembleAndFinish (whoever sees shards ready).
 */
import "./wasm-kernel.js"; // the planning thread's kernel fixes the run's fit kernel path, and its in-process fits take it
import type { Shape3 } from "../core/gaussian.js";
import type { Box } from "../core/background.js";
import type { Volume } from "../core/volume.js";
import type { BackgroundChoice } from "../fit/background-init.js";
import { FitInputError } from "../fit/errors.js";
import { installedFitKernel, type FitKernelPath } from "../fit/objective.js";
import { FIT_KERNEL, FIT_KERNEL_LAYOUT, fitKernelSettings, plannedFitKernel } from "../store/fit-kernel.js";
import { GAUSSIAN_CODEC_VERSION, type GaussianCodecConfig } from "../store/codec/config.js";
import { readChunk } from "../store/codec/chunk.js";
import { nodesOnlyBytes, type ChunkJob } from "../store/block-fit.js";
import { chunkNodes, NODES, solveNodes } from "../store/continuous-background.js";
import { allocateCaps, chunkCosts, levelChunkBytes, NO_GAINS, type BlockStats } from "../store/allocation.js";
import { checkPlannedBlock, planBlock, planIsCheap, voxelCrc, type BlockPlanStats, type PlanHow } from "../store/block-plan.js";
import { allocate, arrayMetadata, chunkBox, groupMetadata, halfGeometry, levelCount, levelIndexBytes, planLevel, type LevelGeometry, type LevelPlan } from "../store/plan.js";
import { shardChunks } from "../store/shard.js";
import { failedBlock, inShare, makeManifest, planInputsKey, type FailedBlock, type JobPlace, type LevelLayout, type PlannedJob, type PlannedShard, type RunManifest } from "../store/manifest.js";
import { allShards, encodeJobTable, jobCount, jobPlace, levelJobCounts, memoryJobTable, type JobTable } from "../store/job-table.js";
import { VolumeReadError, VolumeWriteError } from "../io/errors.js";
import { cutBox, memorySource, type VolumeSource } from "../io/region.js";
import { InputStats } from "../store/plan-stats.js";
import { pyramidChunks } from "../store/pyramid.js";
import { BlockPool } from "./block-pool.js";
import { LevelScratch, type PrivateScratch } from "./level-scratch.js";
import { assertResumable, peekRun, planId, StoreRun, type RunMode } from "./store-run.js";
import { fileJobTable } from "./job-table-file.js";
import { PhaseClock, type PhaseTime } from "./phase-clock.js";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { availableParallelism } from "node:os";

export { blockCrc } from "../store/block-plan.js";

export interface StoreWriteOptions {
  /** Inner chunk edge (voxels) and shard edge (a multiple of it). */
  chunk: number;
  shard: number;
  /** Whole-store byte cap. */
  bytes: number;
  halo: number;
  iterations: number;
  seed: number;
  encoding: "packed" | "f16";
  /** Each chunk fits its own (constant, poly0..4; the CLI's default poly1), or "continuous": one trilinear background per level on a lattice through the chunks' corners, fixed by the plan (store/continuous-background.ts). */
  background: BackgroundChoice | "continuous";
  gate: number;
  threads?: number;
  /**
   * "slope" (default): chunk caps at one common rate-distortion slope (store/allocation.ts);
   * "energy": ∝ L1 energy above the chunk's mean; "uniform": equal shares.
   */
  allocation?: "slope" | "energy" | "uniform";
  /** Which Gaussians of a block its chunk keeps (ChunkJob.keep). */
  keep?: "centre" | "overlap";
  name: string;
  /** Fit only jobs k with k mod count = index (`--blocks i/N`): one of many stateless runs on the same store. */
  blocks?: { index: number; count: number };
  /** Continue the run at the path (`--resume`): refuse when there is none of the same plan. */
  resume?: boolean;
  /** Jobs done of this run's jobs, and the voxels of their chunks. */
  onProgress?: (done: number, total: number, voxels: number) => void;
  /** Where the run's phases are timed (wall, process CPU, the calling thread's CPU). */
  clock?: PhaseClock;
}

export interface StoreWriteResult {
  /** Whether the store is whole (this run or another wrote its last shard); the figures below are the store's only then. */
  complete: boolean;
  /** Chunks this run fitted, chunks of its share it found already done, shards it assembled. */
  fitted: number;
  skipped: number;
  assembled: number;
  /** Blocks whose fit failed (the others are staged; a later run retries these). */
  failed: FailedBlock[];
  bytes: number;
  levels: LevelStats[];
  /** The input's data range (max − min), the PSNR peak of a report. */
  peak: number;
  /** Wall and CPU seconds of each phase of this run (planning, scratch, fits, assembly). */
  phases: PhaseTime[];
}

interface LevelStats { shape: Shape3; chunks: number; fitted: number; background: number; absent: number; bytes: number }

/** A written store's bytes (every file but the run's) and chunk counts per level. */
interface StoreFigures { bytes: number; levels: LevelStats[] }

/** Smallest cap a structured chunk gets: a packed table and a few Gaussians. */
const MIN_CHUNK_BYTES = 96;
const FILL = 0;

/** The settings a block job takes from the plan (the manifest's `settings`). */
export type JobSettings = Pick<StoreWriteOptions, "chunk" | "halo" | "gate" | "iterations" | "seed" | "background"> & { keep: "centre" | "overlap"; kernel: FitKernelPath };

/** What makes a block job: where each level's voxels are read, the levels' layout, every chunk's cap, the codec and settings. */
export interface BlockPlan {
  config: GaussianCodecConfig;
  levels: LevelPlan[];
  /** Every job's cap and CRC, read one at a time (a table in memory for the planning run, its file otherwise). */
  jobs: JobTable;
  settings: JobSettings;
  /** Per level, the nodes of its continuous background (RunManifest.backgrounds), when the settings' background is "continuous". */
  backgrounds?: number[][];
  /** Level 0 from the input, levels ≥ 1 from the run's scratch (written by buildScratch before their jobs run). */
  source: (level: number) => Promise<VolumeSource>;
}

/** What assembling shards and finishing a store need: the manifest's layout (jobs and shards follow from the levels), no voxels. */
export interface RunLayout {
  config: GaussianCodecConfig;
  levels: LevelLayout[];
  chunk: number;
}

/** What the planning pass fixes before any fit: levels, metadata, every chunk's byte cap and CRC, the manifest. */
export interface StorePlan extends BlockPlan, RunLayout {
  levels: LevelPlan[];
  meta: Map<string, Uint8Array>;
  manifest: RunManifest;
  /** The job table's bytes when this run planned (StoreRun.open writes them beside the manifest); none for a plan read from the run's manifest. */
  table?: Uint8Array;
  /** The levels below the input, made chunk by chunk into the run's staging area. */
  scratch: LevelScratch;
  /** The levels the planning walk wrote aside, published when the run opens (openStoreRun), else none. */
  early?: PrivateScratch;
  /** The input, read block by block. */
  input: VolumeSource;
  /** The input's data range (max − min). */
  peak: number;
}

/**
 * Writes the store at `path`, or this run's share of it, on local worker threads, reading `input`
 * block by block (a volume in memory is read the same way): the planning pass, the run opened, the
 * levels below the input written to its scratch (unless there already), the jobs of the share not
 * yet staged fitted and staged (a failing block is recorded and the others go on), and the shards
 * whose chunks are all staged assembled.
 */
export async function writeGaussianStore(path: string, input: Volume | VolumeSource, o: StoreWriteOptions): Promise<StoreWriteResult> {
  const clock = o.clock ?? new PhaseClock();
  // one pool for the planning pass and the fits; its threads boot while the input's statistics are read
  const starting = BlockPool.start(o.threads ?? availableParallelism());
  try {
    return await writeOnPool(path, "data" in input ? memorySource(input, path) : input, o, clock, starting);
  } finally {
    await starting.then((p) => p.close(), () => {});
  }
}

async function writeOnPool(path: string, source: VolumeSource, o: StoreWriteOptions, clock: PhaseClock, pool: Promise<BlockPool>): Promise<StoreWriteResult> {
  // a --blocks task or a resumed run takes the plan of the run there (opened by --plan-only, an earlier task, the interrupted run) instead of reading the whole input again
  const opened = o.blocks || o.resume ? await clock.time("plan: the run's manifest", () => (o.resume ? resumedPlan(path, source, o) : planFromRun(path, source, o))) : undefined;
  const plan = opened ?? (await planStore(path, source, { ...o, clock }, pool));
  const run = await clock.time("open", () => openStoreRun(path, plan, o.resume ? "resume" : o.blocks ? "share" : "fresh"));
  let fitted = 0, skipped = 0, assembled = 0, finished: StoreFigures | undefined;
  const failed: FailedBlock[] = [];
  try {
    if (!(await run.complete())) {
      // the jobs of the share not staged yet: their numbers only (each job's cap and CRC are read when it runs)
      const todo: number[] = [], place = (i: number) => jobPlace(plan.levels, todo[i]!)!;
      for (let k = 0; k < plan.jobs.count; k++) {
        if (!inShare(k, o.blocks)) continue;
        if (await run.staged(jobPlace(plan.levels, k)!)) skipped++;
        else todo.push(k);
      }
      await longestFirst(todo, plan.jobs);
      const level0 = levelJobCounts(plan.levels)[0]!;
      if (todo.some((k) => k >= level0)) await clock.time("scratch", () => buildScratch(plan));
      const stage = async (i: number, bytes: Uint8Array | undefined) => { await run.stage(place(i), bytes); fitted++; };
      let doneVoxels = 0;
      const p = await pool;
      const failures = await clock.time("fit", () => p.fitChunks(todo.length, (i) => plannedJobBlock(plan, todo[i]!, source.name), stage, (d, i) => {
        doneVoxels += jobVoxels(plan, todo[i]!);
        o.onProgress?.(d, todo.length, doneVoxels);
      }));
      // a late duplicate's jobs can fail once the run that completed the store has cleared its staging (the level scratch with it)
      // reported in the plan's order of jobs, whatever order they ran in
      const byJob = failures.map((f) => ({ k: todo[f.index]!, error: f.error })).sort((a, b) => a.k - b.k);
      if (!(await run.complete())) for (const f of byJob) failed.push(failedBlock(plan.levels, jobPlace(plan.levels, f.k)!, o.chunk, f.error.message, 1));
      ({ assembled, stats: finished } = await clock.time("assemble", () => assembleAndFinish(run, plan, plan.meta, o.bytes)));
    }
  } catch (e) {
    // a late duplicate can find the staging area removed under it by the run that completed the store: nothing is left to do
    if (!(await run.complete())) throw e;
  }
  const complete = await run.complete();
  if (complete) await run.clearStaging();
  // the figures the budget check took when this run finished the store; read them only if another run did
  const stats = complete ? (finished ?? (await storeStats(path, plan))) : { bytes: 0, levels: [] };
  return { complete, fitted, skipped, assembled, failed, ...stats, peak: plan.peak, phases: clock.phases };
}

/**
 * Orders jobs (indices into `jobs`) by their planned byte cap, largest first, ties by index: a
 * chunk's bytes buy its Gaussians, which set the cost of its fit, so the long fits start first and
 * the last to start are short ones (a long fit started last leaves the other threads idle until it
 * ends). A job's bytes do not depend on when it runs.
 */
export async function longestFirst(todo: number[], jobs: JobTable): Promise<void> {
  // one read of the table, checked whole (a missing or foreign table fails the task here); a damaged record sorts last, its block fails when it runs
  const caps = await jobs.caps(todo);
  const order = Array.from(todo.keys()).sort((a, b) => caps[b]! - caps[a]! || todo[a]! - todo[b]!);
  const sorted = order.map((i) => todo[i]!);
  for (let i = 0; i < sorted.length; i++) todo[i] = sorted[i]!;
}

/**
 * The plan step run once before `--blocks` tasks (`--plan-only`): the planning pass, the run opened
 * (or joined, when one of the same plan is there; another store is refused, not replaced) and the
 * levels below the input written to its scratch. Nothing is fitted.
 */
export async function openPlannedRun(path: string, source: VolumeSource, o: StoreWriteOptions): Promise<{ plan: StorePlan; complete: boolean; phases: PhaseTime[] }> {
  const clock = o.clock ?? new PhaseClock();
  const plan = await planStore(path, source, { ...o, clock });
  const run = await clock.time("open", () => openStoreRun(path, plan, "share"));
  const complete = await run.complete();
  if (!complete) await clock.time("scratch", () => buildScratch(plan));
  return { plan, complete, phases: clock.phases };
}

/** Opens (or joins, or resumes) the run of the plan at `path` (StoreRun.open): the coordinator's step before any fit. */
export async function openStoreRun(path: string, plan: StorePlan, mode: RunMode): Promise<StoreRun> {
  let run: StoreRun;
  try {
    run = await StoreRun.open(path, plan.manifest, mode, plan.table);
  } catch (e) {
    // refused (another input or settings): its levels must not reach the run's scratch; a failed clean-up must not hide why
    await plan.early?.discard().catch(() => undefined);
    throw e;
  }
  if (plan.early) await (await run.complete() ? plan.early.discard() : plan.early.publish());
  return run;
}

/** Writes the levels below the input into the run's scratch (after the run is open; idempotent, a no-op once there). */
export function buildScratch(plan: StorePlan): Promise<void> {
  return plan.scratch.build((box) => plan.input.read(box));
}

/**
 * Assembles every shard whose chunks are all staged and, once every shard is, checks the budget and
 * finishes the store (metadata, the root's last): whoever sees the shards ready does it, as often as
 * it likes.
 */
export async function assembleAndFinish(run: StoreRun, layout: RunLayout, meta: Map<string, Uint8Array>, budget: number): Promise<{ assembled: number; complete: boolean; stats?: StoreFigures }> {
  const a = await run.assemble(allShards(layout.levels));
  let stats: StoreFigures | undefined;
  if (a.ready && !(await run.complete())) {
    stats = await storeStats(run.root, { ...layout, meta });
    if (stats.bytes > budget) throw new FitInputError(run.root, `a budget of ${budget} bytes is too small for ${jobCount(layout.levels)} chunks and their metadata (they take ${stats.bytes}); raise it or use larger chunks`);
    await run.finish(meta);
  }
  return { assembled: a.assembled, complete: await run.complete(), ...(stats ? { stats } : {}) };
}

/** The layout a manifest records (what a queue worker assembling or finishing needs). */
export function runLayout(m: RunManifest): RunLayout {
  return { config: m.codec, levels: m.levels, chunk: Number(m.settings.chunk) };
}

/**
 * A worker's plan for the jobs of a run opened elsewhere: level 0 read from its own source of the
 * input, the levels below from the run's scratch (the coordinator writes it before queueing), the
 * caps, CRCs, codec and settings from the manifest (no planning pass; the CRCs the planning pass
 * computed tell whether its read is the planned input).
 */
export function blockPlanFromManifest(input: VolumeSource, store: string, m: RunManifest, jobs: JobTable): BlockPlan {
  return manifestPlan(input, store, m, jobs).plan;
}

/** blockPlanFromManifest's plan and the level scratch its sources read. */
function manifestPlan(input: VolumeSource, store: string, m: RunManifest, jobs: JobTable): { plan: BlockPlan; scratch: LevelScratch } {
  if (input.dtype !== m.input.dtype || input.shape.some((n, a) => n !== m.input.shape[a])) {
    throw new VolumeReadError(input.name, `is ${input.shape.join("×")} ${input.dtype}, but the run at ${store} was planned for ${m.input.shape.join("×")} ${m.input.dtype}: give every worker and task the input and read options the run was planned with`);
  }
  const chunk = Number(m.settings.chunk), shard = Number(m.settings.shard);
  const levels = levelGeometry(input, m.levels.length).map((g, i) => planLevel(i, g, chunk, shard));
  const settings: JobSettings = {
    chunk, halo: Number(m.settings.halo), gate: Number(m.settings.gate), iterations: Number(m.settings.iterations), seed: Number(m.settings.seed),
    background: m.settings.background as JobSettings["background"], keep: m.settings.keep as JobSettings["keep"], kernel: fitKernelFor(store, m),
  };
  const scratch = new LevelScratch(store, levels, input.dtype, chunk);
  return { plan: { config: m.codec, levels, jobs, settings, ...(m.backgrounds ? { backgrounds: m.backgrounds } : {}), source: levelSources(input, scratch) }, scratch };
}

/** The fit kernel path the run at `store` was planned with, refused in one line where this thread cannot take it (store/fit-kernel.ts). */
function fitKernelFor(store: string, m: RunManifest): FitKernelPath {
  const k = plannedFitKernel(m.settings);
  if ("problem" in k) throw new VolumeWriteError(store, k.problem);
  return k.path;
}

/** The whole plan a manifest makes (a --blocks task's, planFromRun): the block plan with the layout, metadata, CRCs and scratch. */
function storePlanFromManifest(input: VolumeSource, store: string, m: RunManifest): StorePlan {
  const { plan: b, scratch } = manifestPlan(input, store, m, fileJobTable(store, m, planId(m))), chunk = b.settings.chunk;
  return { ...b, chunk, manifest: m, meta: storeMetadata(b.levels, input, chunk, String(m.settings.name), m.codec), scratch, input, peak: m.input.peak };
}

/**
 * The plan of the run open at `path` when it was planned with `o`'s settings (a `--blocks` task
 * after `--plan-only` or an earlier task): read from its manifest, so the task reads only its own
 * blocks, each checked against the planned CRC. Undefined when there is no run there (the task
 * plans itself); a run of other settings is refused, naming them.
 */
export async function planFromRun(path: string, source: VolumeSource, o: StoreWriteOptions, advice = "every task of a store must be given the settings it was planned with"): Promise<StorePlan | undefined> {
  const { manifest } = await peekRun(path);
  if (!manifest) return undefined;
  const mine = recordedSettings(o), theirs = manifest.settings;
  // the fit kernel is the host's, not a setting: manifestPlan checks that this host can take the planned one
  const differ = Object.keys({ ...mine, ...theirs }).filter((k) => k !== FIT_KERNEL && k !== FIT_KERNEL_LAYOUT && String(mine[k]) !== String(theirs[k]));
  if (differ.length) {
    const said = differ.map((k) => `${k} ${theirs[k] ?? "unset"}, not ${mine[k] ?? "unset"}`).join("; ");
    throw new VolumeWriteError(path, `holds a run planned with other settings (${said}): ${advice}`);
  }
  return storePlanFromManifest(source, path, manifest);
}

/**
 * `--resume`: the plan of the interrupted run at `path`, from its manifest (no planning pass),
 * refused in one line naming the store when there is none, when it was planned with other settings
 * or another input's shape or type, or when the input's voxels are not those planned (its first and
 * last level-0 blocks checked against their planned CRC-32 now; every block the run fits is checked
 * again before its fit, as a --blocks task's).
 */
export async function resumedPlan(path: string, source: VolumeSource, o: StoreWriteOptions): Promise<StorePlan> {
  await assertResumable(path);
  const advice = "resume with the settings it was planned with, or run without --resume to replace it";
  const plan = (await planFromRun(path, source, o, `cannot resume it: ${advice}`))!;
  const level0 = levelJobCounts(plan.levels)[0]!;
  for (const k of new Set([0, level0 - 1])) {
    try {
      await plannedJobBlock(plan, k, source.name);
    } catch (e) {
      if (!(e instanceof VolumeReadError)) throw e;
      throw new VolumeWriteError(path, `cannot resume it: the input is not the one its run was planned with (${e.message}); resume with that input, or run without --resume to replace the store`, { cause: e });
    }
  }
  return plan;
}

/** Job k's block, refused when its voxels are not those the plan's CRC was taken of (the input changed since planning). */
async function plannedJobBlock(plan: StorePlan, k: number, input: string): Promise<ChunkJob> {
  const j = await plan.jobs.job(k), job = await blockFor(plan, j);
  checkPlannedBlock(job, j.crc, input, { level: j.level, chunk: j.chunk, box: chunkBox(plan.levels[j.level]!, j.chunk, plan.chunk) }, "since the store's run was planned");
  return job;
}

/** The settings the manifest records (every one the store's bytes depend on besides the input). */
function recordedSettings(o: StoreWriteOptions): RunManifest["settings"] {
  return {
    chunk: o.chunk, shard: o.shard, bytes: o.bytes, halo: o.halo, iterations: o.iterations, seed: o.seed, encoding: o.encoding,
    background: o.background, gate: o.gate, allocation: o.allocation ?? "slope", keep: o.keep ?? "overlap", name: o.name,
    ...(o.background === "continuous" ? { background_nodes: NODES } : {}),
  };
}

/** The store's metadata: the root group's, then each level's array (its codec configuration and calibration). */
function storeMetadata(levels: LevelPlan[], source: Pick<VolumeSource, "unit" | "dtype">, chunk: number, name: string, config: GaussianCodecConfig): Map<string, Uint8Array> {
  const meta = new Map<string, Uint8Array>([["/zarr.json", groupMetadata(levels, source.unit, name)]]);
  levels.forEach((l) => meta.set(`/${l.path}/zarr.json`, arrayMetadata(l, source.dtype, chunk, config, FILL)));
  return meta;
}

/** Job k's block and settings, ready for a fit: the one step from a planned job to the voxels it fits. */
export async function jobBlock(plan: BlockPlan, k: number): Promise<ChunkJob> {
  return blockFor(plan, await plan.jobs.job(k));
}

/** The block of job `j` of the plan, with its cap (and its nodes of the level's continuous background, if any). */
async function blockFor(plan: BlockPlan, j: PlannedJob): Promise<ChunkJob> {
  const level = plan.levels[j.level]!, nodes = plan.backgrounds?.[j.level];
  const job = await blockJob(await plan.source(j.level), level, j.chunk, plan.settings, plan.config, voxelCount(plan.levels[0]!.shape));
  return { ...job, bytes: j.bytes, ...(nodes ? { nodes: chunkNodes(nodes, level.chunkGrid, j.chunk) } : {}) };
}


/** Voxels of job k's chunk inside its level (what progress counts). */
export function jobVoxels(plan: Pick<RunLayout, "levels" | "chunk">, k: number): number {
  const j = jobPlace(plan.levels, k)!, b = chunkBox(plan.levels[j.level]!, j.chunk, plan.chunk);
  return (b.z1 - b.z0) * (b.y1 - b.y0) * (b.x1 - b.x0);
}

/** Each level's shape and calibration: the input's, then halved until `count` levels. */
function levelGeometry(input: VolumeSource, count: number): LevelGeometry[] {
  const geometry: LevelGeometry[] = [input];
  for (let i = 1; i < count; i++) geometry.push(halfGeometry(geometry[i - 1]!));
  return geometry;
}

/** Where each level's blocks are read: the input for level 0, the scratch below (each opened once). */
function levelSources(input: VolumeSource, scratch: LevelScratch): (level: number) => Promise<VolumeSource> {
  const sources = new Map<number, Promise<VolumeSource>>([[0, Promise.resolve(input)]]);
  return (level) => {
    let s = sources.get(level);
    if (!s) {
      s = scratch.source(level);
      s.catch(() => sources.delete(level)); // a failed open is tried again by the next job, not remembered
      sources.set(level, s);
    }
    return s;
  };
}

/**
 * The planning pass (the coordinator's first step, on every engine), block by block: the input's
 * statistics (value mapping, fingerprint) from its level-0 chunks in C order, then every chunk's
 * allocation statistics and CRC from the levels made chunk by chunk (pyramidChunks), the pursuit of
 * each structured chunk on `pool`'s worker threads (or a pool of its own), the walk and the empty
 * chunks on this one; nothing but a chunk's region of each level and the blocks in flight is held,
 * and per chunk a bounded summary of its gains (BlockStats). It writes nothing but the levels
 * below the input, on the way, into a private scratch that openStoreRun publishes once the run has
 * accepted the plan (scratchOnTheWay), after the budget's check: a budget too small is refused
 * before the output exists, and a failed pass removes only what it wrote.
 */
export async function planStore(path: string, source: VolumeSource, o: StoreWriteOptions, pool?: Promise<BlockPool>): Promise<StorePlan> {
  if (!(o.shard % o.chunk === 0)) throw new FitInputError(path, `--shard ${o.shard} is not a multiple of --chunk ${o.chunk}`);
  if (o.resume) await assertResumable(path); // where there is no run, say so before the pass
  const levels = levelGeometry(source, levelCount(source.shape, o.chunk)).map((g, i) => planLevel(i, g, o.chunk, o.shard));
  const clock = o.clock ?? new PhaseClock();
  const input = new InputStats(source.shape, source.dtype, path);
  const g0 = levels[0]!.chunkGrid;
  // each level-0 job's block as its fit will read it (chunk and halo): the CRC a later read is checked against
  const inputCrcs: number[] = [];
  await clock.time("plan: input statistics", async () => {
    for (let cz = 0; cz < g0[0]; cz++) for (let cy = 0; cy < g0[1]; cy++) for (let cx = 0; cx < g0[2]; cx++) {
      const box = chunkBox(levels[0]!, [cz, cy, cx], o.chunk), read = blockBox(levels[0]!, box, o.halo);
      const block = await source.read(read);
      inputCrcs.push(voxelCrc(block.data));
      input.add(box, o.halo === 0 ? block.data : cutBox(block, shiftBox(box, read)).data);
    }
  });
  const mapping = input.mapping();
  const config: GaussianCodecConfig = { version: GAUSSIAN_CODEC_VERSION, encoding: o.encoding, truncation: 3, valueOffset: mapping.offset, valueScale: mapping.scale };
  const settings: JobSettings = { chunk: o.chunk, halo: o.halo, gate: o.gate, iterations: o.iterations, seed: o.seed, background: o.background, keep: o.keep ?? "overlap", kernel: installedFitKernel() };
  const meta = storeMetadata(levels, source, o.chunk, o.name, config);
  const fixed = [...meta.values()].reduce((n, b) => n + b.length, 0) + levels.reduce((n, l) => n + levelIndexBytes(l), 0);
  const chunkBytes = o.bytes - fixed;
  const continuous = o.background === "continuous";
  const costs = chunkCosts(o.background, o.encoding, [o.chunk, o.chunk, o.chunk]);
  const emptyBytes = costs.empty;
  const chunkCount = levels.reduce((n, l) => n + l.chunkGrid[0] * l.chunkGrid[1] * l.chunkGrid[2], 0);
  if (chunkBytes < chunkCount * emptyBytes) {
    throw new FitInputError(path, `a budget of ${o.bytes} bytes does not cover the store's metadata and shard indexes (${fixed} bytes) and ${chunkCount} chunks`);
  }
  const perLevel = levelChunkBytes(chunkBytes, o.bytes, levels.map((l) => ({
    voxels: l.shape[0] * l.shape[1] * l.shape[2], fixed: meta.get(`/${l.path}/zarr.json`)!.length + levelIndexBytes(l), min: emptyBytes * l.chunkGrid[0] * l.chunkGrid[1] * l.chunkGrid[2],
  })));

  // the allocation, from each block's statistics: fixed here, so no run needs another's results
  // (one common slope: each block's pursuit gains; or the older weights of energy and uniform)
  const slope = (o.allocation ?? "slope") === "slope";
  const perChunk = <T>(fill: T) => levels.map((l) => new Array<T>(l.chunkGrid[0] * l.chunkGrid[1] * l.chunkGrid[2]).fill(fill));
  const weights = perChunk(0), crcs = perChunk(0), stats = perChunk<BlockStats>(NO_GAINS), nodes = perChunk<Float32Array | undefined>(undefined);
  const how = levels.map((_, li): PlanHow => ({ allocation: o.allocation ?? "slope", maxGaussians: 0, crc: li > 0, nodes: continuous }));
  // no block can hold more Gaussians than its level's bytes buy (or than it has voxels, planBlock's bound)
  levels.forEach((_, li) => (how[li]!.maxGaussians = Math.floor(perLevel[li]! / costs.perGaussian)));
  const recorded = { ...recordedSettings(o), ...fitKernelSettings() };
  const inputId = { shape: source.shape, dtype: source.dtype, crc32: input.crc32, peak: mapping.max - mapping.min };
  const identity = makeManifest(inputId, recorded, config, levels, encodeJobTable([]));
  const scratch = new LevelScratch(path, levels, source.dtype, o.chunk);
  const early = await scratchOnTheWay(path, scratch, identity, o.resume === true);
  await clock.time("plan: block statistics", () => withPool(pool, o.threads, chunkCount, async (p) => {
    const chunks = pyramidChunks((box) => source.read(box), levels, o.chunk);
    // task i is the walk's i-th chunk (tasks are made in index order): where its statistics go
    const at = new Int32Array(2 * chunkCount);
    const failures = await p.run<BlockPlanStats>(chunkCount, async (i) => {
      const next = await chunks.next();
      if (next.done) throw new Error("the pyramid walk ended early"); // an earlier chunk's read failed, and is reported
      const { level, chunk: c, data: v } = next.value, g = levels[level]!.chunkGrid;
      at[2 * i] = level; at[2 * i + 1] = (c[0] * g[1] + c[1]) * g[2] + c[2];
      await early?.put(level, c, v);
      const job = chunkJob(v, [0, 0, 0], v.shape, settings, config, voxelCount(levels[0]!.shape));
      if (planIsCheap(job, how[level]!)) return { local: planBlock(job, how[level]!) };
      // the walk still needs the voxels (a coarser chunk is made of them): the worker gets a copy
      return { post: { kind: "plan", job: { ...job, block: { ...job.block, data: v.data.slice() } }, how: how[level]! } };
    }, async (i, r) => {
      const li = at[2 * i]!, k = at[2 * i + 1]!;
      stats[li]![k] = r.stats; weights[li]![k] = r.weight; crcs[li]![k] = r.crc; nodes[li]![k] = r.nodes;
    });
    if (failures.length) throw failures[0]!.error;
    await early?.finish();
  })).catch(async (e: unknown) => {
    // a planning pass that fails removes what it wrote (and the output path only if it made it and nothing else is there)
    await early?.discard().catch(() => undefined); // the planning error is the one to say
    throw e;
  });
  const jobs: PlannedJob[] = [];
  // each level's continuous background: one solve over its chunks' corner statistics
  const backgrounds = continuous ? await clock.time("plan: continuous background", async () => levels.map((l, li) => Array.from(solveNodes(l.chunkGrid, nodes[li]!)))) : undefined;
  await clock.time("plan: allocation", async () => levels.forEach((l, li) => {
    // a continuous background's background-only chunk is absent, a constant or its nodes: they say which
    const empty = backgrounds ? levelChunks(l).map((c) => nodesOnlyBytes(chunkNodes(backgrounds[li]!, l.chunkGrid, c), { block: { dtype: source.dtype }, chunk: [o.chunk, o.chunk, o.chunk], config, fill: FILL })) : undefined;
    const caps = slope ? allocateCaps(stats[li]!, perLevel[li]!, costs, empty) : allocate(weights[li]!, perLevel[li]!, MIN_CHUNK_BYTES, emptyBytes);
    levelChunks(l).forEach((c, k) => jobs.push({ level: li, chunk: c, bytes: caps[k]!, crc: li === 0 ? inputCrcs[k]! : crcs[li]![k]! }));
  }));
  const table = encodeJobTable(jobs);
  const manifest = makeManifest(inputId, recorded, config, levels, table, backgrounds);
  return {
    config, levels, meta, jobs: memoryJobTable(levels, table), table, ...(backgrounds ? { backgrounds } : {}), manifest, settings, chunk: o.chunk,
    scratch, ...(early ? { early } : {}), input: source, source: levelSources(source, scratch), peak: mapping.max - mapping.min,
  };
}

/** A level of a plan: its chunks, those given bytes for Gaussians (fitted) and the background-only ones (empty), their caps summed. */
export interface PlannedLevel { shape: Shape3; chunks: number; fitted: number; empty: number; bytes: number }

/** What the planning pass fixed, level by level (what `--plan-only` reports). */
export async function plannedLevels(plan: Pick<BlockPlan, "levels" | "jobs" | "settings" | "config">): Promise<PlannedLevel[]> {
  const empty = chunkCosts(plan.settings.background, plan.config.encoding, [plan.settings.chunk, plan.settings.chunk, plan.settings.chunk]).empty;
  const out: PlannedLevel[] = plan.levels.map((l) => ({ shape: l.shape, chunks: 0, fitted: 0, empty: 0, bytes: 0 }));
  for (let k = 0; k < plan.jobs.count; k++) {
    const j = await plan.jobs.job(k);
    const l = out[j.level]!;
    l.chunks++; l.bytes += j.bytes;
    if (j.bytes > empty) l.fitted++; else l.empty++;
  }
  return out;
}

/** Bytes and chunk counts of the store as written (its shards and metadata). */
export async function storeStats(path: string, plan: RunLayout & { meta: Map<string, Uint8Array> }): Promise<StoreFigures> {
  const chunk = plan.chunk;
  const levels: LevelStats[] = plan.levels.map((l) => ({ shape: l.shape, chunks: 0, fitted: 0, background: 0, absent: 0, bytes: plan.meta.get(`/${l.path}/zarr.json`)!.length }));
  let bytes = plan.meta.get("/zarr.json")!.length + levels.reduce((n, l) => n + l.bytes, 0);
  for (const s of allShards(plan.levels)) {
    const ls = levels[s.level]!;
    const present = s.jobs.filter((k) => k >= 0).length;
    ls.chunks += present;
    let inner: Array<Uint8Array | undefined>;
    try {
      const b = new Uint8Array(await readFile(join(path, s.path)));
      ls.bytes += b.length; bytes += b.length;
      inner = shardChunks(b, s.jobs.length);
    } catch (e) {
      if ((e as { code?: string }).code !== "ENOENT") throw e;
      ls.absent += present; // a shard of absent chunks has no file
      continue;
    }
    s.jobs.forEach((k, i) => {
      if (k < 0) return;
      const c = inner[i];
      if (!c) ls.absent++;
      else if (readChunk(c, [chunk, chunk, chunk], plan.config).count === 0) ls.background++;
      else ls.fitted++;
    });
  }
  return { bytes, levels };
}

/** The chunk's block, read from its level: its voxels plus `halo` on every side, clipped to the level. */
async function blockJob(src: VolumeSource, l: LevelPlan, c: Shape3, o: JobSettings, config: GaussianCodecConfig, storeVoxels: number): Promise<ChunkJob> {
  const box = chunkBox(l, c, o.chunk), read = blockBox(l, box, o.halo);
  const at = shiftBox(box, read);
  return chunkJob(await src.read(read), [at.z0, at.y0, at.x0], [box.z1 - box.z0, box.y1 - box.y0, box.x1 - box.x0], o, config, storeVoxels);
}

/** A chunk's block: its box and `halo` voxels on every side, clipped to the level. */
function blockBox(l: Pick<LevelPlan, "shape">, box: Box, halo: number): Box {
  return {
    z0: Math.max(0, box.z0 - halo), z1: Math.min(l.shape[0], box.z1 + halo), y0: Math.max(0, box.y0 - halo), y1: Math.min(l.shape[1], box.y1 + halo),
    x0: Math.max(0, box.x0 - halo), x1: Math.min(l.shape[2], box.x1 + halo),
  };
}

/** `box` in the frame of `outer` (which holds it). */
function shiftBox(box: Box, outer: Box): Box {
  return { z0: box.z0 - outer.z0, z1: box.z1 - outer.z0, y0: box.y0 - outer.y0, y1: box.y1 - outer.y0, x0: box.x0 - outer.x0, x1: box.x1 - outer.x0 };
}

/** The job of a block whose chunk starts at `offset` and has `valid` voxels inside the level. */
function chunkJob(block: Volume, offset: Shape3, valid: Shape3, o: JobSettings, config: GaussianCodecConfig, storeVoxels: number): ChunkJob {
  return {
    block: { shape: block.shape, dtype: block.dtype, data: block.data }, offset, valid, chunk: [o.chunk, o.chunk, o.chunk], bytes: 0,
    gate: o.gate, config, fill: FILL, iterations: o.iterations, storeVoxels, seed: o.seed, background: o.background, keep: o.keep, kernel: o.kernel,
  };
}

const voxelCount = (s: Shape3) => s[0] * s[1] * s[2];

/** A level's chunk positions [z, y, x] in C order. */
function levelChunks(l: LevelPlan): Shape3[] {
  const out: Shape3[] = [];
  for (let cz = 0; cz < l.chunkGrid[0]; cz++) for (let cy = 0; cy < l.chunkGrid[1]; cy++) for (let cx = 0; cx < l.chunkGrid[2]; cx++) out.push([cz, cy, cx]);
  return out;
}

/** Runs `f` on `pool`, or on a pool of its own (at most one thread per task, closed after). */
async function withPool<T>(pool: Promise<BlockPool> | undefined, threads: number | undefined, tasks: number, f: (p: BlockPool) => Promise<T>): Promise<T> {
  if (pool) return f(await pool);
  const own = await BlockPool.start(Math.max(1, Math.min(threads ?? availableParallelism(), tasks)));
  try {
    return await f(own);
  } finally {
    await own.close();
  }
}

/**
 * The planning walk's writer of the levels (so the input is not walked again for them once the run
 * is open), private until openStoreRun publishes it, when the run will likely take it: the path is
 * new or empty, or holds an unfinished run of this input and settings whose scratch is not complete.
 * Otherwise (another store or run, which opening the run replaces or refuses) undefined, and
 * buildScratch writes the levels after the run is open.
 */
async function scratchOnTheWay(path: string, scratch: LevelScratch, identity: RunManifest, resume: boolean): Promise<PrivateScratch | undefined> {
  const { there, manifest } = await peekRun(path);
  if (scratch.levels.length < 2) return undefined;
  if (there === "absent" || there === "empty") return resume ? undefined : scratch.privateWriter();
  // the manifest's jobs (the byte caps) follow from its input and settings: compare the rest (a complete store needs no levels)
  const same = manifest !== undefined && !manifest.complete && planInputsKey(manifest) === planInputsKey(identity);
  return same && !(await scratch.complete()) ? scratch.privateWriter() : undefined;
}
