/**
 * The fitter engine for the "WebGPU" choice. Not implemented yet: the job reports that in words
 * rather than silently running the CPU engine under a WebGPU label.
 */
import type { FitEngine } from "../../fit/engine.js";
import type { FitTarget } from "../../fit/objective.js";

export async function webgpuEngineFactory(): Promise<(target: FitTarget) => Promise<FitEngine>> {
  throw new Error("The WebGPU fitting engine is not available in this build; choose the CPU engine.");
}
