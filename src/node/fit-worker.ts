/** Worker half of WorkerEngine: evaluates its lanes of the objective (or claims slabs to predict) on shared target data. */
import { parentPort, workerData } from "node:worker_threads";
import type { Box } from "../core/background.js";
import { evaluateLanes, predictSlabs } from "../fit/engine.js";
import { SlabEvaluator, type FitTarget } from "../fit/objective.js";
import type { WorkerCall, WorkerInit } from "./fit-engine.js";

const init = workerData as WorkerInit;
const target: FitTarget = {
  shape: init.shape,
  data: new Float32Array(init.data),
  edgeBoost: init.edgeBoost,
  ...(init.edges ? { edges: new Uint8Array(init.edges) } : {}),
};
const evaluator = new SlabEvaluator();

parentPort!.on("message", (call: WorkerCall) => {
  if (call.type === "predict") {
    const control = new Int32Array(call.control!);
    const next = (): Box | undefined => {
      const i = Atomics.add(control, 0, 1);
      return i < init.slabs.length ? init.slabs[i] : undefined;
    };
    predictSlabs(target.shape, call.req, next, new Float32Array(call.output!));
    parentPort!.postMessage({ type: "done" });
    return;
  }
  const req = { ...call.req, gradients: true, ...(call.subset ? { subset: call.subset } : {}) };
  const results = evaluateLanes(target, req, init.slabs, call.lanes!, evaluator);
  const transfer = results.flatMap((r) => [r.moments!.buffer, r.bgGrad!.buffer]) as ArrayBuffer[];
  parentPort!.postMessage({ type: "done", results }, transfer);
});
parentPort!.postMessage({ type: "ready" });
