// Neuroglancer's async-computation worker, plus the `vmg://` CPU decode and the `volmicro.gaussians`
// zarr chunk decode. webpack.config.js points Neuroglancer's `new Worker(".../async_computation.bundle.js")`
// here; the stock bundle loads first.
import "neuroglancer/unstable/async_computation.bundle.js";
import "./wasm-kernel.js"; // before any decoder runs: the WebAssembly kernel for this worker
import "./async-decode-handler.js";
import "./gaussian-codec-pool.js";
