/** Pure parts of "Compress this layer": budget estimates, the added layer's JSON, the live plot, plain-words errors. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FitInputError } from "../src/fit/errors.js";
import { MissingChunkError, UnsupportedDTypeError } from "../src/io/errors.js";
import { openZarrVolume, writeZarrV3 } from "../src/io/zarr.js";
import { vmgLayerSpec } from "../src/viewer/compress/layer-spec.js";
import { MAX_FIT_VOXELS, plainError, tooLargeMessage } from "../src/viewer/compress/errors.js";
import { budgetOf, estimateBudget, TYPICAL_GAUSSIAN_BYTES } from "../src/viewer/compress/estimate.js";
import { progressSvg } from "../src/viewer/compress/plot.js";

test("a budget's estimate: Gaussians, bytes within the cap, bpp and ratio", () => {
  const voxels = 96 * 192 * 192;
  const e = estimateBudget(budgetOf("bpp", 0.073), voxels, 2);
  assert.ok(typeof e !== "string");
  assert.ok(e.bytes <= (0.073 * voxels) / 8 + 1 && e.bytes > (0.073 * voxels) / 8 - TYPICAL_GAUSSIAN_BYTES - 1);
  assert.ok(Math.abs(e.ratio - (voxels * 2) / e.bytes) < 1e-9);
  const g = estimateBudget(budgetOf("gaussians", 1000), voxels, 2);
  assert.ok(typeof g !== "string" && g.gaussians === 1000);
  const k = estimateBudget(budgetOf("kib", 16), voxels, 2);
  assert.ok(typeof k !== "string" && k.bytes <= 16 * 1024);
  assert.match(String(estimateBudget(budgetOf("kib", 0.01), voxels, 2)), /holds no Gaussian/);
  assert.match(String(estimateBudget(budgetOf("bpp", Number.NaN), voxels, 2)), /positive number/);
});

test("the added layer copies the original's look, not its identity; the file's origin places it", async () => {
  const original = { type: "image", name: "o", source: "zarr://http://h/a.zarr/", tab: "rendering", shader: "S", opacity: 0.5, visible: false };
  assert.deepEqual(vmgLayerSpec(original, { sourceUrl: "vmg://blob:x" }), { type: "image", shader: "S", opacity: 0.5, tab: "volmicro", source: "vmg://blob:x" });
  // a fitted sub-box of a translated store: its origin is the store's plus the box corner, in voxels of the level
  const store = new Map<string, Uint8Array>();
  const volume = { shape: [12, 10, 9] as [number, number, number], dtype: "uint8" as const, data: new Uint8Array(1080), voxelSize: [2, 0.5, 0.5] as [number, number, number], unit: "micrometer", origin: [100, -4, 3] as [number, number, number] };
  await writeZarrV3({ set: (k, v) => void store.set(k, v) }, volume, { chunks: [4, 4, 4] });
  const src = await openZarrVolume({ get: async (k: string) => store.get(k) }, "mem.zarr");
  const sub = await src.read({ z0: 3, z1: 9, y0: 5, y1: 9, x0: 7, x1: 9 });
  assert.deepEqual(sub.origin, [106, -1.5, 6.5]);
});

test("the live plot is an SVG with both curves once there are steps", () => {
  const log = Array.from({ length: 20 }, (_, i) => ({ step: i, loss: 1 / (i + 1), mse: 1, psnr: 30 + i / 2, gaussians: 10, seconds: i }));
  const svg = progressSvg(log, 100);
  assert.match(svg, /^<svg/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
  assert.doesNotMatch(progressSvg([], 100), /<polyline/);
});

test("errors read as plain words", () => {
  const url = "http://h/a.zarr/";
  assert.match(plainError(new UnsupportedDTypeError(url, "float64"), url), /voxel type \(float64\) cannot be compressed/);
  assert.match(plainError(new MissingChunkError(url, "0/c/1/2/3"), url), /lacks chunk 0\/c\/1\/2\/3/);
  assert.match(plainError(new TypeError("Failed to fetch"), url), /CORS/);
  assert.match(plainError(new RangeError("Array buffer allocation failed"), url), /out of memory/);
  assert.match(plainError(new FitInputError("x", "has no structure above its background to fit (is it empty?)"), url), /cannot be fitted: has no structure/);
  assert.match(plainError(new Error("Unexpected response status 403 Forbidden"), url), /HTTP 403/);
  assert.match(tooLargeMessage(MAX_FIT_VOXELS * 2), /current view/);
});
