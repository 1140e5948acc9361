/**
 * `node --import tsx bench/store-picture.ts <store.ome.zarr> <out.png>`: bench:store's picture alone —
 * the 1.2·10^10-voxel store tiled from an already written 303³ store's chunks (bench/store-tile.ts),
 * and the viewer's first complete frame of bench:store's view of it — without the fits or timings
 * (to look at a store written with other settings, e.g. `--background continuous`).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Shape3 } from "../src/core/gaussian.js";
import { gaussianStoreInfo } from "../src/node/store-reader.js";
import { ROOT } from "../demo/build.js";
import { StoreBrowser } from "./store-browser.js";
import { TILE, writeTiledStore } from "./store-tile.js";
import { storeView, VIEW_CENTRE } from "./store-view.js";

const [store, out] = process.argv.slice(2);
if (!store || !out) throw new Error("usage: bench/store-picture.ts <store.ome.zarr> <out.png>");
mkdirSync(join(ROOT, ".cache", "bench-store"), { recursive: true });
const tmp = mkdtempSync(join(ROOT, ".cache", "bench-store", "picture-"));
try {
  const big = join(tmp, "tiled.ome.zarr");
  await writeTiledStore(store, big, [9 * TILE, 9 * TILE, 9 * TILE]);
  const info = await gaussianStoreInfo(store);
  const browser = await StoreBrowser.start({ "/s/big": big }, (s) => console.log(s));
  try {
    // bench:store's view: the middle of the 9³ tiles
    const centre = VIEW_CENTRE.map((c) => c + 4 * TILE) as unknown as Shape3;
    writeFileSync(out, await browser.screenshot(storeView(info, `${browser.server.url}s/big/`, centre)));
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
