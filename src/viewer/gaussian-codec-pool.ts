/**
 * Pool-worker side of gaussian-codec-decode.ts: one chunk, decoded by src/store/codec (the same
 * validation and CPU decoder as the CLI's store reader). Stateless: a chunk carries all it needs.
 */
import { registerAsyncComputation } from "neuroglancer/unstable/async_computation/handler.js";
import { toWire } from "../core/errors.js";
import { installedWasmKernel } from "../decode/wasm-kernel.js";
import { decodeChunk } from "../store/codec/chunk.js";
import { decodeGaussianChunkOnPool, warmGaussianPool } from "./gaussian-codec.js";
import { warmDecoder } from "./gaussian-codec-jit.js";
import { poolScratch } from "./pool-scratch.js";

// Errors go back as WireErrors: the pool posts what is thrown by structured clone.
registerAsyncComputation(decodeGaussianChunkOnPool, async (bytes, shape, dtype, config) => {
  try {
    const t0 = performance.now();
    const data = decodeChunk(bytes, shape, dtype, config, poolScratch(shape[0] * shape[1] * shape[2]));
    // the decoder takes the WebAssembly kernel for every box wherever it is installed (WASM_MIN_VOXELS)
    return { value: { data, ms: performance.now() - t0, kernel: installedWasmKernel() ? "wasm" as const : "js" as const }, transfer: [data.buffer as ArrayBuffer] };
  } catch (e) {
    throw toWire(e);
  }
});

// The request makes Neuroglancer's pool start this worker early, and compiles the decoder here.
registerAsyncComputation(warmGaussianPool, async (dtype, config) => {
  try {
    return { value: warmDecoder(dtype, config) };
  } catch (e) {
    throw toWire(e);
  }
});
