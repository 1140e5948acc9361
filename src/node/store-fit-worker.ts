/** Worker half of the store writer's block pool: runs the block tasks it is sent (a fit, a block's planning statistics), one at a time. */
import "./wasm-kernel.js"; // the fitter's forward and moments passes on the WebAssembly kernel for this thread
import { parentPort } from "node:worker_threads";
import { toWire } from "../core/errors.js";
import { fitChunk } from "../store/block-fit.js";
import { planBlock } from "../store/block-plan.js";
import type { WorkerTask } from "./block-pool.js";

parentPort!.on("message", async ({ id, task }: { id: number; task: WorkerTask }) => {
  try {
    if (task.kind === "fit") {
      const bytes = await fitChunk(task.job);
      parentPort!.postMessage({ type: "done", id, result: bytes ? { bytes } : {} }, bytes ? [bytes.buffer as ArrayBuffer] : []);
    } else {
      const result = planBlock(task.job, task.how);
      parentPort!.postMessage({ type: "done", id, result }, result.stats.count > 0 ? [result.stats.gains.buffer as ArrayBuffer] : []);
    }
  } catch (e) {
    parentPort!.postMessage({ type: "error", id, error: toWire(e) });
  }
});
parentPort!.postMessage({ type: "ready", id: -1 });
