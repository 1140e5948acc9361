/**
 * Screenshots for docs/ (run after `npm run demo` made the demo data once):
 *   node --import tsx demo/screenshots.ts [--demo-only]
 * docs/demo.png (the demo with the .vmg layer's VolMicro tab), docs/compress-running.png and
 * docs/compress-done.png (Compress this layer on the demo's zarr layer, mid-fit and finished).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import puppeteer, { type Page } from "puppeteer";
import { ensureBuild, CHROMIUM, CHROMIUM_ARGS } from "../test/browser/harness.js";
import { readVmg } from "../src/format/vmg.js";
import { ROOT } from "./build.js";
import { startStaticServer } from "./server.js";
import { demoState, demoUrl } from "./state.js";
import { DEFAULT_DEMO_VOLUME, DEMO_VOLUMES } from "./volumes.js";

const demo = DEMO_VOLUMES[DEFAULT_DEMO_VOLUME]!;
const dataDir = join(ROOT, "demo/data");
const server = await startStaticServer({ "/": await ensureBuild(), "/data": dataDir });
const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
const h = readVmg(new Uint8Array(readFileSync(join(dataDir, `${demo.name}.vmg`)))).header;
const [nz] = h.shape;
const base = () => demoState({
  zarrUrl: `${server.url}data/${demo.name}.zarr/`, vmgUrl: `data/${demo.name}.vmg`, storeUrl: `${server.url}data/${demo.name}.ome.zarr/`, shape: [...h.shape], voxelSize: [...h.voxelSize],
  unit: h.unit, dtype: h.dtype, valueOffset: h.valueOffset, valueScale: h.valueScale, z: Math.floor(nz / 2),
}) as Record<string, unknown> & { layers: Array<Record<string, unknown>> };

async function open(state: unknown): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 720, deviceScaleFactor: 1 });
  await page.goto(demoUrl(server.url, state));
  await page.waitForFunction(() => (globalThis as unknown as { viewer?: { isReady(): boolean } }).viewer?.isReady() === true, { timeout: 300_000, polling: 200 });
  return page;
}

try {
  const s1 = base();
  s1.layers.find((l) => l["name"] === "vmg")!["tab"] = "volmicro";
  s1["selectedLayer"] = { layer: "vmg", visible: true, size: 330 };
  const p1 = await open(s1);
  await new Promise((r) => setTimeout(r, 1000));
  await p1.screenshot({ path: join(ROOT, "docs/demo.png") });
  await p1.close();
  if (!process.argv.includes("--demo-only")) {
    const s2 = base();
    s2.layers.find((l) => l["name"] === "original (zarr)")!["tab"] = "volmicro";
    s2["selectedLayer"] = { layer: "original (zarr)", visible: true, size: 330 };
    const p2 = await open(s2);
    await p2.waitForSelector(".volmicro-compress .volmicro-region option[value='view']");
    await p2.click(".volmicro-compress .volmicro-start");
    await p2.waitForFunction(() => Number(document.querySelector(".volmicro-compress tr[data-key='Step'] td")?.textContent?.split(" ")[0] ?? 0) >= 120, { timeout: 600_000, polling: 500 });
    await p2.screenshot({ path: join(ROOT, "docs/compress-running.png") });
    await p2.waitForFunction(() => document.querySelector(".volmicro-compress")?.getAttribute("data-state") === "done", { timeout: 900_000, polling: 1000 });
    await p2.click(".volmicro-compress .volmicro-add-layer");
    await new Promise((r) => setTimeout(r, 500));
    await p2.waitForFunction(() => (globalThis as unknown as { viewer: { isReady(): boolean } }).viewer.isReady(), { timeout: 300_000, polling: 200 });
    // show the original's tab again (Add as layer selects the new layer)
    await p2.evaluate(() => {
      const v = (globalThis as unknown as { viewer: { layerManager: { getLayerByName(n: string): unknown }; selectedLayer: { layer: unknown } } }).viewer;
      v.selectedLayer.layer = v.layerManager.getLayerByName("original (zarr)");
    });
    await p2.waitForSelector(".volmicro-compress .volmicro-region option[value='view']");
    await new Promise((r) => setTimeout(r, 1000));
    await p2.screenshot({ path: join(ROOT, "docs/compress-done.png") });
    await p2.close();
  }
} finally {
  await browser.close();
  await server.close();
}
