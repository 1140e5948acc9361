/**
 * The demo's 3D maximum-intensity panels in Debian's Chromium: the `.vmg` layer must look as sharp
 * as the zarr layer beside it. Both hold the same voxels (the zarr is the CPU decode of the
 * `.vmg`) and are shown in the demo's own state (demo/state.ts), so any loss of detail in the
 * `.vmg` panel comes from how Neuroglancer renders it, such as drawing it from a coarser scale.
 * The zarr is OME-Zarr, as the demo's is: it and the `.vmg` put each voxel's centre at the same
 * coordinates, so the two panels share a pixel grid, as the comparison wants. The demo's third
 * column, the volume as a Gaussian store (`vmg compress … -o *.ome.zarr`), must render its
 * cross-section and projection as detailed as its fit allows.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Page } from "puppeteer";
import { DEFAULT_CHUNKS } from "../../demo/make-data.js";
import { demoState, projectionDepthAndSamples, STORE_LAYER } from "../../demo/state.js";
import { fullBox, VmgDecoder } from "../../src/decode/decoder.js";
import { writeVmg, type VmgFile } from "../../src/format/vmg.js";
import { writeZarrV3 } from "../../src/io/zarr.js";
import { FileSystemStore } from "../../src/node/fs-store.js";
import { syntheticNeuron } from "../../src/synthetic/neuron.js";
import { vmg } from "../helpers/cli.js";
import { reproducedDetail } from "./detail.js";
import { panelRects, regionPixels, startEnv, waitForReady, type Env, type GrayImage, type Rect } from "./harness.js";

/** The `.vmg` panel must reproduce at least this share of the zarr panel's fine detail. */
const MIN_DETAIL = 0.7;
/** The store's budget, and the share of the zarr panels' detail its panels must reproduce. */
const STORE_BPP = "0.5";
const MIN_STORE_DETAIL = 0.8; // 0.94 measured (cross-section and MIP, 40 steps at 0.5 bpp)

let env: Env;
let file: VmgFile;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), "vmg-demo-3d-"));
  // isotropic unit-less voxels, as in the demo volume
  file = syntheticNeuron({ shape: [48, 160, 160], gaussians: 3000, seed: 11 });
  file.header.voxelSize = [1, 1, 1];
  file.header.unit = "";
  writeFileSync(join(dir, "neuron.vmg"), writeVmg(file));
  const h = file.header;
  const data = new VmgDecoder(file).decode(fullBox(h.shape));
  await writeZarrV3(new FileSystemStore(join(dir, "neuron.zarr")), { shape: h.shape, dtype: h.dtype, data }, { chunks: DEFAULT_CHUNKS, name: "neuron" });
  // The demo's store, made as the demo makes it (smaller chunks and fewer steps: a test's budget).
  const r = await vmg(["compress", join(dir, "neuron.zarr"), "-o", join(dir, "neuron.ome.zarr"), "--chunk", "32", "--bpp", STORE_BPP, "--iterations", "40", "--threads", "2", "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
  env = await startEnv(dir);
});
after(async () => { await env?.close(); });

/** Share of the zarr 3D panel's detail (the demo's bottom row, left) that the `.vmg` one (right) reproduces. */
async function mipDetail(page: Page): Promise<number> {
  const rects = await panelRects(page);
  const bottom = Math.max(...rects.map((r) => r.y));
  const [zarrRect, vmgRect] = rects.filter((r) => r.y === bottom).sort((a, b) => a.x - b.x);
  assert.ok(zarrRect && vmgRect, `expected two 3D panels in the demo's bottom row, found ${JSON.stringify(rects)}`);
  const zarr = await regionPixels(page, zarrRect), vmg = await regionPixels(page, vmgRect);
  for (const [name, img] of [["zarr", zarr], ["vmg", vmg]] as const) {
    const bright = img.gray.reduce((n, g) => n + (g > 128 ? 1 : 0), 0);
    assert.ok(bright > 0.01 * img.gray.length, `the ${name} 3D panel is nearly empty (${bright} bright pixels)`);
  }
  return reproducedDetail(vmg, zarr);
}

test(`the demo's 3D MIP of the .vmg layer is as sharp as the zarr original's (≥ ${MIN_DETAIL} of its detail)`, { timeout: 300_000 }, async (t) => {
  const h = file.header;
  const state = {
    ...demoState({
      zarrUrl: `${env.server.url}data/neuron.zarr/`, vmgUrl: "data/neuron.vmg", shape: [...h.shape], voxelSize: [...h.voxelSize],
      unit: h.unit, dtype: h.dtype, valueOffset: h.valueOffset, valueScale: h.valueScale, z: h.shape[0] / 2,
    }),
    showAxisLines: false, // the same lines in both panels would count as shared detail
  };
  const page = await env.browser.newPage();
  try {
    // the demo screenshot's viewport
    await page.setViewport({ width: 1280, height: 720, deviceScaleFactor: 1 });
    await page.goto(`${env.server.url}#!${encodeURIComponent(JSON.stringify(state))}`);
    await waitForReady(page, 240_000);
    const detail = await mipDetail(page);
    t.diagnostic(`the .vmg 3D panel reproduces ${detail.toFixed(3)} of the zarr panel's detail`);
    assert.ok(detail >= MIN_DETAIL, `the .vmg 3D panel reproduces only ${detail.toFixed(3)} of the zarr panel's detail (a coarser scale or sampling)`);

    // Control: with a few hundred depth samples Neuroglancer draws the .vmg from its 2× coarser
    // scale; the measure must see that, or the comparison above has no teeth.
    const samples = Math.round(projectionDepthAndSamples([...h.shape], [...h.voxelSize]).depth / 1.5);
    await page.evaluate((n) => {
      const v = (globalThis as unknown as { viewer: { layerManager: { getLayerByName(n: string): { layer: { volumeRenderingDepthSamplesTarget: { value: number } } } } } }).viewer;
      v.layerManager.getLayerByName("vmg").layer.volumeRenderingDepthSamplesTarget.value = n;
    }, samples);
    await waitForReady(page, 240_000);
    const coarse = await mipDetail(page);
    t.diagnostic(`control, .vmg at ${samples} depth samples (its 2× coarser scale): ${coarse.toFixed(3)}`);
    assert.ok(coarse < MIN_DETAIL, `a .vmg panel drawn from the 2× coarser scale reproduces ${coarse.toFixed(3)} of the detail: the measure cannot tell scales apart`);
  } finally {
    await page.close();
  }
});

/** The two images cut to their common size (panels side by side may differ by a pixel). */
function common(a: GrayImage, b: GrayImage): [GrayImage, GrayImage] {
  const width = Math.min(a.width, b.width), height = Math.min(a.height, b.height);
  const cut = (g: GrayImage): GrayImage => {
    const gray = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) gray.set(g.gray.subarray(y * g.width, y * g.width + width), y * width);
    return { width, height, gray };
  };
  return [cut(a), cut(b)];
}

test(`the demo's store layer renders beside the zarr and .vmg layers: cross-section and 3D MIP (≥ ${MIN_STORE_DETAIL} of the zarr panels' detail)`, { timeout: 300_000 }, async (t) => {
  const h = file.header;
  const state: Record<string, unknown> = {
    ...demoState({
      zarrUrl: `${env.server.url}data/neuron.zarr/`, vmgUrl: "data/neuron.vmg", storeUrl: `${env.server.url}data/neuron.ome.zarr/`,
      shape: [...h.shape], voxelSize: [...h.voxelSize], unit: h.unit, dtype: h.dtype, valueOffset: h.valueOffset, valueScale: h.valueScale, z: h.shape[0] / 2,
    }),
    showAxisLines: false,
  };
  assert.ok((state["layers"] as Array<{ name: string }>).some((l) => l.name === STORE_LAYER));
  const page = await env.browser.newPage();
  try {
    await page.setViewport({ width: 1280, height: 720, deviceScaleFactor: 1 });
    await page.goto(`${env.server.url}#!${encodeURIComponent(JSON.stringify(state))}`);
    await waitForReady(page, 240_000);
    const rects = await panelRects(page);
    const rows = [Math.min(...rects.map((r) => r.y)), Math.max(...rects.map((r) => r.y))];
    for (const [row, y] of ["cross-section", "3D MIP"].map((name, i) => [name, rows[i]!] as const)) {
      const [zarrRect, , storeRect] = rects.filter((r) => r.y === y).sort((a, b) => a.x - b.x) as Array<Rect | undefined>;
      assert.ok(zarrRect && storeRect, `expected three panels in the ${row} row, found ${JSON.stringify(rects)}`);
      const [store, zarr] = common(await regionPixels(page, storeRect), await regionPixels(page, zarrRect));
      const bright = store.gray.reduce((n, g) => n + (g > 128 ? 1 : 0), 0);
      assert.ok(bright > 0.005 * store.gray.length, `the store's ${row} panel is nearly empty (${bright} bright pixels)`);
      const detail = reproducedDetail(store, zarr);
      t.diagnostic(`the store's ${row} panel reproduces ${detail.toFixed(3)} of the zarr panel's detail`);
      assert.ok(detail >= MIN_STORE_DETAIL, `the store's ${row} panel reproduces only ${detail.toFixed(3)} of the zarr panel's detail`);
    }
  } finally {
    await page.close();
  }
});
