/**
 * Chunk worker: what a Gaussian store's first chunk would otherwise wait for, started with the
 * store's first chunk request (store-chunk-source.ts) so that it overlaps the reads of the shard
 * index and the chunk (three round trips). Neuroglancer's async-computation pool starts its
 * workers only when tasks queue, so the first chunk paid a worker's start (its script fetched and
 * evaluated, one request since the build keeps that worker whole: webpack.config.js) and its
 * decoder's compilation (the warm request decodes a synthetic chunk: gaussian-codec-jit.ts); and
 * the WebGPU device request (gpu-settled.ts) starts here rather than at the first decode. Once
 * per worker.
 */
import { requestAsyncComputation } from "neuroglancer/unstable/async_computation/request.js";
import type { DataType } from "neuroglancer/unstable/util/data_type.js";
import { ngDType, warmGaussianPool, type ResolvedGaussianConfig } from "./gaussian-codec.js";
import { gpuIfSettled } from "./gpu-settled.js";

/** Pool workers started ahead: enough for the first chunks to decode side by side; the pool adds more as chunks queue. */
const WARM_WORKERS = Math.min(4, globalThis.navigator?.hardwareConcurrency ?? 4);

let warmed = false;

export function warmGaussianDecode(config: ResolvedGaussianConfig, dataType: DataType): void {
  if (warmed) return;
  warmed = true;
  const mode = config.decode;
  if (mode !== "cpu") gpuIfSettled();
  // "webgpu" decodes on the pool only when the device fails
  if (mode !== "webgpu") {
    const dtype = ngDType(dataType);
    for (let i = 0; i < WARM_WORKERS; i++) requestAsyncComputation(warmGaussianPool, undefined, [], dtype, config).catch(() => {});
  }
}
