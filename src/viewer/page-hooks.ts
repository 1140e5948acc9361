/**
 * `window.volmicro`: what the page knows about its `.vmg` layers, for tests, the viewer benchmark
 * and curious users in the console: per-file decode statistics from the worker, and both decode
 * paths (and both fit engines) run side by side on this thread for a direct comparison.
 */
import type { Viewer } from "neuroglancer/unstable/viewer.js";
import type { Box } from "../core/background.js";
import { levelFactors } from "../decode/decoder.js";
import { getGpu } from "./gpu/device.js";
import { compareFitEngines } from "./gpu/fit-parity.js";
import { VMG_FILE_CACHE_RPC_ID } from "./base.js";
import { layerBlobUrl } from "./blob-urls.js";
import { decodeChunk, loadVmg, type FileCacheState } from "./loader.js";
import type { DecodeMode } from "./base.js";
import { decodeStats } from "./stats.js";

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

export function installPageHooks(viewer: Viewer): void {
  Object.assign(globalThis, {
    volmicro: {
      viewer,
      decodeStats: () => Object.fromEntries(decodeStats),
      webgpuAdapter: async () => (await getGpu())?.adapter ?? null,
      compareDecodes,
      compareFitEngines,
      queuedDecodes,
      /** The chunk worker's file cache, after setting its bound in bytes when given. */
      fileCache: (maxBytes?: number) => viewer.chunkManager.rpc!.promiseInvoke<FileCacheState>(VMG_FILE_CACHE_RPC_ID, { maxBytes }),
      /** A blob: URL of a `.vmg` file's bytes for a layer, as "Add as layer" makes one (revoked once unused). */
      layerBlobUrl: async (url: string) => layerBlobUrl(viewer, new Uint8Array(await (await fetch(url)).arrayBuffer())),
    },
  });
}
