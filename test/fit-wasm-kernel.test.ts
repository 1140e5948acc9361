/**
 * The fitter's forward splat and moments on the WebAssembly kernel against the JavaScript reference
 * (src/fit/recorded-rows.ts): the field within 1e-4 of the peak, the moments within 2e-5 of the
 * largest of their kind, and a whole fit within a few hundredths of a dB.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { fillBackground, type BackgroundModel, type Box } from "../src/core/background.js";
import { KERNEL_STRIDE, PARAMS_PER_GAUSSIAN } from "../src/core/constants.js";
import { toNormalized, type Shape3 } from "../src/core/gaussian.js";
import { Random } from "../src/core/random.js";
import { fullBox, VmgDecoder } from "../src/decode/decoder.js";
import { prepareKernels } from "../src/decode/kernels.js";
import { visitRows } from "../src/decode/rows.js";
import { SpatialIndex } from "../src/decode/spatial-index.js";
import { installedWasmKernel, WasmKernel } from "../src/decode/wasm-kernel.js";
import { LocalEngine, SLAB_VOXELS } from "../src/fit/engine.js";
import { fitVolume } from "../src/fit/fitter.js";
import { MOMENT_STRIDE } from "../src/fit/gradient.js";
import { SlabEvaluator, type FitKernelPath } from "../src/fit/objective.js";
import { RecordedRows } from "../src/fit/recorded-rows.js";
import { readVmg } from "../src/format/vmg.js";
import { evaluate } from "../src/metrics/evaluate.js";
import { WorkerEngine } from "../src/node/fit-engine.js";
import { openVolume } from "../src/node/open-volume.js";
import { ensureWasmBuild } from "../scripts/build-wasm.js";
import "./helpers/decode-paths.js"; // installs the kernel for this process
import { knownGaussians } from "./helpers/volumes.js";

const shape: Shape3 = [30, 40, 150];

/** Gaussians of every size the fitter meets: compact ones, rows longer than an anchor interval, some past the edges. */
function params(count: number, seed: number): Float32Array {
  const rng = new Random(seed);
  const [nz, ny, nx] = shape;
  const g = new Float32Array(count * PARAMS_PER_GAUSSIAN);
  for (let i = 0; i < count; i++) {
    const long = i % 5 === 0;
    g.set([
      toNormalized(rng.uniform(-5, nx + 5), nx), toNormalized(rng.uniform(-3, ny + 3), ny), toNormalized(rng.uniform(-3, nz + 3), nz),
      long ? rng.uniform(10, 30) : rng.uniform(0.6, 4), rng.uniform(0.6, 4), rng.uniform(0.6, 3),
      rng.normal(), rng.normal(), rng.normal(), rng.normal(),
      rng.uniform(-0.5, 1),
    ], i * PARAMS_PER_GAUSSIAN);
  }
  return g;
}

test("the wasm recording splat's field and moments match the JavaScript path's", () => {
  const wasm = installedWasmKernel()!;
  const count = 120;
  const kernels = prepareKernels(params(count, 7), shape, [1, 1, 1], 3);
  const index = new SpatialIndex(kernels, shape);
  const bg: BackgroundModel = { kind: "constant", params: Float64Array.of(0.1) };
  const rng = new Random(11);
  // the whole volume, a slab, and a box cut inside every axis (segments entering between anchors)
  const boxes: Box[] = [fullBox(shape), { z0: 10, z1: 18, y0: 0, y1: 40, x0: 0, x1: 150 }, { z0: 3, z1: 27, y0: 5, y1: 33, x0: 37, x1: 121 }];
  for (const box of boxes) {
    const n = (box.z1 - box.z0) * (box.y1 - box.y0) * (box.x1 - box.x0);
    const js = new Float32Array(n), wa = new Float32Array(n);
    fillBackground(bg, shape, box, [1, 1, 1], js);
    wa.set(js);
    const ids = index.query(box);
    const rows = new RecordedRows();
    rows.splat(kernels.k, ids, box, js);
    assert.ok(wasm.splatRecorded(kernels.k, ids, box, wa));
    let peak = 0, err = 0;
    for (let i = 0; i < n; i++) { peak = Math.max(peak, Math.abs(js[i]!)); err = Math.max(err, Math.abs(js[i]! - wa[i]!)); }
    assert.ok(peak > 0.5, `peak ${peak}`);
    assert.ok(err <= 1e-4 * peak, `field differs by ${err} (peak ${peak})`);
    // a residual of both signs, as a fit's is
    const residual = Float32Array.from({ length: n }, () => rng.normal());
    const mj = new Float64Array(count * MOMENT_STRIDE), mw = new Float64Array(count * MOMENT_STRIDE);
    rows.moments(kernels.k, kernels.source, residual, mj);
    wasm.recordedMoments(residual, kernels.source, mw);
    for (let m = 0; m < MOMENT_STRIDE; m++) {
      let largest = 0, worst = 0;
      for (let i = 0; i < count; i++) largest = Math.max(largest, Math.abs(mj[i * MOMENT_STRIDE + m]!));
      for (let i = 0; i < count; i++) worst = Math.max(worst, Math.abs(mj[i * MOMENT_STRIDE + m]! - mw[i * MOMENT_STRIDE + m]!));
      assert.ok(largest > 0, `moment ${m} is zero for every kernel`);
      assert.ok(worst <= 2e-5 * largest, `moment ${m}: off by ${worst} of ${largest}`);
    }
  }
});

test("records that outgrow the module's room are laid out again, with the same result", async () => {
  const grown = installedWasmKernel()!;
  const fresh = new WasmKernel(new WebAssembly.Module(await ensureWasmBuild() as Uint8Array<ArrayBuffer>));
  const count = 120;
  const kernels = prepareKernels(params(count, 7), shape, [1, 1, 1], 3);
  const box = fullBox(shape);
  const n = shape[0] * shape[1] * shape[2];
  const ids = new SpatialIndex(kernels, shape).query(box);
  const residual = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  const run = (kernel: WasmKernel) => {
    const field = new Float32Array(n), m = new Float64Array(count * MOMENT_STRIDE);
    assert.ok(kernel.splatRecorded(kernels.k, ids, box, field));
    kernel.recordedMoments(residual, kernels.source, m);
    return { field, m };
  };
  // a fresh module starts with room for 4,096 segments: this box's rows alone (each at least one segment) are more
  let rows = 0;
  for (const id of ids) visitRows(kernels.k, id * KERNEL_STRIDE, box, { row: () => void rows++ });
  assert.ok(rows > 4096, `${rows} rows`);
  const a = run(fresh);
  const b = run(grown);
  assert.deepEqual(a.field, b.field);
  assert.deepEqual(a.m, b.m);
});

test("a box whose records pass the limit falls back to JavaScript, and a later small box is on the kernel again", () => {
  const kernel = installedWasmKernel()!;
  const count = 120;
  const kernels = prepareKernels(params(count, 7), shape, [1, 1, 1], 3);
  const index = new SpatialIndex(kernels, shape);
  const bg: BackgroundModel = { kind: "constant", params: Float64Array.of(0.1) };
  const target = { shape, data: Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, (_, i) => Math.cos(i)), edgeBoost: 1 };
  const big = fullBox(shape), small: Box = { z0: 10, z1: 14, y0: 8, y1: 16, x0: 40, x1: 72 };
  const moments = (path: FitKernelPath, box: Box) => {
    const m = new Float64Array(count * MOMENT_STRIDE);
    const r = new SlabEvaluator(path).evaluate(target, kernels, index, bg, box, m);
    return { ...r, m };
  };
  const limit = kernel.recordLimit;
  try {
    // room for the small box's records (a few hundred kB), not for the whole volume's (several MB)
    kernel.recordLimit = 2 << 20;
    const field = new Float32Array(shape[0] * shape[1] * shape[2]);
    assert.equal(kernel.splatRecorded(kernels.k, index.query(big), big, field), false);
    assert.ok(field.every((v) => v === 0), "a refused splat leaves the field untouched");
    // the evaluator's JS fallback: the reference path's bits exactly
    assert.deepEqual(moments("wasm", big), moments("js", big));
    // the small box after the big one: on the kernel (not the JS bits), as on a fresh thread
    const onKernel = moments("wasm", small), js = moments("js", small);
    assert.notDeepEqual(onKernel.m, js.m, "the small box ran on JavaScript after the refused one");
    assert.ok(kernel.splatRecorded(kernels.k, index.query(small), small, new Float32Array(4 * 8 * 32)));
    kernel.recordedMoments(new Float32Array(4 * 8 * 32), kernels.source, new Float64Array(count * MOMENT_STRIDE));
  } finally {
    kernel.recordLimit = limit;
  }
});

/** What `code` (an ES module, the sources through tsx) prints in a fresh process, which installs no kernel unless it imports one. */
function runIsolated(code: string): string {
  return execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { encoding: "utf8" });
}

test("an evaluator settled on the kernel refuses to run where none is installed", async () => {
  const r = runIsolated(`
    const { SlabEvaluator } = await import(${JSON.stringify(new URL("../src/fit/objective.ts", import.meta.url).href)});
    try { new SlabEvaluator("wasm").evaluate({ shape: [1, 1, 4], data: new Float32Array(4), edgeBoost: 1 }, { k: new Float64Array(0), source: new Uint32Array(0) }, { query: () => new Uint32Array(0) }, { kind: "constant", params: Float64Array.of(0) }, { z0: 0, z1: 1, y0: 0, y1: 1, x0: 0, x1: 4 }, new Float64Array(0)); console.log("ran"); }
    catch (e) { console.log(e.message); }`);
  assert.match(r, /^this fit runs on the WebAssembly fit kernel, but this thread has none installed \(VMG_DECODE_KERNEL=js[^\n]*\)\n$/);
});

test("fits on the wasm kernel are the same bytes on this thread and on worker threads", async () => {
  const { volume } = knownGaussians([10, 24, 28], 15, 3);
  const opts = { budget: { gaussians: 15 }, iterations: 40, seed: 11 };
  const a = await fitVolume(volume, opts);
  const b = await fitVolume(volume, { ...opts, engine: (t) => WorkerEngine.create(t, 2) });
  assert.deepEqual(b.bytes, a.bytes);
  const js = await fitVolume(volume, { ...opts, engine: async (t) => new LocalEngine(t, SLAB_VOXELS, undefined, "js") });
  assert.notDeepEqual(js.bytes, a.bytes, "the JS path ran instead of the kernel");
});

const diadem = fileURLToPath(new URL("../../shared/data/diadem_OP9_crop_92x77x86_u8.tif", import.meta.url));

test("a DIADEM fit on the wasm kernel is within 0.1 dB of the JavaScript path's", { skip: !existsSync(diadem) && "no ../shared/data" }, async (t) => {
  const volume = await openVolume(diadem);
  const psnr = async (path: FitKernelPath) => {
    const r = await fitVolume(volume, { budget: { bpp: 0.073 }, iterations: 40, seed: 1, engine: async (t) => new LocalEngine(t, SLAB_VOXELS, undefined, path) });
    const file = readVmg(r.bytes);
    return evaluate(volume.data, new VmgDecoder(file, "js").decode(fullBox(volume.shape)), volume.shape).psnr;
  };
  const js = await psnr("js"), wa = await psnr("wasm");
  t.diagnostic(`40 steps: JS ${js.toFixed(3)} dB, wasm ${wa.toFixed(3)} dB`);
  assert.ok(js > 30, `JS path ${js} dB`);
  assert.ok(Math.abs(wa - js) <= 0.1, `wasm ${wa.toFixed(3)} dB, JS ${js.toFixed(3)} dB`);
});
