import assert from "node:assert/strict";
import { test } from "node:test";
import { fullBox, VmgDecoder } from "../src/decode/decoder.js";
import { FitCancelledError, FitInputError } from "../src/fit/errors.js";
import { fitVolume } from "../src/fit/fitter.js";
import { constantBackground } from "../src/core/background.js";
import { MAX_AMPLITUDE, P_AMP, P_SCALE, PARAMS_PER_GAUSSIAN } from "../src/core/constants.js";
import { OPT_STRIDE, toFileParams } from "../src/fit/params.js";
import { MAX_FIELD_VALUE } from "../src/fit/prepare.js";
import { defaultHeader, readVmg, writeVmg } from "../src/format/vmg.js";
import { evaluate } from "../src/metrics/evaluate.js";
import { WorkerEngine } from "../src/node/fit-engine.js";
import type { Volume } from "../src/core/volume.js";
import { knownGaussians } from "./helpers/volumes.js";

const shape = [24, 32, 40] as const;
const N = shape[0] * shape[1] * shape[2];

test("the budget is a hard cap and is used: bpp, size and Gaussian count, both encodings", async () => {
  const { volume } = knownGaussians(shape, 30, 8);
  const budgets: Array<{ bpp?: number; bytes?: number; gaussians?: number }> = [{ bpp: 0.2 }, { bytes: 1500 }, { gaussians: 9 }];
  for (const encoding of ["f16", "packed"] as const) {
    for (const budget of budgets) {
      const r = await fitVolume(volume, { budget, iterations: 25, seed: 2, encoding });
      const f = readVmg(r.bytes);
      const what = `${encoding} ${JSON.stringify(budget)}`;
      assert.equal(f.header.encoding, encoding);
      assert.equal(f.count, r.budgetGaussians, `${what}: every affordable Gaussian is used`);
      const cap = budget.bpp !== undefined ? Math.floor((budget.bpp * N) / 8) : budget.bytes;
      if (cap !== undefined) {
        assert.ok(r.bytes.length <= cap, `${what}: ${r.bytes.length} bytes for a cap of ${cap}`);
        // float16 records: not one more would fit; packed records: their size is measured, not fixed
        const slack = encoding === "f16" ? 22 : 0.12 * cap;
        assert.ok(r.bytes.length > cap - slack, `${what}: ${r.bytes.length} bytes leave too much of ${cap} unused`);
      }
      if (budget.gaussians !== undefined) assert.equal(f.count, 9);
    }
  }
});

test("seeded fits are identical, on one thread or on worker threads", async () => {
  const { volume } = knownGaussians(shape, 15, 3);
  const opts = { budget: { gaussians: 15 }, iterations: 40, seed: 11 };
  const a = await fitVolume(volume, opts);
  const b = await fitVolume(volume, opts);
  assert.deepEqual(b.bytes, a.bytes);
  const c = await fitVolume(volume, { ...opts, engine: (t) => WorkerEngine.create(t, 2) });
  assert.deepEqual(c.bytes, a.bytes);
  const d = await fitVolume(volume, { ...opts, seed: 12 });
  assert.notDeepEqual(d.bytes, a.bytes, "another seed gives another fit");
});

test("a volume made of known Gaussians is recovered", async () => {
  // 12 anisotropic Gaussians, budget 12, float16 records (packed quantisation would cap this at
  // ~48 dB). uint16 rounding alone allows ~95 dB; a Gaussian missed or spent twice costs over
  // 20 dB (such fits measured 35-41 dB), so ≥ 50 dB means all were found.
  const { volume } = knownGaussians(shape, 12);
  const r = await fitVolume(volume, { budget: { gaussians: 12 }, iterations: 400, seed: 1, encoding: "f16" });
  const f = readVmg(r.bytes);
  const m = evaluate(volume.data, new VmgDecoder(f).decode(fullBox(shape)), shape);
  assert.ok(m.psnr >= 50, `PSNR ${m.psnr.toFixed(2)} dB`);
  // the fitter's own report is the decoder's result (quantisation-aware tail)
  assert.ok(Math.abs(r.log.at(-1)!.psnr - m.psnr) < 1, `reported ${r.log.at(-1)!.psnr} vs decoded ${m.psnr}`);
});

test("bad volumes give clear errors", async () => {
  const opts = { budget: { bpp: 0.1 }, iterations: 5, source: "in.tif" };
  const cases: Array<[Volume, RegExp]> = [
    [{ shape: [0, 4, 4], dtype: "uint8", data: new Uint8Array(0) }, /in\.tif: is empty/],
    [{ shape: [4, 5, 6], dtype: "uint16", data: new Uint16Array(120).fill(7) }, /in\.tif: is constant \(every voxel is 7\)/],
    [{ shape: [1, 30, 40], dtype: "uint8", data: Uint8Array.from({ length: 1200 }, (_, i) => i % 200) }, /in\.tif: is not a 3D volume \(shape \[1, 30, 40\]\)/],
    [{ shape: [4, 4, 4], dtype: "float64" as "float32", data: new Float32Array(64) }, /in\.tif: unsupported dtype float64/],
    [{ shape: [4, 4, 4], dtype: "float32", data: Float32Array.from({ length: 64 }, (_, i) => (i === 5 ? NaN : i)) }, /in\.tif: contains NaN/],
    [{ shape: [4, 4, 4], dtype: "uint8", data: Uint8Array.from({ length: 64 }, (_, i) => i), unit: "Âµm" }, /in\.tif: unit "Âµm" cannot be stored in a \.vmg header/],
  ];
  for (const [v, re] of cases) {
    await assert.rejects(fitVolume(v, opts), (e: unknown) => e instanceof FitInputError && re.test(e.message), String(re));
  }
  const { volume } = knownGaussians(shape, 5);
  await assert.rejects(fitVolume(volume, { budget: { bytes: 100 }, source: "in.tif" }), /in\.tif: a budget of 100 bytes holds no Gaussian/);
});

test("a fit can be cancelled", async () => {
  const { volume } = knownGaussians(shape, 10);
  const controller = new AbortController();
  await assert.rejects(
    fitVolume(volume, { budget: { gaussians: 10 }, iterations: 1000, signal: controller.signal, onStep: (s) => { if (s.step === 3) controller.abort(); } }),
    FitCancelledError,
  );
});

test("the fitter writes only in-bound files: scales and amplitudes clamped, hot pixels mapped within range", async () => {
  // the parameterisation clamps whatever the optimiser holds, through both payload roundings
  const shape3 = [10, 12, 14] as const;
  const opt = new Float64Array(4 * OPT_STRIDE);
  for (const [i, logs, amp] of [[0, 40, 1e9], [1, -40, -1e9], [2, 1e300, 0.5], [3, 3, -70_000]] as const) {
    opt.set([5, 6, 7, logs, 1, 2, 1, 0, 0, 0, amp], i * OPT_STRIDE);
  }
  for (const encoding of ["f16", "packed"] as const) {
    const params = new Float32Array(4 * PARAMS_PER_GAUSSIAN);
    toFileParams(opt, 4, shape3, params);
    const f = readVmg(writeVmg({ header: { ...defaultHeader(shape3, "uint16"), encoding }, background: constantBackground(0), gaussians: params, count: 4, sections: [] }));
    for (let i = 0; i < 4; i++) {
      const b = i * PARAMS_PER_GAUSSIAN;
      assert.ok(Math.abs(f.gaussians[b + P_AMP]!) <= MAX_AMPLITUDE, `${encoding} Gaussian ${i}: amplitude ${f.gaussians[b + P_AMP]}`);
      for (let k = 0; k < 3; k++) assert.ok(f.gaussians[b + P_SCALE + k]! <= Math.hypot(...shape3), `${encoding} Gaussian ${i}: scale ${f.gaussians[b + P_SCALE + k]}`);
    }
  }
  // a float32 volume whose hot pixels sit 1e9 above its 99.9th percentile: fitted and written in bounds
  const { volume } = knownGaussians([12, 16, 20], 6, 3);
  const data = Float32Array.from(volume.data, (v) => v / 1000);
  data[100] = 1e9; data[2000] = -1e9;
  const hot: Volume = { shape: volume.shape, dtype: "float32", data };
  for (const encoding of ["f16", "packed"] as const) {
    const r = await fitVolume(hot, { budget: { gaussians: 8 }, iterations: 30, seed: 3, encoding });
    const f = readVmg(r.bytes);
    assert.ok(f.count > 0);
    const h = f.header;
    assert.ok(Math.max(1e9 - h.valueOffset, h.valueOffset + 1e9) / h.valueScale <= MAX_FIELD_VALUE * (1 + 1e-9), `${encoding}: mapping ${h.valueOffset} + ${h.valueScale}·field`);
    for (let i = 0; i < f.count; i++) assert.ok(Math.abs(f.gaussians[i * PARAMS_PER_GAUSSIAN + P_AMP]!) <= MAX_AMPLITUDE / 2, `${encoding}: amplitude ${f.gaussians[i * PARAMS_PER_GAUSSIAN + P_AMP]}`);
  }
});
