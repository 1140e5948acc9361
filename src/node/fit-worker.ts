/** Worker half of WorkerEngine: evaluates slabs of the objective, claimed from a shared counter, on shared target data. */
import { parentPort, workerData } from "node:worker_threads";
import type { Box } from "../core/background.js";
import { evaluateSlabs, predictSlabs } from "../fit/engine.js";
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
  const control = new Int32Array(call.control);
  const list = call.subset;
  const n = list ? list.length : init.slabs.length;
  const next = (): Box | undefined => {
    const i = Atomics.add(control, 0, 1);
    return i < n ? init.slabs[list ? list[i]! : i] : undefined;
  };
  if (call.type === "predict") {
    predictSlabs(target.shape, call.req, next, new Float32Array(call.output!));
    parentPort!.postMessage({ type: "done" });
    return;
  }
  const result = evaluateSlabs(target, { ...call.req, gradients: true }, next, evaluator);
  const transfer = [result.moments!.buffer, result.bgGrad!.buffer] as ArrayBuffer[];
  parentPort!.postMessage({ type: "done", result }, transfer);
});
parentPort!.postMessage({ type: "ready" });
