import assert from "node:assert/strict";
import { test } from "node:test";
import { blockSteps, MAX_STEP_FACTOR, SMALL_STORE_VOXELS, smallStoreSteps } from "../src/store/block-fit.js";

test("a chunk cut short by the volume's edge gets a full chunk's voxel-steps, within MAX_STEP_FACTOR× the steps", () => {
  assert.equal(blockSteps(120, [64, 64, 64], [64, 64, 64]), 120);
  assert.equal(blockSteps(120, [64, 64, 64], [64, 64, 32]), 240);
  assert.equal(blockSteps(120, [64, 64, 64], [47, 64, 64]), 163);
  assert.equal(blockSteps(120, [64, 64, 64], [28, 13, 22]), 120 * MAX_STEP_FACTOR);
  assert.equal(blockSteps(7, [32, 32, 32], [32, 32, 32]), 7);
});

test("a small store's blocks get up to the file fitter's steps per voxel, and an explicit --iterations scales the same way", () => {
  const full: [number, number, number] = [64, 64, 64];
  // DIADEM 92×77×86 at the default 160: the file's 600 for every block, an edge chunk's more where its voxels warrant
  assert.equal(smallStoreSteps(160, 92 * 77 * 86), 600);
  assert.equal(blockSteps(160, full, full, 92 * 77 * 86), 600);
  assert.equal(blockSteps(160, full, [64, 13, 22], 92 * 77 * 86), 800);
  // 128³: half of SMALL_STORE_VOXELS, so twice the steps; --iterations scales the rule
  assert.equal(smallStoreSteps(160, 2 ** 21), 320);
  assert.equal(smallStoreSteps(20, 2 ** 21), 40);
  // a store at or above SMALL_STORE_VOXELS (trailmap 303³) is fitted as before
  assert.equal(blockSteps(160, full, full, SMALL_STORE_VOXELS), 160);
  assert.equal(blockSteps(160, full, full, 303 ** 3), 160);
  assert.equal(blockSteps(160, full, [64, 64, 47], 303 ** 3), 218);
});
