/**
 * Pool-worker side of gaussian-codec-decode.ts: one chunk, decoded by src/store/codec (the same
 * validation and CPU decoder as the CLI's store reader). Stateless: a chunk carries all it needs.
 */
import { registerAsyncComputation } from "neuroglancer/unstable/async_computation/handler.js";
import { toWire } from "../core/errors.js";
import { installedWasmKernel } from "../decode/wasm-kernel.js";
import { decodeChunk } from "../store/codec/chunk.js";
import { decodeGaussianChunkOnPool, warmGaussianPool } from "./gaussian-codec.js";

// Errors go back as WireErrors: the pool posts what is thrown by structured clone.
registerAsyncComputation(decodeGaussianChunkOnPool, async (bytes, shape, dtype, config) => {
  try {
    const t0 = performance.now();
    const data = decodeChunk(bytes, shape, dtype, config);
    // the decoder takes the WebAssembly kernel for every box wherever it is installed (WASM_MIN_VOXELS)
    return { value: { data, ms: performance.now() - t0, kernel: installedWasmKernel() ? "wasm" as const : "js" as const }, transfer: [data.buffer as ArrayBuffer] };
  } catch (e) {
    throw toWire(e);
  }
});

// Nothing to do: the request only makes Neuroglancer's pool start this worker early.
registerAsyncComputation(warmGaussianPool, async () => ({ value: true }));
