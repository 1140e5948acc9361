/**
 * `vmg compress <input> -o out.ome.zarr`: the chunked Gaussian store (docs/vmg-zarr-codec.md § 6).
 * Levels are made by 2× mean downsampling, every chunk of every level is fitted on its own block
 * (plus a halo) on worker threads, and the budget covers the whole store (metadata, shard indexes
 * and chunks, all levels). The store is written in place as a run (store-run.ts, § 6.3): a planning
 * pass fixes every chunk's byte cap, so chunks can be fitted by any number of runs (`blocks`), and an
 * interrupted run resumes; readers see the store once its root zarr.json, written last, is there.
 */
import type { Shape3 } from "../core/gaussian.js";
import type { Volume } from "../core/volume.js";
import type { BackgroundChoice } from "../fit/background-init.js";
import { FitInputError } from "../fit/errors.js";
import { robustMapping } from "../fit/prepare.js";
import { GAUSSIAN_CODEC_VERSION, type GaussianCodecConfig } from "../store/codec/config.js";
import { chunkOverheadBytes, readChunk } from "../store/codec/chunk.js";
import { allocVoxels } from "../core/dtype.js";
import { validField, type ChunkJob } from "../store/block-fit.js";
import { allocateCaps, blockStats, chunkCosts, levelChunkBytes, type BlockStats } from "../store/allocation.js";
import { allocate, arrayMetadata, chunkBox, downsample2, groupMetadata, levelCount, levelIndexBytes, planLevel, type LevelPlan } from "../store/plan.js";
import { shardChunks } from "../store/shard.js";
import { inShare, makeManifest, plannedShards, type PlannedJob, type PlannedShard, type RunManifest } from "../store/manifest.js";
import { constantBackground } from "../core/background.js";
import { crc32 } from "../format/crc32.js";
import { fitChunksOnWorkers } from "./block-pool.js";
import { StoreRun } from "./store-run.js";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

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
  background: BackgroundChoice;
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
  onProgress?: (done: number, total: number) => void;
}

export interface StoreWriteResult {
  /** Whether the store is whole (this run or another wrote its last shard); the figures below are the store's only then. */
  complete: boolean;
  /** Chunks this run fitted, chunks of its share it found already done, shards it assembled. */
  fitted: number;
  skipped: number;
  assembled: number;
  bytes: number;
  levels: LevelStats[];
}

interface LevelStats { shape: Shape3; chunks: number; fitted: number; background: number; absent: number; bytes: number }

/** Smallest cap a structured chunk gets: a packed table and a few Gaussians. */
const MIN_CHUNK_BYTES = 96;
const FILL = 0;

/** What the planning pass fixes before any fit: levels, metadata, every chunk's byte cap, the manifest. */
interface StorePlan {
  config: GaussianCodecConfig;
  volumes: Volume[];
  levels: LevelPlan[];
  meta: Map<string, Uint8Array>;
  jobs: PlannedJob[];
  shards: PlannedShard[];
  manifest: RunManifest;
}

/**
 * Writes the store at `path`, or this run's share of it. Planning comes first and touches no file
 * (a budget too small is refused before the output exists); then the run is opened, its jobs not yet
 * staged are fitted and staged one by one, and every shard whose chunks are all staged is assembled.
 */
export async function writeGaussianStore(path: string, volume: Volume, o: StoreWriteOptions): Promise<StoreWriteResult> {
  const plan = planStore(path, volume, o);
  const run = await StoreRun.open(path, plan.manifest, o.resume ? "resume" : o.blocks ? "share" : "fresh");
  let fitted = 0, skipped = 0, assembled = 0;
  try {
    if (!(await run.complete())) {
      const todo: number[] = [];
      for (let k = 0; k < plan.jobs.length; k++) {
        if (!inShare(k, o.blocks)) continue;
        if (await run.staged(plan.jobs[k]!)) skipped++;
        else todo.push(k);
      }
      const makeJob = (i: number): ChunkJob => {
        const j = plan.jobs[todo[i]!]!;
        return { ...blockJob(plan.volumes[j.level]!, plan.levels[j.level]!, j.chunk, o, plan.config), bytes: j.bytes };
      };
      const stage = async (i: number, bytes: Uint8Array | undefined) => { await run.stage(plan.jobs[todo[i]!]!, bytes); fitted++; };
      await fitChunksOnWorkers(todo.length, makeJob, stage, o.threads, (d) => o.onProgress?.(d, todo.length));
      const a = await run.assemble(plan.shards, plan.jobs);
      assembled = a.assembled;
      if (a.ready && !(await run.complete())) {
        const stats = await storeStats(path, plan, o.chunk);
        if (stats.bytes > o.bytes) throw new FitInputError(path, `a budget of ${o.bytes} bytes is too small for ${plan.jobs.length} chunks and their metadata (they take ${stats.bytes}); raise it or use larger chunks`);
        await run.finish(plan.meta);
      }
    }
  } catch (e) {
    // a late duplicate can find the staging area removed under it by the run that completed the store: nothing is left to do
    if (!(await run.complete())) throw e;
  }
  const complete = await run.complete();
  if (complete) await run.clearStaging();
  const stats = complete ? await storeStats(path, plan, o.chunk) : { bytes: 0, levels: [] };
  return { complete, fitted, skipped, assembled, ...stats };
}

function planStore(path: string, volume: Volume, o: StoreWriteOptions): StorePlan {
  if (!(o.shard % o.chunk === 0)) throw new FitInputError(path, `--shard ${o.shard} is not a multiple of --chunk ${o.chunk}`);
  const mapping = robustMapping(volume, path);
  const config: GaussianCodecConfig = { version: GAUSSIAN_CODEC_VERSION, encoding: o.encoding, truncation: 3, valueOffset: mapping.offset, valueScale: mapping.scale };
  const volumes: Volume[] = [volume];
  for (let i = 1; i < levelCount(volume.shape, o.chunk); i++) volumes.push(downsample2(volumes[i - 1]!));
  const levels = volumes.map((v, i) => planLevel(i, v, o.chunk, o.shard));
  const meta = new Map<string, Uint8Array>([["/zarr.json", groupMetadata(levels, volume.unit, o.name)]]);
  levels.forEach((l) => meta.set(`/${l.path}/zarr.json`, arrayMetadata(l, volume.dtype, o.chunk, config, FILL)));
  const fixed = [...meta.values()].reduce((n, b) => n + b.length, 0) + levels.reduce((n, l) => n + levelIndexBytes(l), 0);
  const chunkBytes = o.bytes - fixed;
  const emptyBytes = chunkOverheadBytes(constantBackground(0), 0);
  const perLevel = levelChunkBytes(chunkBytes, o.bytes, levels.map((l, i) => ({
    voxels: volumes[i]!.data.length, fixed: meta.get(`/${l.path}/zarr.json`)!.length + levelIndexBytes(l), min: emptyBytes * l.chunkGrid[0] * l.chunkGrid[1] * l.chunkGrid[2],
  })));
  const costs = chunkCosts(o.background, o.encoding, [o.chunk, o.chunk, o.chunk]);

  // the allocation, from each block's statistics: fixed here, so no run needs another's results
  const jobs: PlannedJob[] = [];
  const slope = (o.allocation ?? "slope") === "slope";
  for (let li = 0; li < volumes.length; li++) {
    const v = volumes[li]!, l = levels[li]!;
    const weights: number[] = [], stats: BlockStats[] = [], at: Shape3[] = [];
    const levelBytes = perLevel[li]!;
    for (let cz = 0; cz < l.chunkGrid[0]; cz++) for (let cy = 0; cy < l.chunkGrid[1]; cy++) for (let cx = 0; cx < l.chunkGrid[2]; cx++) {
      const job = blockJob(v, l, [cz, cy, cx], o, config);
      if (slope) stats.push(blockStats(validField(job), job.valid, o.gate, Math.floor(levelBytes / costs.perGaussian)));
      else weights.push(o.allocation === "uniform" ? (hasStructure(job) ? 1 : 0) : energyAboveMean(job));
      at.push([cz, cy, cx]);
    }
    const caps = slope ? allocateCaps(stats, levelBytes, costs) : allocate(weights, levelBytes, MIN_CHUNK_BYTES, emptyBytes);
    at.forEach((chunk, k) => jobs.push({ level: li, chunk, bytes: caps[k]! }));
  }
  if (chunkBytes < jobs.length * emptyBytes) {
    throw new FitInputError(path, `a budget of ${o.bytes} bytes does not cover the store's metadata and shard indexes (${fixed} bytes) and ${jobs.length} chunks`);
  }
  const settings = {
    chunk: o.chunk, shard: o.shard, bytes: o.bytes, halo: o.halo, iterations: o.iterations, seed: o.seed, encoding: o.encoding,
    background: o.background, gate: o.gate, allocation: o.allocation ?? "slope", keep: o.keep ?? "overlap", name: o.name,
  };
  const data = new Uint8Array(volume.data.buffer, volume.data.byteOffset, volume.data.byteLength);
  const manifest = makeManifest({ shape: volume.shape, dtype: volume.dtype, crc32: crc32(data) }, settings, config, levels, jobs);
  return { config, volumes, levels, meta, jobs, shards: plannedShards(levels, jobs), manifest };
}

/** Bytes and chunk counts of the store as written (its shards and metadata). */
async function storeStats(path: string, plan: StorePlan, chunk: number): Promise<{ bytes: number; levels: LevelStats[] }> {
  const levels: LevelStats[] = plan.levels.map((l) => ({ shape: l.shape, chunks: 0, fitted: 0, background: 0, absent: 0, bytes: plan.meta.get(`/${l.path}/zarr.json`)!.length }));
  let bytes = plan.meta.get("/zarr.json")!.length + levels.reduce((n, l) => n + l.bytes, 0);
  for (const s of plan.shards) {
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

/** The chunk's block: its voxels plus `halo` on every side, clipped to the level. */
function blockJob(v: Volume, l: LevelPlan, c: Shape3, o: StoreWriteOptions, config: GaussianCodecConfig): ChunkJob {
  const box = chunkBox(l, c, o.chunk);
  const lo = [box.z0, box.y0, box.x0], hi = [box.z1, box.y1, box.x1];
  const blo = lo.map((x) => Math.max(0, x - o.halo)), bhi = hi.map((x, a) => Math.min(l.shape[a]!, x + o.halo));
  const shape = bhi.map((x, a) => x - blo[a]!) as unknown as Shape3;
  const data = allocVoxels(v.dtype, shape[0] * shape[1] * shape[2]);
  const [, ny, nx] = l.shape;
  for (let z = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) {
    const s = ((blo[0]! + z) * ny + blo[1]! + y) * nx + blo[2]!;
    data.set(v.data.subarray(s, s + shape[2]) as never, (z * shape[1] + y) * shape[2]);
  }
  return {
    block: { shape, dtype: v.dtype, data }, offset: lo.map((x, a) => x - blo[a]!) as unknown as Shape3,
    valid: hi.map((x, a) => x - lo[a]!) as unknown as Shape3, chunk: [o.chunk, o.chunk, o.chunk], bytes: 0,
    gate: o.gate, config, fill: FILL, iterations: o.iterations, seed: o.seed, background: o.background, keep: o.keep ?? "overlap",
  };
}

/** Σ |f − mean| over the chunk's voxels in field units, 0 when no voxel is above the gate. */
function energyAboveMean(job: ChunkJob): number {
  const f = validField(job);
  if (!f.some((x) => x > job.gate)) return 0;
  const mean = f.reduce((s, x) => s + x, 0) / f.length;
  return f.reduce((s, x) => s + Math.abs(x - mean), 0);
}

function hasStructure(job: ChunkJob): boolean {
  return validField(job).some((x) => x > job.gate);
}
