/**
 * Worker half of WorkerEngine: evaluates its lanes of the objective (or claims slabs to predict) on
 * shared target data. Every reply carries its call's id; errors go back as WireErrors.
 */
import "./wasm-kernel.js"; // the fitter's forward and moments passes on the WebAssembly kernel for this thread
import { parentPort, workerData } from "node:worker_threads";
import { toWire } from "../core/errors.js";
import type { Box } from "../core/background.js";
import { evaluateLanes, predictSlabs } from "../fit/engine.js";
import { SlabEvaluator, type FitTarget } from "../fit/objective.js";
import type { FitReply, WorkerCall, WorkerInit } from "./fit-engine.js";

const init = workerData as WorkerInit;
const target: FitTarget = {
  shape: init.shape,
  data: new Float32Array(init.data),
  edgeBoost: init.edgeBoost,
  ...(init.edges ? { edges: new Uint8Array(init.edges) } : {}),
};
const evaluator = new SlabEvaluator(init.path);

const reply = (m: FitReply, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

parentPort!.on("message", (call: WorkerCall) => {
  try {
    run(call);
  } catch (e) {
    reply({ type: "error", id: call.id, error: toWire(e) });
  }
});

function run(call: WorkerCall): void {
  if (call.type === "predict") {
    const control = new Int32Array(call.control!);
    const next = (): Box | undefined => {
      const i = Atomics.add(control, 0, 1);
      return i < init.slabs.length ? init.slabs[i] : undefined;
    };
    predictSlabs(target.shape, call.req, next, new Float32Array(call.output!));
    reply({ type: "done", id: call.id });
    return;
  }
  const req = { ...call.req, gradients: true, ...(call.subset ? { subset: call.subset } : {}) };
  const results = evaluateLanes(target, req, init.slabs, call.lanes!, evaluator);
  const transfer = results.flatMap((r) => (r.moments ? [r.moments.buffer, r.bgGrad!.buffer] : [])) as ArrayBuffer[];
  reply({ type: "done", id: call.id, results }, transfer);
}
reply({ type: "ready", id: -1 });
