// Neuroglancer's chunk worker, plus the `vmg://` backend. webpack.config.js points Neuroglancer's
// `new Worker(".../chunk_worker.bundle.js")` here; the stock bundle must load first.
import "neuroglancer/unstable/chunk_worker.bundle.js";
import "./backend.js";
