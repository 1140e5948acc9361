/** Pure parts of "Compress this layer": budget estimates, the added layer's JSON, the live plot, plain-words errors. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fromWire, isVmgError, toWire } from "../src/core/errors.js";
import { FitInputError } from "../src/fit/errors.js";
import { MissingChunkError, NotAVolumeError, UnsupportedDTypeError, VolumeFetchError } from "../src/io/errors.js";
import { vmgLayerSpec } from "../src/viewer/compress/layer-spec.js";
import {
  cliCompressCommand, fitMemoryBytes, OutOfMemoryError, PAGE_FIT_BYTES, plainError, RegionTooLargeError, tooLargeMessage, withMemoryGuard,
} from "../src/viewer/compress/errors.js";
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

test("the added layer copies the original's look, not its identity, and is placed at the fitted box by voxel centre", () => {
  const original = { type: "image", name: "o", source: "zarr://http://h/a.zarr/", tab: "rendering", shader: "S", opacity: 0.5, visible: false };
  const whole = vmgLayerSpec(original, { sourceUrl: "vmg://blob:x", box: { z0: 0, z1: 4, y0: 0, y1: 4, x0: 0, x1: 4 } });
  assert.deepEqual(whole, { type: "image", shader: "S", opacity: 0.5, tab: "volmicro", source: "vmg://blob:x" });
  const sub = vmgLayerSpec(original, { sourceUrl: "vmg://blob:x", box: { z0: 3, z1: 9, y0: 5, y1: 9, x0: 7, x1: 9 }, voxelSize: [2, 0.5, 0.5], unit: "um" });
  assert.deepEqual(sub["source"], {
    url: "vmg://blob:x",
    // voxel k of the box is voxel box + k of the level, whose centre is at k + ½ in Neuroglancer's grid (as a plain OME-Zarr layer)
    transform: { outputDimensions: { x: [0.5e-6, "m"], y: [0.5e-6, "m"], z: [2e-6, "m"] }, matrix: [[1, 0, 0, 6.5], [0, 1, 0, 4.5], [0, 0, 1, 2.5]] },
  });
  // the level's origin (z, y, x µm: 2, 1 and 1 voxels) moves it on by as many voxels
  const placed = vmgLayerSpec(original, { sourceUrl: "vmg://blob:x", box: { z0: 3, z1: 9, y0: 5, y1: 9, x0: 7, x1: 9 }, voxelSize: [2, 0.5, 0.5], unit: "um", origin: [4, 0.5, 0.5] });
  assert.deepEqual((placed["source"] as { transform: { matrix: number[][] } }).transform.matrix, [[1, 0, 0, 7.5], [0, 1, 0, 5.5], [0, 0, 1, 4.5]]);
});

test("the live plot is an SVG with both curves once there are steps", () => {
  const log = Array.from({ length: 20 }, (_, i) => ({ step: i, loss: 1 / (i + 1), mse: 1, psnr: 30 + i / 2, gaussians: 10, seconds: i }));
  const svg = progressSvg(log, 100);
  assert.match(svg, /^<svg/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
  assert.doesNotMatch(progressSvg([], 100), /<polyline/);
});

test("errors read as plain words, built from each error's tag and fields after crossing the worker boundary", () => {
  const url = "http://h/a.zarr/";
  const words = (e: unknown) => plainError(fromWire(structuredClone(toWire(e))), url);
  assert.match(words(new UnsupportedDTypeError(url, "float64")), /voxel type \(float64\) cannot be compressed/);
  assert.match(words(new MissingChunkError(url, "0/c/1/2/3")), /lacks chunk 0\/c\/1\/2\/3/);
  assert.match(words(new VolumeFetchError(url, "cannot fetch (Failed to fetch)", { cause: new TypeError("Failed to fetch") })), /CORS/);
  assert.match(words(new VolumeFetchError(url, "HTTP 403 Forbidden", { status: 403 })), /answered HTTP 403 when reading http:\/\/h\/a.zarr\//);
  assert.match(words(new OutOfMemoryError("reading the region", new RangeError("Array buffer allocation failed"))), /ran out of memory while reading the region/);
  assert.match(words(new FitInputError("x", "has no structure above its background to fit (is it empty?)")), /cannot be fitted: has no structure above its background to fit \(is it empty\?\)\.$/);
  assert.match(words(new NotAVolumeError(url, "axis c has length 3")), /not a single-channel 3D image VolMicro can fit: axis c has length 3/);
  const big = 512 ** 3;
  assert.equal(words(new RegionTooLargeError(big, 2)), tooLargeMessage(big, fitMemoryBytes(big, 2)));
  assert.match(tooLargeMessage(big, fitMemoryBytes(big, 2)), /134\.2 M voxels; .*about 5\.5 GiB .*current view/);
  // a message that merely mentions a status is not taken for one
  assert.match(words(new Error("Unexpected response status 403 Forbidden")), /^Compression failed: Unexpected response status 403/);
});

test("the page's fit bound: the 303³ uint16 volume fits, 512³ does not; the refusal's command is copyable as it is", () => {
  assert.ok(fitMemoryBytes(303 ** 3, 2) <= PAGE_FIT_BYTES);
  assert.ok(fitMemoryBytes(512 ** 3, 2) > PAGE_FIT_BYTES);
  assert.ok(fitMemoryBytes(320 ** 3, 4) > fitMemoryBytes(320 ** 3, 1));
  assert.equal(cliCompressCommand("http://h:8/data/brain.zarr/", "brain", 0.073), "vmg compress http://h:8/data/brain.zarr/ -o brain.ome.zarr --bpp 0.073");
  assert.equal(cliCompressCommand("https://h/a b.zarr", "my layer (raw)", 0.0731234), "vmg compress 'https://h/a b.zarr' -o my_layer_raw_.ome.zarr --bpp 0.0731");
  assert.equal(cliCompressCommand("https://h/it's.zarr", "..", 1), "vmg compress 'https://h/it'\\''s.zarr' -o layer.ome.zarr --bpp 1");
});

test("an allocation failure is reported as out of memory, other errors pass through", async () => {
  await assert.rejects(withMemoryGuard("fitting the region", async () => new Float32Array(2 ** 40)), (e) => isVmgError(e, "viewer/out-of-memory"));
  const own = new UnsupportedDTypeError("s", "bool");
  await assert.rejects(withMemoryGuard("reading the region", async () => { throw own; }), (e) => e === own);
});
