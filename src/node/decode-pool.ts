/**
 * Large decodes on every core: a pool of worker threads, each holding its own decoder of the
 * same file, claims z-slab tiles of the requested box from a shared counter and writes stored values into one
 * SharedArrayBuffer. Workers are created once and reused across decodes. Boxes below
 * IN_PROCESS_VOXELS are decoded on the calling thread: there, posting the job and waking the
 * workers costs more than the decode itself (measured 9–76 ms through the pool against 3.4 ms in
 * process for a 131 k-voxel volume). Decodes may overlap: each has its own id, output and control
 * words, so cancelling one leaves the others running.
 *
 * A command's one decode (`callerDecodes`) does not wait for workers to boot: the calling thread
 * claims tiles from the first moment, and threads − 1 workers, started by the first decode that
 * needs them, join as they become ready (a worker's start — a thread, its bundle, the scale's
 * kernels and index, code not yet optimised — costs about as much as decoding a few million
 * voxels; `vmg decode` starts none up to ONE_THREAD_VOXELS). Workers get the parsed Gaussians,
 * so none range-decodes the payload again.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { allocVoxels, DTYPES, type VoxelArray } from "../core/dtype.js";
import type { Factors } from "../core/gaussian.js";
import type { Box } from "../core/background.js";
import { boxVoxels, fullBox, scaledShape, VmgDecoder } from "../decode/decoder.js";
import { readVmg, type VmgFile } from "../format/vmg.js";
import "./wasm-kernel.js"; // this thread decodes with the WebAssembly kernel where it is built
import { workerScript } from "./worker-script.js";
import { allSettledOrThrow, WorkerCalls, type Reply } from "./worker-calls.js";

/** Boxes up to this many voxels are decoded on the calling thread (a few ms of work). */
export const IN_PROCESS_VOXELS = 1 << 20;
/**
 * A command's one decode up to this many voxels (about a second on one thread) is best left to
 * the calling thread alone (`threads` 1): a worker's start and its unoptimised first tiles cost
 * 0.2–0.4 s of CPU here, and on 2 busy cores `vmg decode` of the demo block (3.5 M voxels) took
 * 1.04 s alone against 1.78 s with a worker, of cellfinder (18.2 M) 1.76 s against 2.04 s.
 */
export const ONE_THREAD_VOXELS = 1 << 25;
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

/**
 * Claim the job's next z-slab tile from its shared counter and decode it into `out` (the job's
 * whole output): the tile's first slice in the box, or −1 when no tile is left or the job is
 * cancelled. The loop of both halves.
 */
export function decodeNextTile(decoder: VmgDecoder, job: DecodeJob, out: VoxelArray, scratch: Float32Array): number {
  const control = new Int32Array(job.control);
  if (Atomics.load(control, CANCELLED) !== 0) return -1;
  const { box } = job;
  const plane = (box.y1 - box.y0) * (box.x1 - box.x0);
  const depth = box.z1 - box.z0;
  const z0 = Atomics.add(control, NEXT_TILE, 1) * job.slab;
  if (z0 >= depth) return -1;
  const z1 = Math.min(depth, z0 + job.slab);
  decoder.decode({ ...box, z0: box.z0 + z0, z1: box.z0 + z1 }, job.factors, out.subarray(z0 * plane, z1 * plane), scratch);
  return z0;
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
  /**
   * Slices [z0, z1) of the box (counted from its corner) are decoded in the output passed to
   * `onOutput`, in no particular order: a caller can write them out while the rest decode.
   */
  onSlices?: (z0: number, z1: number) => void;
  /** The output, before any voxel is decoded into it. */
  onOutput?: (out: VoxelArray) => void;
  signal?: AbortSignal;
}

/** A worker's tile is in the output: its first slice in the box. */
export interface TileReply { type: "tile"; id: number; z0: number }
export type DecodeReply = Reply | TileReply;

export interface PoolOptions {
  /** The calling thread decodes tiles too, beside threads − 1 workers started on first need (see above). */
  callerDecodes?: boolean;
  /** The file as the caller has already parsed it from `bytes` (not parsed again on this thread). */
  parsed?: VmgFile;
}

/** Job ids, unique in the process: each decode's replies are routed by its id. */
let nextJobId = 0;

export class DecodePool {
  private local: VmgDecoder | undefined;
  private calls: Promise<WorkerCalls> | undefined;

  private constructor(
    private readonly startWorkers: () => Promise<WorkerCalls>,
    private readonly workerCount: number,
    private readonly file: VmgFile,
    private readonly callerDecodes: boolean,
  ) {}

  /** Validates the file on this thread first, so a bad file fails before any worker starts. */
  static async create(bytes: Uint8Array, threads = availableParallelism(), file?: string, options: PoolOptions = {}): Promise<DecodePool> {
    const parsed = options.parsed ?? readVmg(bytes, file ? { file } : {});
    const callerDecodes = options.callerDecodes ?? false;
    const count = Math.max(callerDecodes ? 0 : 1, threads - (callerDecodes ? 1 : 0));
    const start = () => {
      // the parsed Gaussians, not the bytes: a worker does not range-decode the payload again
      const file: VmgFile = { header: parsed.header, background: parsed.background, gaussians: parsed.gaussians, count: parsed.count, sections: [] };
      const { url, options: workerOptions } = workerScript("decode-worker", { file });
      return WorkerCalls.ready(Array.from({ length: count }, () => new Worker(url, workerOptions)));
    };
    const pool = new DecodePool(start, count, parsed, callerDecodes);
    if (!callerDecodes) await pool.workers();
    return pool;
  }

  /** The workers, started on first call. */
  private workers(): Promise<WorkerCalls> {
    this.calls ??= this.startWorkers();
    return this.calls;
  }

  /** Decode a box (default: the whole grid) of a scale into the source dtype, on a SharedArrayBuffer. */
  async decode(options: FullDecodeOptions = {}): Promise<VoxelArray> {
    options.signal?.throwIfAborted();
    const factors = options.factors ?? [1, 1, 1];
    const box = options.box ?? fullBox(scaledShape(this.file.header.shape, factors));
    const local = this.local ??= new VmgDecoder(this.file);
    local.checkBox(box, factors);
    const dtype = this.file.header.dtype;
    const n = boxVoxels(box);
    const buffer = new SharedArrayBuffer(n * DTYPES[dtype].bytes);
    const depth = box.z1 - box.z0;
    const out = allocVoxels(dtype, n, buffer);
    options.onOutput?.(out);
    if (n <= IN_PROCESS_VOXELS) {
      local.decode(box, factors, out, undefined, options.signal);
      options.onProgress?.(1, 1);
      options.onSlices?.(0, depth);
      return out;
    }
    const control = new SharedArrayBuffer(8);
    const slab = tileSlices(box, this.workerCount + (this.callerDecodes ? 1 : 0)); // callerDecodes alone: this thread's tiles
    const total = Math.ceil(depth / slab);
    let done = 0, finished = false;
    const job: DecodeJob = { id: nextJobId++, factors, box, buffer, control, slab };
    const cancel = () => Atomics.store(new Int32Array(control), CANCELLED, 1);
    options.signal?.addEventListener("abort", cancel, { once: true });
    let allReported = () => {};
    const reported = new Promise<void>((resolve) => { allReported = resolve; });
    const tileDone = (z0: number) => {
      if (finished) return;
      options.onProgress?.(++done, total);
      options.onSlices?.(z0, Math.min(depth, z0 + slab));
      if (done === total) allReported();
    };
    const onTile = (m: Reply) => { if (m.type === "tile") tileDone((m as TileReply).z0); };
    try {
      // A worker's failure stops the others' tiles too; the call rejects once all have stopped.
      const workers = this.workerCount === 0 ? Promise.resolve([]) : this.workers().then((calls) => allSettledOrThrow(calls.workers.map((w) => calls.call(w, job, onTile).catch((e: unknown) => {
        cancel();
        throw e;
      }))), (e: unknown) => { cancel(); throw e; });
      workers.catch(() => {}); // awaited below, after this thread's tiles
      if (this.callerDecodes) {
        const scratch = new Float32Array(slab * (box.y1 - box.y0) * (box.x1 - box.x0));
        // between tiles the event loop runs: workers get the job as they become ready, aborts land
        for (let z0; (z0 = decodeNextTile(local, job, out, scratch)) >= 0;) {
          tileDone(z0);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      // Every tile's report is awaited (a worker's last one may still be on its way when this
      // thread finds no tile left: its slab must reach onSlices), but not workers still booting,
      // which decode none.
      if (done < total) await Promise.race([reported, workers]);
    } catch (e) {
      cancel(); // this thread's tile failed: the workers stop too
      throw e;
    } finally {
      finished = true;
      options.signal?.removeEventListener("abort", cancel);
    }
    options.signal?.throwIfAborted();
    return out;
  }

  async close(): Promise<void> {
    await (await this.calls?.catch(() => undefined))?.close();
  }
}
