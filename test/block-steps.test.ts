import assert from "node:assert/strict";
import { test } from "node:test";
import { blockSteps, MAX_STEP_FACTOR } from "../src/store/block-fit.js";

test("a chunk cut short by the volume's edge gets a full chunk's voxel-steps, within MAX_STEP_FACTOR× the steps", () => {
  assert.equal(blockSteps(120, [64, 64, 64], [64, 64, 64]), 120);
  assert.equal(blockSteps(120, [64, 64, 64], [64, 64, 32]), 240);
  assert.equal(blockSteps(120, [64, 64, 64], [47, 64, 64]), 163);
  assert.equal(blockSteps(120, [64, 64, 64], [28, 13, 22]), 120 * MAX_STEP_FACTOR);
  assert.equal(blockSteps(7, [32, 32, 32], [32, 32, 32]), 7);
});
