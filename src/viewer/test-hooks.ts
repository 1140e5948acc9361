/**
 * Test hooks, added to `window.volmicro` in development builds only (main.ts): both decode paths
 * (and both fit engines) run side by side on this thread for a direct comparison, and the chunk
 * worker's WebGPU device can be destroyed to exercise the fallback to the CPU.
 */
import type { Viewer } from "neuroglancer/unstable/viewer.js";
import type { Box } from "../core/background.js";
import { levelFactors } from "../decode/decoder.js";
import { compareFitEngines } from "../gpu/fit-parity.js";
import { VMG_TEST_LOSE_GPU_RPC_ID } from "./base.js";
import { loadVmg } from "./loader.js";

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

export function testHooks(viewer: Viewer): Record<string, unknown> {
  return {
    compareDecodes,
    compareFitEngines,
    /** Destroy the chunk worker's WebGPU device (its adapter's name, or null when it has none). */
    loseWorkerGpu: () => viewer.chunkManager.rpc!.promiseInvoke<string | null>(VMG_TEST_LOSE_GPU_RPC_ID, {}),
  };
}
