/**
 * Test hooks, added to `window.volmicro` in development builds only (main.ts): both decode paths
 * (and both fit engines) run side by side on this thread for a direct comparison, and a WebGPU
 * device (this thread's, or the chunk worker's) can be destroyed to exercise the fallback to the CPU.
 */
import type { Viewer } from "neuroglancer/unstable/viewer.js";
import type { Box } from "../core/background.js";
import { levelFactors } from "../decode/decoder.js";
import { compareFitEngines } from "../gpu/fit-parity.js";
import { VMG_FILE_CACHE_RPC_ID, VMG_TEST_LOSE_GPU_RPC_ID, type DecodeMode } from "./base.js";
import { layerBlobUrl } from "./blob-urls.js";
import { decodeChunk, loadVmg, type FileCacheState } from "./loader.js";

export interface DecodeComparison {
  /** Max |webgpu − cpu| over the box, in field units. */
  maxAbsDiff: number;
  /** max − min of the CPU field over the box. */
  range: number;
  voxels: number;
  adapter: string;
  cpuMs: number;
  gpuMs: number;
}

async function compareDecodes(url: string, level: number, box: Box): Promise<DecodeComparison> {
  const file = await loadVmg(new URL(url, location.href).href);
  const gpu = await file.gpu();
  if (typeof gpu === "string") throw new Error(gpu);
  const factors = levelFactors(level);
  let t = performance.now();
  const cpu = file.cpu.decodeField(box, factors);
  const cpuMs = performance.now() - t;
  t = performance.now();
  const g = await gpu.decodeField(box, factors);
  const gpuMs = performance.now() - t;
  let maxAbsDiff = 0, lo = Infinity, hi = -Infinity;
  for (let i = 0; i < cpu.length; i++) {
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(cpu[i]! - g[i]!));
    lo = Math.min(lo, cpu[i]!);
    hi = Math.max(hi, cpu[i]!);
  }
  return { maxAbsDiff, range: hi - lo, voxels: cpu.length, adapter: gpu.gpu.adapter, cpuMs, gpuMs };
}

export interface LossDecode {
  path: string;
  reason: string;
  /** Max |decoded − CPU decoder| over the box, in stored values. */
  maxAbsDiff: number;
}

/**
 * Decode `boxes` of one file with mode "webgpu" as the worker does (decodeChunk): the first on
 * its own, then the rest together, this thread's device being destroyed as soon as they are
 * queued, so they meet it mid-flight. Each result is compared with the CPU decoder's.
 */
async function decodeAcrossGpuLoss(url: string, level: number, boxes: Box[]): Promise<LossDecode[]> {
  const file = await loadVmg(new URL(url, location.href).href);
  const gpu = await file.gpu();
  if (typeof gpu === "string") throw new Error(gpu);
  const decode = async (box: Box): Promise<LossDecode> => {
    const r = await decodeChunk(file, box, level, "webgpu");
    const cpu = file.cpu.decode(box, levelFactors(level));
    let maxAbsDiff = 0;
    for (let i = 0; i < cpu.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(cpu[i]! - r.data[i]!));
    return { path: r.path, reason: r.reason, maxAbsDiff };
  };
  const first = await decode(boxes[0]!);
  const rest = boxes.slice(1).map(decode);
  gpu.gpu.device.destroy();
  return [first, ...await Promise.all(rest)];
}

export interface QueuedDecodes {
  /** Per box: "ok" or the error's name. */
  outcomes: string[];
  /** GPU dispatches these decodes cost. */
  dispatches: number;
}

/**
 * Decode `boxes` of `url` at once, as the chunk worker would, aborting those listed in `abort`
 * once all are queued (as Neuroglancer does for a chunk that left the view).
 */
async function queuedDecodes(url: string, mode: DecodeMode, level: number, boxes: Box[], abort: number[]): Promise<QueuedDecodes> {
  const file = await loadVmg(new URL(url, location.href).href);
  const gpu = await file.gpu();
  const before = typeof gpu === "string" ? 0 : gpu.dispatches;
  const controllers = boxes.map(() => new AbortController());
  const runs = boxes.map((box, i) => decodeChunk(file, box, level, mode, undefined, controllers[i]!.signal));
  await new Promise((r) => setTimeout(r, 0)); // every decode is queued now, the first one running
  for (const i of abort) controllers[i]!.abort();
  const outcomes = await Promise.all(runs.map((r) => r.then(() => "ok", (e: Error) => e.name)));
  return { outcomes, dispatches: (typeof gpu === "string" ? 0 : gpu.dispatches) - before };
}

export function testHooks(viewer: Viewer): Record<string, unknown> {
  return {
    compareDecodes,
    compareFitEngines,
    decodeAcrossGpuLoss,
    /** Destroy the chunk worker's WebGPU device (its adapter's name, or null when it has none). */
    loseWorkerGpu: () => viewer.chunkManager.rpc!.promiseInvoke<string | null>(VMG_TEST_LOSE_GPU_RPC_ID, {}),
    /** The chunk worker's WebGPU adapter once its device request has settled (null: none). */
    workerGpu: () => viewer.chunkManager.rpc!.promiseInvoke<string | null>(VMG_TEST_LOSE_GPU_RPC_ID, { keep: true }),
    queuedDecodes,
    /** The chunk worker's file cache, after setting its bound in bytes when given. */
    fileCache: (maxBytes?: number) => viewer.chunkManager.rpc!.promiseInvoke<FileCacheState>(VMG_FILE_CACHE_RPC_ID, { maxBytes }),
    /** A blob: URL of a `.vmg` file's bytes for a layer, as "Add as layer" makes one (revoked once unused). */
    layerBlobUrl: async (url: string) => layerBlobUrl(viewer, new Uint8Array(await (await fetch(url)).arrayBuffer())),
  };
}
