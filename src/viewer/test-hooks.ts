/**
 * Test hooks, added to `window.volmicro` in development builds only (main.ts): both decode paths
 * (and both fit engines) run side by side on this thread for a direct comparison, and a WebGPU
 * device (this thread's, or the chunk worker's) can be destroyed to exercise the fallback to the CPU.
 */
import type { Viewer } from "neuroglancer/unstable/viewer.js";
import type { Box } from "../core/background.js";
import { levelFactors } from "../decode/decoder.js";
import { compareFitEngines } from "../gpu/fit-parity.js";
import { VMG_TEST_LOSE_GPU_RPC_ID } from "./base.js";
import { decodeChunk, loadVmg } from "./loader.js";

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

export function testHooks(viewer: Viewer): Record<string, unknown> {
  return {
    compareDecodes,
    compareFitEngines,
    decodeAcrossGpuLoss,
    /** Destroy the chunk worker's WebGPU device (its adapter's name, or null when it has none). */
    loseWorkerGpu: () => viewer.chunkManager.rpc!.promiseInvoke<string | null>(VMG_TEST_LOSE_GPU_RPC_ID, {}),
  };
}
