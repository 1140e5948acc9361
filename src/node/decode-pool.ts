/**
 * Large decodes on every core: a pool of worker threads, each holding its own decoder of the
 * same file, claims z-slab tiles of the requested box from a shared counter and writes stored values into one
 * SharedArrayBuffer. Workers are created once and reused across decodes. Boxes below
 * IN_PROCESS_VOXELS are decoded on the calling thread: there, posting the job and waking the
 * workers costs more than the decode itself (measured 9–76 ms through the pool against 3.4 ms in
 * process for a 131 k-voxel volume). Decodes may overlap: each has its own id, output and control
 * words, so cancelling one leaves the others running.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { allocVoxels, DTYPES, type VoxelArray } from "../core/dtype.js";
import type { Factors } from "../core/gaussian.js";
import type { Box } from "../core/background.js";
import { boxVoxels, fullBox, scaledShape, VmgDecoder } from "../decode/decoder.js";
import { readVmg, type VmgFile } from "../format/vmg.js";
import { workerScript } from "./worker-script.js";
import { allSettledOrThrow, WorkerCalls, type Reply } from "./worker-calls.js";

/** Boxes up to this many voxels are decoded on the calling thread (a few ms of work). */
export const IN_PROCESS_VOXELS = 1 << 20;
/**
 * z-slab tiles of at most ~2 M voxels (an 8 MB field, nearer the cache than the 4 M of before:
 * 1.1–1.4× faster on one thread on the demo block and trailmap), at least TILES_PER_WORKER per
 * worker so that no core waits while another decodes the last big tile (the demo block's 3.5 M
 * voxels were one tile), and at least MIN_TILE_SLICES thick: a Gaussian crossing a tile boundary
 * is set up once per tile, and one- or two-slice tiles of cellfinder's wide planes were slower.
 */
const TILE_VOXELS = 2_000_000;
const TILES_PER_WORKER = 3;
const MIN_TILE_SLICES = 4;

/** The z-slab depth of the tiles a pool of `workers` cuts `box` into. */
export function tileSlices(box: Box, workers: number): number {
  const plane = (box.y1 - box.y0) * (box.x1 - box.x0), depth = box.z1 - box.z0;
  return Math.max(Math.min(MIN_TILE_SLICES, depth), Math.min(Math.floor(TILE_VOXELS / plane), Math.ceil(depth / (TILES_PER_WORKER * workers))));
}

/** Int32 slots of a job's control buffer. */
export const NEXT_TILE = 0;
export const CANCELLED = 1;

export interface DecodeJob {
  id: number;
  factors: Factors;
  box: Box;
  buffer: SharedArrayBuffer;
  /** Int32 [NEXT_TILE, CANCELLED]. */
  control: SharedArrayBuffer;
  slab: number;
}

export interface FullDecodeOptions {
  factors?: Factors;
  /** Region on the scale's grid (default: all of it). */
  box?: Box;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export type DecodeReply = Reply | { type: "tile"; id: number };

export class DecodePool {
  private local: VmgDecoder | undefined;

  private constructor(
    private readonly calls: WorkerCalls,
    private readonly file: VmgFile,
  ) {}

  /** Validates the file on this thread first, so a bad file fails before any worker starts. */
  static async create(bytes: Uint8Array, threads = availableParallelism(), file?: string): Promise<DecodePool> {
    const parsed = readVmg(bytes, file ? { file } : {});
    const { url, options } = workerScript("decode-worker", { bytes });
    const workers = Array.from({ length: Math.max(1, threads) }, () => new Worker(url, options));
    return new DecodePool(await WorkerCalls.ready(workers), parsed);
  }

  /** Decode a box (default: the whole grid) of a scale into the source dtype, on a SharedArrayBuffer. */
  async decode(options: FullDecodeOptions = {}): Promise<VoxelArray> {
    options.signal?.throwIfAborted();
    const factors = options.factors ?? [1, 1, 1];
    const box = options.box ?? fullBox(scaledShape(this.file.header.shape, factors));
    this.local ??= new VmgDecoder(this.file);
    this.local.checkBox(box, factors);
    const dtype = this.file.header.dtype;
    const n = boxVoxels(box);
    const buffer = new SharedArrayBuffer(n * DTYPES[dtype].bytes);
    if (n <= IN_PROCESS_VOXELS) {
      const out = allocVoxels(dtype, n, buffer);
      this.local.decode(box, factors, out, undefined, options.signal);
      options.onProgress?.(1, 1);
      return out;
    }
    const control = new SharedArrayBuffer(8);
    const depth = box.z1 - box.z0;
    const slab = tileSlices(box, this.calls.workers.length);
    const total = Math.ceil(depth / slab);
    let done = 0;
    const job: DecodeJob = { id: this.calls.id(), factors, box, buffer, control, slab };
    const cancel = () => Atomics.store(new Int32Array(control), CANCELLED, 1);
    options.signal?.addEventListener("abort", cancel, { once: true });
    const onTile = (m: Reply) => { if (m.type === "tile") options.onProgress?.(++done, total); };
    try {
      // A worker's failure stops the others' tiles too; the call rejects once all have stopped.
      await allSettledOrThrow(this.calls.workers.map((w) => this.calls.call(w, job, onTile).catch((e: unknown) => {
        cancel();
        throw e;
      })));
    } finally {
      options.signal?.removeEventListener("abort", cancel);
    }
    options.signal?.throwIfAborted();
    return allocVoxels(dtype, n, buffer);
  }

  async close(): Promise<void> {
    await this.calls.close();
  }
}
