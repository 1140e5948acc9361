/**
 * The WebGPU decoder's robustness in Chromium: it matches the CPU decoder far from the origin
 * (Gaussian centres at x ≈ 100,000, where float32 alone resolves only 1/128 voxel), and when a
 * device is lost (mid-flight on this page; in the chunk worker, under a layer) decoding goes on on
 * the CPU and says so.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { constantBackground } from "../../src/core/background.js";
import { PARAMS_PER_GAUSSIAN } from "../../src/core/constants.js";
import { toNormalized, type Shape3 } from "../../src/core/gaussian.js";
import { Random } from "../../src/core/random.js";
import { defaultHeader, writeVmg, type VmgFile } from "../../src/format/vmg.js";
import type { Box } from "../../src/core/background.js";
import { syntheticNeuron } from "../../src/synthetic/neuron.js";
import { compareSlice, cpuSlice, slicePosition, sliceView } from "./compare.js";
import { openHooksPage, openViewer, panelPixels, startEnv, waitForReady, type Env } from "./harness.js";

let env: Env;
let dir: string;
/** 2048 voxels wide: a view at 2 pixels per voxel shows a fifth of it, so panning needs new chunks. */
const long = writeVmg(syntheticNeuron({ shape: [8, 128, 2048], gaussians: 6000, dtype: "uint8", seed: 21, perCurve: 60 }));

const WIDE: Shape3 = [4, 8, 120_000];

/**
 * Gaussians spread along x, and clusters near both test boxes of axis-aligned ones σx 0.3 (the
 * steepest: an error of 1/256 voxel in the centre moves their value by up to 0.8 % of the peak).
 */
function wideVolume(): VmgFile {
  const [nz, ny, nx] = WIDE;
  const rng = new Random(17);
  const params: number[] = [];
  const add = (x: number, sx: number, rot: number[]) => params.push(
    toNormalized(x, nx), toNormalized(rng.uniform(1, ny - 2), ny), toNormalized(rng.uniform(0.5, nz - 1.5), nz),
    sx, rng.uniform(0.5, 1), rng.uniform(0.5, 1), ...rot, rng.uniform(0.5, 1),
  );
  for (let i = 0; i < 600; i++) add(rng.uniform(0, nx), rng.uniform(0.3, 1.2), [rng.normal(), rng.normal(), rng.normal(), rng.normal()]);
  for (let i = 0; i < 60; i++) { add(rng.uniform(99_950, 100_050), 0.3, [1, 0, 0, 0]); add(rng.uniform(10, 110), 0.3, [1, 0, 0, 0]); }
  // packed: positions on a grid of about 1/12 voxel, not a dyadic one that float32 could hold exactly
  const header = { ...defaultHeader(WIDE, "float32"), encoding: "packed" as const };
  return { header, background: constantBackground(0), gaussians: Float32Array.from(params), count: params.length / PARAMS_PER_GAUSSIAN, sections: [] };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "vmg-gpu-"));
  writeFileSync(join(dir, "wide.vmg"), writeVmg(wideVolume()));
  writeFileSync(join(dir, "long.vmg"), long);
  env = await startEnv(dir);
});
after(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Comparison { maxAbsDiff: number; range: number; voxels: number }

test("far from the origin (x ≈ 100,000) WebGPU decodes the CPU decoder's values within 1e-3 of the peak", async () => {
  const { page } = await openHooksPage(env);
  try {
    for (const box of [
      { z0: 0, z1: 4, y0: 0, y1: 8, x0: 99_940, x1: 100_060 },
      { z0: 0, z1: 4, y0: 0, y1: 8, x0: 0, x1: 120 },
    ] satisfies Box[]) {
      const r = await page.evaluate((b) => (globalThis as unknown as { volmicro: { compareDecodes(u: string, l: number, b: unknown): Promise<Comparison> } })
        .volmicro.compareDecodes("data/wide.vmg", 0, b), box);
      console.log(`x ${box.x0}..${box.x1}: max |webgpu - cpu| = ${r.maxAbsDiff.toExponential(3)}, peak ${r.range.toFixed(4)}, ratio ${(r.maxAbsDiff / r.range).toExponential(3)}`);
      assert.ok(r.range > 0.2, `x ${box.x0}: the box is nearly empty (peak ${r.range})`);
      assert.ok(r.maxAbsDiff <= 1e-3 * r.range, `x ${box.x0}..${box.x1}: max |webgpu - cpu| = ${r.maxAbsDiff}, ${(r.maxAbsDiff / r.range).toExponential(2)} of the peak`);
    }
  } finally {
    await page.close();
  }
});

test("a device destroyed while chunks are in flight: they and later ones decode on the CPU, equal to the CPU decoder's", async () => {
  const { page } = await openHooksPage(env);
  try {
    const boxes: Box[] = [0, 1, 2, 3, 4, 5].map((i) => ({ z0: 0, z1: 8, y0: 0, y1: 64, x0: 64 * i, x1: 64 * i + 64 }));
    const r = await page.evaluate((b) => (globalThis as unknown as { volmicro: { decodeAcrossGpuLoss(u: string, l: number, b: unknown): Promise<Array<{ path: string; reason: string; maxAbsDiff: number }>> } })
      .volmicro.decodeAcrossGpuLoss("data/long.vmg", 0, b), boxes);
    console.log(JSON.stringify(r));
    assert.equal(r[0]!.path, "webgpu");
    assert.ok(r[0]!.maxAbsDiff <= 1, `WebGPU decode before the loss differs by ${r[0]!.maxAbsDiff}`);
    for (const [i, d] of r.slice(1).entries()) {
      assert.equal(d.path, "cpu", `box ${i + 1}: ${JSON.stringify(d)}`);
      assert.match(d.reason, /decoding on the CPU$/);
      assert.equal(d.maxAbsDiff, 0, `box ${i + 1} differs from the CPU decoder`);
    }
  } finally {
    await page.close();
  }
});

type Stats = Record<string, { chunks: { cpu: number; webgpu: number }; lastPath: string; lastReason: string }>;

test("when the worker's WebGPU device is lost, later chunks decode on the CPU, match the CPU decoder, and the tab says why", async () => {
  const Z = 4, PX = 2;
  const state = {
    ...sliceView("vmg://data/long.vmg", long, Z, PX, [200, 64]),
    layers: [{ type: "image", name: "vmg", source: "vmg://data/long.vmg", opacity: 1, tab: "volmicro" }],
    selectedLayer: { layer: "vmg", visible: true, size: 300 },
  };
  const { page, errors } = await openViewer(env, state, "?vmgDecode=webgpu");
  const stats = async () => Object.values(await page.evaluate(() => (globalThis as unknown as { volmicro: { decodeStats(): unknown } }).volmicro.decodeStats()) as Stats)[0]!;
  const decodePath = () => page.$eval(".volmicro-tab tr[data-key='Decode path'] td", (e) => e.textContent ?? "");
  try {
    const before = await stats();
    assert.ok(before.chunks.webgpu > 0 && before.chunks.cpu === 0, `not decoding on WebGPU: ${JSON.stringify(before)}`);
    assert.match(await decodePath(), /^WebGPU/);
    const adapter = await page.evaluate(() => (globalThis as unknown as { volmicro: { loseWorkerGpu(): Promise<string | null> } }).volmicro.loseWorkerGpu());
    assert.ok(adapter, "the chunk worker had no WebGPU device to lose");
    // pan to chunks never decoded
    const cx = 1600, cy = 64;
    await page.evaluate((p) => { (globalThis as unknown as { viewer: { position: { value: Float32Array } } }).viewer.position.value = Float32Array.from(p); }, slicePosition(cx, cy, Z));
    await page.waitForFunction((n) => {
      const s = Object.values((globalThis as unknown as { volmicro: { decodeStats(): Record<string, { chunks: { cpu: number } }> } }).volmicro.decodeStats())[0];
      return (s?.chunks.cpu ?? 0) >= n;
    }, { timeout: 60_000 }, 2);
    await waitForReady(page);
    const after = await stats();
    console.log(`before the loss: ${JSON.stringify(before.chunks)}; after: ${JSON.stringify(after.chunks)}, ${after.lastReason}`);
    assert.equal(after.chunks.webgpu, before.chunks.webgpu, `chunks still decoded on WebGPU after the loss: ${JSON.stringify(after)}`);
    assert.equal(after.lastPath, "cpu");
    assert.match(after.lastReason, /WebGPU device lost.*decoding on the CPU/);
    await page.waitForFunction(() => /^CPU \(WebGPU device lost/.test(document.querySelector(".volmicro-tab tr[data-key='Decode path'] td")?.textContent ?? ""), { timeout: 10_000 });
    // what the screen shows there is the CPU decoder's slice
    const shot = await panelPixels(page);
    const exp = cpuSlice(long, Z);
    const cmp = compareSlice(shot, exp.at, exp.nx, exp.ny, cx, cy, PX, 2);
    assert.ok(cmp.compared > 20_000, `compared only ${cmp.compared} pixels`);
    console.log(`tab: ${await decodePath()}; screen vs CPU slice: ${JSON.stringify(cmp)}`);
    assert.ok(cmp.agree >= 0.99, `only ${(cmp.agree * 100).toFixed(2)}% of pixels within 2 grey levels (mean |diff| ${cmp.meanAbs.toFixed(2)})`);
    const other = compareSlice(shot, cpuSlice(long, Z + 3).at, exp.nx, exp.ny, cx, cy, PX, 2);
    assert.ok(other.agree < 0.95, `slice ${Z + 3} matches the screen as well (${other.agree}): a weak test`);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
