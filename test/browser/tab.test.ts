/**
 * The VolMicro layer tab in Debian's Chromium: facts and share link of a `.vmg` layer; "Compress
 * this layer" on the demo's zarr layer (the demo volume written as OME-Zarr by our writer) at a
 * small budget (the new layer renders, its PSNR meets a floor); cancelling midway adds nothing;
 * an unsupported layer gets the message.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Page } from "puppeteer";
import { ROOT } from "../../demo/build.js";
import { DEFAULT_CHUNKS, readDemoVolume } from "../../demo/make-data.js";
import { DEFAULT_DEMO_VOLUME, DEMO_VOLUMES } from "../../demo/volumes.js";
import type { Box } from "../../src/core/background.js";
import type { Volume } from "../../src/core/volume.js";
import { writeZarrV3 } from "../../src/io/zarr.js";
import { FileSystemStore } from "../../src/node/fs-store.js";
import { makeTestData, type TestData } from "./data.js";
import { layerErrors, openViewer, panelPixels, startEnv, waitForReady, type Env } from "./harness.js";

const demo = DEMO_VOLUMES[DEFAULT_DEMO_VOLUME]!;
const demoFile = join(ROOT, "../shared/data", demo.file);
const haveDemo = existsSync(demoFile);

let env: Env;
let data: TestData;
let shape: [number, number, number];
let volume: Volume;

/** PSNR (peak = data range) of the region's mean value as its reconstruction. */
function constantPsnr(v: Volume, b: Box): number {
  const [, ny, nx] = v.shape;
  const values: number[] = [];
  for (let z = b.z0; z < b.z1; z++) for (let y = b.y0; y < b.y1; y++) for (let x = b.x0; x < b.x1; x++) values.push(v.data[(z * ny + y) * nx + x]!);
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  let lo = Infinity, hi = -Infinity, se = 0;
  for (const x of values) { lo = Math.min(lo, x); hi = Math.max(hi, x); se += (x - mean) ** 2; }
  return 10 * Math.log10((hi - lo) ** 2 / (se / values.length));
}

before(async () => {
  data = makeTestData();
  if (haveDemo) {
    volume = await readDemoVolume(demoFile, demo.crop);
    shape = [...volume.shape];
    await writeZarrV3(new FileSystemStore(join(data.dir, "demo.zarr")), volume, { name: demo.name, chunks: DEFAULT_CHUNKS });
  }
  env = await startEnv(data.dir);
});
after(async () => { await env?.close(); });

type G = Record<string, unknown>;

/** The demo's zarr layer alone in an xy panel, its VolMicro tab open; `scale`: voxels per pixel. */
function zarrState(scale: number) {
  const [nz, ny, nx] = shape;
  return {
    dimensions: { x: [1, ""], y: [1, ""], z: [1, ""] },
    position: [nx / 2, ny / 2, nz / 2 + 0.5],
    crossSectionScale: scale,
    layout: "xy",
    layers: [{ type: "image", name: "original", source: `zarr://${env.server.url}data/demo.zarr/`, tab: "volmicro", opacity: 1 }],
    selectedLayer: { layer: "original", visible: true, size: 420 },
  };
}

async function layerNames(page: Page): Promise<string[]> {
  return page.evaluate(() => ((globalThis as unknown as G)["viewer"] as { layerManager: { managedLayers: Array<{ name: string }> } }).layerManager.managedLayers.map((l) => l.name));
}

async function fact(page: Page, scope: string, key: string): Promise<string> {
  return page.$eval(`${scope} tr[data-key="${key}"] td`, (e) => e.textContent ?? "");
}

async function waitForState(page: Page, state: string, timeout: number): Promise<void> {
  await page.waitForFunction((s) => document.querySelector(".volmicro-compress")?.getAttribute("data-state") === s
    || document.querySelector(".volmicro-compress")?.getAttribute("data-state") === "error", { timeout, polling: 250 }, state);
  const error = await page.$eval(".volmicro-compress .volmicro-error", (e) => e.textContent ?? "");
  assert.equal(error, "", "the job reported an error");
}

test("a .vmg layer's VolMicro tab shows the file's facts and copies a share link carrying the file", async () => {
  const state = {
    dimensions: { x: [1e-6, "m"], y: [1e-6, "m"], z: [1e-6, "m"] },
    position: [24, 20, 10.5],
    layout: "xy",
    layers: [{ type: "image", name: "v", source: "vmg://data/tiny.vmg", tab: "volmicro" }],
    selectedLayer: { layer: "v", visible: true, size: 420 },
  };
  const { page, errors } = await openViewer(env, state);
  try {
    await page.waitForSelector(".volmicro-tab tr[data-key='Gaussians']", { timeout: 60_000 });
    assert.equal(await fact(page, ".volmicro-tab", "Gaussians"), "150");
    assert.match(await fact(page, ".volmicro-tab", "Size"), new RegExp(`${data.tiny.length.toLocaleString("en")} bytes`));
    assert.equal(await fact(page, ".volmicro-tab", "Encoding"), "f16");
    await page.waitForFunction(() => !/not decoded yet/.test(document.querySelector(".volmicro-tab tr[data-key='Decode path'] td")?.textContent ?? "not decoded yet"), { timeout: 60_000 });
    assert.match(await fact(page, ".volmicro-tab", "Decode path"), /^(CPU|WebGPU) \(/);
    await page.click(".volmicro-tab .volmicro-copy-link");
    await page.waitForFunction(() => (globalThis as unknown as G)["volmicroLastShareLink"] !== undefined, { timeout: 30_000 });
    const link = await page.evaluate(() => (globalThis as unknown as G)["volmicroLastShareLink"]) as { url: string; inline: boolean };
    assert.ok(link.inline);
    const second = await env.browser.newPage();
    try {
      await second.setViewport({ width: 800, height: 600, deviceScaleFactor: 1 });
      await second.goto(link.url);
      await waitForReady(second);
      const stats = await second.evaluate(() => ((globalThis as unknown as G)["volmicro"] as { decodeStats(): Record<string, { chunks: { cpu: number; webgpu: number } }> }).decodeStats());
      const [url, s] = Object.entries(stats)[0]!;
      assert.ok(url.startsWith("data:application/octet-stream;base64,"), url.slice(0, 60));
      assert.ok(s.chunks.cpu + s.chunks.webgpu > 0);
    } finally {
      await second.close();
    }
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test("an unsupported layer gets a message saying what is supported (tab opened with Alt+V)", async () => {
  const state = {
    dimensions: { x: [1, ""], y: [1, ""], z: [1, ""] },
    layers: [{ type: "annotation", name: "notes", source: "local://annotations" }],
    selectedLayer: { layer: "notes", visible: false, size: 420 },
  };
  const { page } = await openViewer(env, state, "", false);
  try {
    await page.waitForFunction(() => "volmicro" in globalThis, { timeout: 60_000 });
    // Neuroglancer's key bindings listen on the viewer's element, which takes focus under the mouse
    await page.evaluate(() => ((globalThis as unknown as G)["viewer"] as { element: HTMLElement }).element.focus());
    await page.keyboard.down("Alt");
    await page.keyboard.press("KeyV");
    await page.keyboard.up("Alt");
    await page.waitForSelector(".volmicro-unsupported", { timeout: 60_000 });
    const text = await page.$eval(".volmicro-unsupported", (e) => e.textContent ?? "");
    assert.match(text, /zarr v2\/v3 array or an OME-Zarr image/);
    assert.match(text, /only image layers|not supported/);
  } finally {
    await page.close();
  }
});

test("Compress this layer: the demo's zarr layer at a small budget becomes a .vmg layer that renders", { skip: !haveDemo && "the demo volume is not in ../shared/data" }, async () => {
  // zoomed in: "current view" is a block of about 60 × 60 × 80 voxels
  const { page, errors } = await openViewer(env, zarrState(0.1));
  try {
    await page.waitForSelector(".volmicro-compress .volmicro-region option[value='view']", { timeout: 60_000 });
    const before = await layerNames(page);
    await page.select(".volmicro-compress .volmicro-region", "view");
    await page.select(".volmicro-compress .volmicro-preset", "quick");
    const estimate = await page.$eval(".volmicro-compress .volmicro-estimate", (e) => e.textContent ?? "");
    assert.match(estimate, /ratio ≈ \d+×/, estimate);
    await page.click(".volmicro-compress .volmicro-start");
    await page.waitForSelector(".volmicro-compress svg polyline", { timeout: 120_000 }); // live plot
    await waitForState(page, "done", 300_000);
    const psnr = Number((await fact(page, ".volmicro-compress", "PSNR")).replace(/ dB$/, ""));
    // floor: clearly better than the region's best constant (its mean), and a usable reconstruction
    const m = /box x (\d+)–(\d+), y (\d+)–(\d+), z (\d+)–(\d+)/.exec(estimate);
    assert.ok(m, estimate);
    const [x0, x1, y0, y1, z0, z1] = m.slice(1).map(Number) as [number, number, number, number, number, number];
    const baseline = constantPsnr(volume, { x0, x1, y0, y1, z0, z1 });
    assert.ok(psnr >= Math.max(30, baseline + 3), `PSNR ${psnr} dB against the source region; its mean alone gives ${baseline.toFixed(2)} dB`);
    assert.match(await fact(page, ".volmicro-compress", "Ratio"), /^\d+(\.\d)?× smaller/);
    assert.deepEqual(await layerNames(page), before, "nothing is added before Add as layer");
    await page.click(".volmicro-compress .volmicro-add-layer");
    await page.waitForFunction((n) => ((globalThis as unknown as G)["viewer"] as { layerManager: { managedLayers: unknown[] } }).layerManager.managedLayers.length === n, { timeout: 30_000 }, before.length + 1);
    const names = await layerNames(page);
    assert.equal(names[0], "original");
    assert.match(names[1]!, /^original \(vmg [\d.]+ bpp\)$/, "placed right above the original");
    await waitForReady(page);
    const stats = await page.evaluate(() => ((globalThis as unknown as G)["volmicro"] as { decodeStats(): Record<string, { chunks: { cpu: number; webgpu: number } }> }).decodeStats());
    const blob = Object.entries(stats).find(([u]) => u.startsWith("blob:"));
    assert.ok(blob && blob[1].chunks.cpu + blob[1].chunks.webgpu > 0, `the new layer decoded no chunk: ${JSON.stringify(Object.keys(stats))}`);
    assert.deepEqual(await layerErrors(page), []);
    const shot = await panelPixels(page);
    let lo = 255, hi = 0;
    for (const g of shot.gray) { lo = Math.min(lo, g); hi = Math.max(hi, g); }
    assert.ok(hi - lo > 40, `the panel is flat (${lo}..${hi})`);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test("Compress this layer: cancelling midway leaves the viewer as it was", { skip: !haveDemo && "the demo volume is not in ../shared/data" }, async () => {
  const { page, errors } = await openViewer(env, zarrState(0.8));
  try {
    await page.waitForSelector(".volmicro-compress .volmicro-region option[value='view']", { timeout: 60_000 });
    const stateBefore = await page.evaluate(() => JSON.stringify(((globalThis as unknown as G)["viewer"] as { state: { toJSON(): { layers: unknown } } }).state.toJSON().layers));
    await page.select(".volmicro-compress .volmicro-preset", "best");
    await page.click(".volmicro-compress .volmicro-start");
    await page.waitForFunction(() => Number(document.querySelector(".volmicro-compress tr[data-key='Step'] td")?.textContent?.split(" ")[0] ?? 0) >= 3, { timeout: 180_000, polling: 250 });
    await page.click(".volmicro-compress .volmicro-cancel");
    await waitForState(page, "cancelled", 10_000);
    await new Promise((r) => setTimeout(r, 1500)); // a late message from the worker must not change anything
    const stateAfter = await page.evaluate(() => JSON.stringify(((globalThis as unknown as G)["viewer"] as { state: { toJSON(): { layers: unknown } } }).state.toJSON().layers));
    assert.equal(stateAfter, stateBefore);
    assert.match(await page.$eval(".volmicro-compress .volmicro-status", (e) => e.textContent ?? ""), /Cancelled: nothing was added/);
    assert.equal(await page.$$eval(".volmicro-compress .volmicro-add-layer", (e) => e.length), 0);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
