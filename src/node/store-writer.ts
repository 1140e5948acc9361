/**
 * `vmg compress <input> -o out.ome.zarr`: the chunked Gaussian store (docs/vmg-zarr-codec.md § 6).
 * Levels are made by 2× mean downsampling, every chunk of every level is fitted on its own block
 * (plus a halo) on worker threads, the budget covers the whole store (metadata, shard indexes and
 * chunks, all levels), and the directory appears atomically when everything is written.
 */
import type { Shape3 } from "../core/gaussian.js";
import type { Volume } from "../core/volume.js";
import type { BackgroundChoice } from "../fit/background-init.js";
import { FitInputError } from "../fit/errors.js";
import { robustMapping } from "../fit/prepare.js";
import { GAUSSIAN_CODEC_VERSION, type GaussianCodecConfig } from "../store/codec/config.js";
import { chunkOverheadBytes, readChunk } from "../store/codec/chunk.js";
import { allocVoxels } from "../core/dtype.js";
import type { ChunkJob } from "../store/block-fit.js";
import { allocate, arrayMetadata, chunkBox, downsample2, groupMetadata, levelCount, levelIndexBytes, planLevel, type LevelPlan } from "../store/plan.js";
import { buildShard } from "../store/shard.js";
import { constantBackground } from "../core/background.js";
import { writeStoreAtomic } from "./atomic-write.js";
import { fitChunksOnWorkers } from "./block-pool.js";
import type { AbsolutePath } from "zarrita";

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
  /** "energy" (default): chunk bytes ∝ L1 energy above the chunk's mean; "uniform": equal shares. */
  allocation?: "energy" | "uniform";
  /** Which Gaussians of a block its chunk keeps (ChunkJob.keep). */
  keep?: "centre" | "overlap";
  name: string;
  onProgress?: (done: number, total: number) => void;
}

export interface StoreWriteResult {
  bytes: number;
  levels: Array<{ shape: Shape3; chunks: number; fitted: number; background: number; absent: number; bytes: number }>;
}

/** Smallest cap a structured chunk gets: a packed table and a few Gaussians. */
const MIN_CHUNK_BYTES = 96;
const FILL = 0;

export async function writeGaussianStore(path: string, volume: Volume, o: StoreWriteOptions): Promise<StoreWriteResult> {
  if (!(o.shard % o.chunk === 0)) throw new FitInputError(path, `--shard ${o.shard} is not a multiple of --chunk ${o.chunk}`);
  const mapping = robustMapping(volume, path);
  const config: GaussianCodecConfig = { version: GAUSSIAN_CODEC_VERSION, encoding: o.encoding, truncation: 3, valueOffset: mapping.offset, valueScale: mapping.scale };
  const volumes: Volume[] = [volume];
  for (let i = 1; i < levelCount(volume.shape, o.chunk); i++) volumes.push(downsample2(volumes[i - 1]!));
  const plans = volumes.map((v, i) => planLevel(i, v, o.chunk, o.shard));
  const meta = new Map<string, Uint8Array>([["/zarr.json", groupMetadata(plans, volume.unit, o.name)]]);
  plans.forEach((l) => meta.set(`/${l.path}/zarr.json`, arrayMetadata(l, volume.dtype, o.chunk, config, FILL)));
  const fixed = [...meta.values()].reduce((n, b) => n + b.length, 0) + plans.reduce((n, l) => n + levelIndexBytes(l), 0);
  const chunkBytes = o.bytes - fixed;
  const emptyBytes = chunkOverheadBytes(constantBackground(0), 0);
  const totalVoxels = volumes.reduce((n, v) => n + v.data.length, 0);

  // blocks are cut from the level when a worker takes them, so only those in flight are copied
  const caps: number[] = [];
  const where: Array<{ level: number; chunk: Shape3 }> = [];
  for (let li = 0; li < volumes.length; li++) {
    const v = volumes[li]!, l = plans[li]!;
    const weights: number[] = [];
    for (let cz = 0; cz < l.chunkGrid[0]; cz++) for (let cy = 0; cy < l.chunkGrid[1]; cy++) for (let cx = 0; cx < l.chunkGrid[2]; cx++) {
      const job = blockJob(v, l, [cz, cy, cx], o, config);
      weights.push(o.allocation === "uniform" ? (hasStructure(job) ? 1 : 0) : energyAboveMean(job));
      where.push({ level: li, chunk: [cz, cy, cx] });
    }
    // every level the same bits per voxel
    caps.push(...allocate(weights, Math.floor((chunkBytes * v.data.length) / totalVoxels), MIN_CHUNK_BYTES, emptyBytes));
  }
  const count = where.length;
  if (chunkBytes < count * emptyBytes) {
    throw new FitInputError(path, `a budget of ${o.bytes} bytes does not cover the store's metadata and shard indexes (${fixed} bytes) and ${count} chunks`);
  }
  const makeJob = (k: number): ChunkJob => {
    const w = where[k]!;
    return { ...blockJob(volumes[w.level]!, plans[w.level]!, w.chunk, o, config), bytes: caps[k]! };
  };
  const chunks = await fitChunksOnWorkers(count, makeJob, o.threads, (d) => o.onProgress?.(d, count));

  const result: StoreWriteResult = { bytes: 0, levels: plans.map((l) => ({ shape: l.shape, chunks: 0, fitted: 0, background: 0, absent: 0, bytes: 0 })) };
  const files = new Map(meta);
  for (let li = 0; li < plans.length; li++) {
    const l = plans[li]!;
    const lr = result.levels[li]!;
    const at = new Map<string, Uint8Array | undefined>();
    where.forEach((w, k) => { if (w.level === li) at.set(w.chunk.join(), chunks[k]); });
    for (let sz = 0; sz < l.shardGrid[0]; sz++) for (let sy = 0; sy < l.shardGrid[1]; sy++) for (let sx = 0; sx < l.shardGrid[2]; sx++) {
      const inner: Array<Uint8Array | undefined> = [];
      const [pz, py, px] = l.perShard;
      for (let iz = 0; iz < pz; iz++) for (let iy = 0; iy < py; iy++) for (let ix = 0; ix < px; ix++) {
        const c = at.get([sz * pz + iz, sy * py + iy, sx * px + ix].join());
        inner.push(c);
        if (at.has([sz * pz + iz, sy * py + iy, sx * px + ix].join())) {
          lr.chunks++;
          if (!c) lr.absent++;
          else if (readChunk(c, [o.chunk, o.chunk, o.chunk], config).count === 0) lr.background++;
          else lr.fitted++;
        }
      }
      const shard = buildShard(inner);
      if (shard) { files.set(`/${l.path}/c/${sz}/${sy}/${sx}`, shard); lr.bytes += shard.length; }
    }
    lr.bytes += meta.get(`/${l.path}/zarr.json`)!.length;
  }
  for (const b of files.values()) result.bytes += b.length;
  if (result.bytes > o.bytes) throw new FitInputError(path, `a budget of ${o.bytes} bytes is too small for ${count} chunks and their metadata (they take ${result.bytes}); raise it or use larger chunks`);
  await writeStoreAtomic(path, async (store) => {
    for (const [k, b] of files) await store.set(k as AbsolutePath, b);
  });
  return result;
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
  const f = fieldOfValid(job);
  if (!f.some((x) => x > job.gate)) return 0;
  const mean = f.reduce((s, x) => s + x, 0) / f.length;
  return f.reduce((s, x) => s + Math.abs(x - mean), 0);
}

function hasStructure(job: ChunkJob): boolean {
  return fieldOfValid(job).some((x) => x > job.gate);
}

function fieldOfValid(job: ChunkJob): Float64Array {
  const [, ny, nx] = job.block.shape, [oz, oy, ox] = job.offset, [vz, vy, vx] = job.valid;
  const out = new Float64Array(vz * vy * vx);
  let k = 0;
  for (let z = oz; z < oz + vz; z++) for (let y = oy; y < oy + vy; y++) for (let x = ox; x < ox + vx; x++) {
    out[k++] = (job.block.data[(z * ny + y) * nx + x]! - job.config.valueOffset) / job.config.valueScale;
  }
  return out;
}
