// Neuroglancer's chunk worker, plus the `vmg://` backend, the
// `volmicro.gaussians` zarr codec's decode half and the store chunk reports. webpack.config.js points Neuroglancer's
// `new Worker(".../chunk_worker.bundle.js")` here; the stock bundle must load first.
import "neuroglancer/unstable/chunk_worker.bundle.js";
import { registerPromiseRPC } from "neuroglancer/unstable/worker_rpc.js";
import "./wasm-kernel.js"; // before any decoder runs: the WebAssembly kernel for this worker
import "./backend.js";
import "./store-chunk-source.js";
import "./gaussian-codec-decode.js";
import { VMG_TEST_LOSE_GPU_RPC_ID } from "./base.js";
import { getGpu } from "../gpu/device.js";

// Development (test) builds only: production builds drop this branch (webpack.config.js).
if (VOLMICRO_TEST_HOOKS) {
  registerPromiseRPC<string | null>(VMG_TEST_LOSE_GPU_RPC_ID, async (x: { keep?: boolean }) => {
    const ctx = await getGpu();
    if (!x.keep) ctx?.device.destroy();
    return { value: ctx?.adapter ?? null };
  });
}
