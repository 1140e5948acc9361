/** Worker half of the store writer's block pool: fits the chunks it is sent, one at a time. */
import { parentPort } from "node:worker_threads";
import { toWire } from "../core/errors.js";
import { fitChunk, type ChunkJob } from "../store/block-fit.js";

parentPort!.on("message", async ({ id, job }: { id: number; job: ChunkJob }) => {
  try {
    const bytes = await fitChunk(job);
    parentPort!.postMessage({ type: "done", id, bytes }, bytes ? [bytes.buffer as ArrayBuffer] : []);
  } catch (e) {
    parentPort!.postMessage({ type: "error", id, error: toWire(e) });
  }
});
parentPort!.postMessage({ type: "ready", id: -1 });
