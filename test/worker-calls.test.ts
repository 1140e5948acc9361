import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { WorkerCalls } from "../src/node/worker-calls.js";

// Plain JavaScript workers (eval): one that would wait forever for work, one that fails as it starts.
const idle = () => new Worker(`const { parentPort } = require("node:worker_threads"); parentPort.on("message", () => {});`, { eval: true });
const failing = () => new Worker(`throw new RangeError("cannot start");`, { eval: true });
const exited = (w: Worker) => new Promise<number>((resolve) => w.once("exit", resolve));

test("a pool whose worker fails to start rejects with that error and terminates its other workers", { timeout: 30_000 }, async () => {
  const workers = [idle(), failing(), idle()];
  const exits = workers.map(exited);
  await assert.rejects(WorkerCalls.ready(workers), /cannot start/);
  assert.equal((await Promise.all(exits)).length, 3);
});

test("a worker that exits before it is ready rejects the pool instead of leaving it waiting", { timeout: 30_000 }, async () => {
  const workers = [idle(), new Worker(`process.exit(3);`, { eval: true })];
  const exits = workers.map(exited);
  await assert.rejects(WorkerCalls.ready(workers), /exited \(code 3\) before it was ready/);
  await Promise.all(exits);
});
