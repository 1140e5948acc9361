/**
 * The WebGPU fit engine in Chromium (WebGPU exists only there):
 *  - against the CPU LocalEngine on the same synthetic target and parameters, four slabs, a full
 *    step and a two-slab minibatch. The GPU sums in f32, the CPU in f64: SwiftShader agrees to
 *    about 1e-6; the bounds leave room for hardware GPUs' less exact exp();
 *  - Compress this layer with the WebGPU engine on a small block of the demo volume, against the
 *    CPU engine on the same block (same seed, so the PSNRs agree closely).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ROOT } from "../../demo/build.js";
import { DEFAULT_CHUNKS, readDemoVolume } from "../../demo/make-data.js";
import { DEFAULT_DEMO_VOLUME, DEMO_VOLUMES } from "../../demo/volumes.js";
import { writeZarrV3 } from "../../src/io/zarr.js";
import { FileSystemStore } from "../../src/node/fs-store.js";
import type { EngineParity, EngineParityOptions, EvalParity } from "../../src/gpu/fit-parity.js";
import { openHooksPage, openViewer, startEnv, type Env } from "./harness.js";

const demo = DEMO_VOLUMES[DEFAULT_DEMO_VOLUME]!;
const demoFile = join(ROOT, "../shared/data", demo.file);
const haveDemo = existsSync(demoFile);

let env: Env;
let dir: string;
let shape: readonly [number, number, number];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "vmg-fit-engine-"));
  if (haveDemo) {
    const volume = await readDemoVolume(demoFile, demo.crop);
    shape = volume.shape;
    await writeZarrV3(new FileSystemStore(join(dir, "demo.zarr")), volume, { name: demo.name, chunks: DEFAULT_CHUNKS });
  }
  env = await startEnv(dir);
});
after(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

const OPTIONS: EngineParityOptions = { shape: [16, 24, 32], gaussians: 20, seed: 7, slabVoxels: 4 * 24 * 32, subset: [2, 0] };

function checkEval(name: string, p: EvalParity): void {
  assert.ok(p.wsseRel < 1e-5 && p.sseRel < 1e-5, `${name}: squared errors differ: ${JSON.stringify(p)}`);
  assert.ok(p.bgGradRel < 1e-5, `${name}: background gradient differs: ${p.bgGradRel}`);
  assert.ok(Math.max(...p.momentRel) < 1e-4, `${name}: moments differ: ${JSON.stringify(p.momentRel)}`);
  assert.ok(p.significantRel < 1e-3, `${name}: a significant moment differs by ${p.significantRel} of itself`);
}

test("the WebGPU fit engine matches the CPU engine (squared errors, background gradient, moments, predict), with supports whole or split across workgroups", async () => {
  // no layers, so Neuroglancer never reports ready: wait for the page hooks instead
  const { page, errors } = await openHooksPage(env);
  try {
    // the default pieces hold these supports whole; 37 voxels (not a row or plane multiple) splits most
    for (const pieceVoxels of [undefined, 37]) {
      const r = await page.evaluate((o) => (globalThis as unknown as { volmicro: { compareFitEngines(o: EngineParityOptions): Promise<EngineParity> } }).volmicro.compareFitEngines(o), { ...OPTIONS, pieceVoxels });
      console.log(`fit engine parity on ${r.adapter}, pieces of ${pieceVoxels ?? "default"} voxels: ${JSON.stringify(r)}`);
      assert.equal(r.slabs, 4);
      if (pieceVoxels) assert.ok(r.momentPieces > 3 * r.kernels, `only ${r.momentPieces} pieces for ${r.kernels} kernels: supports were not split`);
      checkEval("full step", r.full);
      checkEval("minibatch", r.minibatch);
      assert.ok(r.predictMaxAbs < 1e-5 * r.predictRange, `predict differs by ${r.predictMaxAbs} (range ${r.predictRange})`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

interface Outcome { psnr: number; fitSeconds: number; engine: string; gaussians: number }

/** Compress the "current view" block (zoomed in: about 60 × 60 × 80 voxels), Quick preset, with `engine`. */
async function compressView(engine: "cpu" | "webgpu"): Promise<Outcome> {
  const [nz, ny, nx] = shape;
  const state = {
    dimensions: { x: [1, ""], y: [1, ""], z: [1, ""] }, position: [nx / 2, ny / 2, nz / 2 + 0.5], crossSectionScale: 0.1, layout: "xy",
    layers: [{ type: "image", name: "original", source: `zarr://${env.server.url}data/demo.zarr/`, tab: "volmicro" }],
    selectedLayer: { layer: "original", visible: true, size: 420 },
  };
  const { page, errors } = await openViewer(env, state);
  try {
    await page.waitForSelector(".volmicro-compress .volmicro-region option[value='view']", { timeout: 60_000 });
    await page.select(".volmicro-compress .volmicro-region", "view");
    await page.select(".volmicro-compress .volmicro-preset", "quick");
    await page.select(".volmicro-compress .volmicro-engine", engine);
    await page.click(".volmicro-compress .volmicro-start");
    await page.waitForFunction(() => ["done", "error"].includes(document.querySelector(".volmicro-compress")?.getAttribute("data-state") ?? ""), { timeout: 120_000, polling: 250 });
    assert.equal(await page.$eval(".volmicro-compress .volmicro-error", (e) => e.textContent ?? ""), "", `${engine}: the job reported an error`);
    assert.deepEqual(errors, []);
    return await page.evaluate(() => (globalThis as unknown as { volmicroLastCompress: Outcome }).volmicroLastCompress);
  } finally {
    await page.close();
  }
}

test("Compress this layer with the WebGPU engine: the CPU engine's PSNR on the same block", { skip: !haveDemo && "the demo volume is not in ../shared/data" }, async () => {
  const gpu = await compressView("webgpu");
  const cpu = await compressView("cpu");
  console.log(`compress, WebGPU: ${JSON.stringify(gpu)}; CPU: ${JSON.stringify(cpu)}`);
  assert.equal(gpu.engine, "WebGPU");
  assert.equal(gpu.gaussians, cpu.gaussians);
  assert.ok(Math.abs(gpu.psnr - cpu.psnr) < 0.05, `PSNR ${gpu.psnr} dB on WebGPU, ${cpu.psnr} dB on the CPU`);
});
