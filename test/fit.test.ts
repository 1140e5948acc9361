import assert from "node:assert/strict";
import { test } from "node:test";
import { fullBox, VmgDecoder } from "../src/decode/decoder.js";
import { FitCancelledError, FitInputError } from "../src/fit/errors.js";
import { fitVolume } from "../src/fit/fitter.js";
import { readVmg } from "../src/format/vmg.js";
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
