/** The worker-thread fit engine under overlapping calls: each call gets its own answer. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { constantBackground } from "../src/core/background.js";
import { LocalEngine, type EvalRequest } from "../src/fit/engine.js";
import { WorkerEngine } from "../src/node/fit-engine.js";
import { randomFile } from "./helpers/files.js";

test("overlapping evaluate and predict calls on the worker engine each equal the local engine's", async () => {
  const shape: [number, number, number] = [40, 128, 128];
  const truth = randomFile(shape, 60, 21);
  const data = Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, (_, i) => ((i * 2654435761) % 1000) / 1000);
  const target = { shape, data, edgeBoost: 3, edges: Uint8Array.from(data, (v) => (v > 0.9 ? 1 : 0)) };
  const requests: EvalRequest[] = [20, 40, 60].map((count, k) => ({
    params: truth.gaussians.slice(0, count * 11), count, background: constantBackground(0.05 * k), radius: 3, gradients: true,
  }));
  const local = new LocalEngine(target);
  const engine = await WorkerEngine.create(target, 2);
  try {
    assert.ok(engine.slabs.length > 1, "several slabs, so workers share each call");
    const subset = Int32Array.of(0, engine.slabs.length - 1);
    const calls = [
      ...requests.map((r) => engine.evaluate(r)),
      engine.evaluate({ ...requests[1]!, subset }),
      ...requests.map((r) => engine.predict(r)),
    ];
    const answers = await Promise.all(calls);
    for (let k = 0; k < requests.length; k++) {
      assert.deepEqual(answers[k], await local.evaluate(requests[k]!), `evaluate ${k}`);
      assert.deepEqual(answers[requests.length + 1 + k], await local.predict(requests[k]!), `predict ${k}`);
    }
    assert.deepEqual(answers[requests.length], await local.evaluate({ ...requests[1]!, subset }), "evaluate on a minibatch");
  } finally {
    await engine.close();
  }
});
