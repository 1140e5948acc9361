/**
 * A store's continuous background (docs/vmg-zarr-codec.md § 6.2): the planning pass's node
 * statistics and solve recover a level's smooth background under bright structure, two
 * neighbouring chunks hold the same nodes on their shared face, so the decoded background has no
 * step there, and a store of it is the same bytes however its jobs are run.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Volume } from "../src/core/volume.js";
import { gaussianStoreInfo } from "../src/node/store-reader.js";
import { writeGaussianStore } from "../src/node/store-writer.js";
import { readChunk } from "../src/store/codec/chunk.js";
import { MANIFEST_NAME } from "../src/store/manifest.js";
import { levelChunks } from "../bench/store-tile.js";
import { assertSameStore } from "./helpers/stores.js";
import { knownGaussians } from "./helpers/volumes.js";
import { fillBackground } from "../src/core/background.js";
import type { Shape3 } from "../src/core/gaussian.js";
import { halfGrid } from "../src/store/codec/chunk.js";
import { BACKGROUND_BELOW, chunkNodes, NODES, nodeGrid, nodeStats, solveNodes } from "../src/store/continuous-background.js";
import { Random } from "../src/core/random.js";

const CHUNK = 16;

/** A level's field: a smooth background (a tilted plane plus a bump) with sparse bright voxels and noise. */
function level(shape: Shape3, seed: number): { field: Float64Array; background: (z: number, y: number, x: number) => number } {
  const background = (z: number, y: number, x: number) => 0.2 + 0.004 * x - 0.002 * z + 0.05 * Math.exp(-((y - 20) ** 2) / 200);
  const rng = new Random(seed), field = new Float64Array(shape[0] * shape[1] * shape[2]);
  for (let z = 0, i = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) for (let x = 0; x < shape[2]; x++, i++) {
    field[i] = background(z, y, x) + 0.01 * (rng.next() - 0.5) + (rng.next() < 0.03 ? 0.6 : 0);
  }
  return { field, background };
}

/** The chunk's voxels of a level (z, y, x order). */
function chunkField(field: Float64Array, shape: Shape3, c: Shape3): { data: Float64Array; valid: Shape3 } {
  const lo = c.map((k) => k * CHUNK), valid = lo.map((l, a) => Math.min(CHUNK, shape[a]! - l)) as unknown as Shape3;
  const data = new Float64Array(valid[0] * valid[1] * valid[2]);
  for (let z = 0, i = 0; z < valid[0]; z++) for (let y = 0; y < valid[1]; y++) for (let x = 0; x < valid[2]; x++, i++) {
    data[i] = field[((lo[0]! + z) * shape[1] + lo[1]! + y) * shape[2] + lo[2]! + x]!;
  }
  return { data, valid };
}

test("the planned nodes fit the background under bright voxels, and neighbouring chunks decode the same background at their shared face", () => {
  const shape: Shape3 = [30, 40, 44]; // edge chunks are partial on every axis
  const { field, background } = level(shape, 7);
  const grid = shape.map((n) => Math.ceil(n / CHUNK)) as unknown as Shape3;
  const stats = [];
  for (let cz = 0; cz < grid[0]; cz++) for (let cy = 0; cy < grid[1]; cy++) for (let cx = 0; cx < grid[2]; cx++) {
    const { data, valid } = chunkField(field, shape, [cz, cy, cx]);
    stats.push(nodeStats(data, valid, [CHUNK, CHUNK, CHUNK], 0.5));
  }
  const nodes = solveNodes(grid, stats);
  assert.equal(nodes.length, nodeGrid(grid).reduce((n, g) => n * g, 1));
  assert.ok(nodes.every((v) => Math.abs(v) < 1 && Math.fround(v) === v), "float16 values");
  // each chunk's decoded background (its nodes as the codec's grid) against the true one, and across every face
  const decoded = new Float64Array(field.length);
  for (let cz = 0; cz < grid[0]; cz++) for (let cy = 0; cy < grid[1]; cy++) for (let cx = 0; cx < grid[2]; cx++) {
    const bg = halfGrid(chunkNodes(nodes, grid, [cz, cy, cx]), NODES);
    const out = new Float32Array(CHUNK ** 3);
    fillBackground(bg, [CHUNK, CHUNK, CHUNK], { z0: 0, z1: CHUNK, y0: 0, y1: CHUNK, x0: 0, x1: CHUNK }, [1, 1, 1], out);
    for (let z = 0; z < CHUNK; z++) for (let y = 0; y < CHUNK; y++) for (let x = 0; x < CHUNK; x++) {
      const Z = cz * CHUNK + z, Y = cy * CHUNK + y, X = cx * CHUNK + x;
      if (Z < shape[0] && Y < shape[1] && X < shape[2]) decoded[(Z * shape[1] + Y) * shape[2] + X] = out[(z * CHUNK + y) * CHUNK + x]!;
    }
  }
  let lo = Infinity, hi = -Infinity, step = 0, inside = 0, n = 0;
  for (let z = 0, i = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) for (let x = 0; x + 1 < shape[2]; x++, i++) {
    const d = decoded[i]! - background(z, y, x);
    lo = Math.min(lo, d); hi = Math.max(hi, d);
    // x neighbours: across a chunk face or within a chunk
    const g = Math.abs(decoded[i + 1]! - decoded[i]!);
    if ((x + 1) % CHUNK === 0) step = Math.max(step, g); else { inside = Math.max(inside, g); n++; }
    if (x + 2 === shape[2]) i++;
  }
  assert.ok(n > 0);
  // the background follows the true one (bright voxels 0.6 above it, noise ±0.005), below it by at most BACKGROUND_BELOW robust σ of a chunk (its slope and bump widen σ to ~0.03)
  assert.ok(hi - lo < 0.015, `decoded − true background spans ${lo.toFixed(4)} … ${hi.toFixed(4)}`);
  assert.ok(hi < 0.01 && lo > -BACKGROUND_BELOW * 0.05, `decoded − true background spans ${lo.toFixed(4)} … ${hi.toFixed(4)}`);
  assert.ok(step <= inside * 1.5 + 1e-6, `the largest step across a face (${step.toExponential(2)}) is no larger than between neighbours inside a chunk (${inside.toExponential(2)})`);
});

test("a level whose chunks have no background voxels in their windows still solves, to finite nodes", () => {
  const grid: Shape3 = [2, 1, 1];
  const nodes = solveNodes(grid, [undefined, undefined]);
  assert.ok(nodes.every((v) => v === 0));
  const one = solveNodes(grid, [nodeStats(new Float64Array(CHUNK ** 3).fill(0.25), [CHUNK, CHUNK, CHUNK], [CHUNK, CHUNK, CHUNK], 0.5), undefined]);
  assert.ok(one.every((v) => Math.abs(v - 0.25) < 1e-3), "the chunk without statistics takes its neighbour's level");
});

test("a store of the continuous background: the same bytes on 1 or 2 threads, as --blocks tasks from the manifest and resumed from it; neighbours agree on their shared faces", { timeout: 240_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "vmg-continuous-"));
  try {
    // a tilted background under Gaussian structure: each chunk fitting its own would step at the faces
    const { volume } = knownGaussians([24, 28, 32], 20, 3);
    const tilt = volume.data.map((v, i) => v + 300 + 4 * (i % 32) + 3 * Math.floor(i / (28 * 32)));
    const input: Volume = { ...volume, data: tilt };
    const o = { chunk: 8, shard: 16, bytes: Math.floor((4 * 24 * 28 * 32) / 8), halo: 0, iterations: 12, seed: 1, encoding: "packed", background: "continuous", gate: 0.5, name: "c" } as const;
    const one = join(dir, "one.ome.zarr"), two = join(dir, "two.ome.zarr"), parts = join(dir, "parts.ome.zarr");
    await writeGaussianStore(one, input, { ...o, threads: 1 });
    await writeGaussianStore(two, input, { ...o, threads: 2 });
    await assertSameStore(two, one);
    for (const index of [1, 0]) await writeGaussianStore(parts, input, { ...o, threads: 1, blocks: { index, count: 2 } });
    await assertSameStore(parts, one);
    // an interrupted run (one task of two) resumed from its manifest: the backgrounds come from it, not a new plan
    const resumed = join(dir, "resumed.ome.zarr");
    await writeGaussianStore(resumed, input, { ...o, threads: 1, blocks: { index: 1, count: 2 } });
    await writeGaussianStore(resumed, input, { ...o, threads: 1, resume: true });
    await assertSameStore(resumed, one);
    const manifest = JSON.parse(await readFile(join(one, MANIFEST_NAME), "utf8"));
    assert.equal(manifest.backgrounds.length, manifest.levels.length);
    // level 0's chunks hold their lattice's nodes: every chunk with Gaussians or a background has a kind-3 grid of NODES³ float16 nodes
    const info = await gaussianStoreInfo(one);
    const chunks = (await levelChunks(one, 0)).chunks;
    assert.ok(chunks.size > 0);
    for (const c of chunks.values()) {
      const bg = readChunk(c, [8, 8, 8], info.config).background;
      assert.ok(bg.kind === "constant" || (bg.kind === "grid" && bg.dims.every((g) => g === NODES) && c[1] === 3), `a chunk's background is ${bg.kind}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
