/**
 * The fitter engine for the "WebGPU" choice (gpu/fit-engine.ts). Without a WebGPU device
 * the job reports that in words rather than silently running the CPU engine under a WebGPU label.
 */
import type { FitEngine } from "../../fit/engine.js";
import type { FitTarget } from "../../fit/objective.js";
import { getGpu } from "../../gpu/device.js";
import { WebGpuEngine } from "../../gpu/fit-engine.js";
import { NoWebGpuError } from "./errors.js";

export async function webgpuEngineFactory(): Promise<(target: FitTarget) => Promise<FitEngine>> {
  const gpu = await getGpu();
  if (!gpu) throw new NoWebGpuError();
  return async (target) => new WebGpuEngine(gpu, target);
}
