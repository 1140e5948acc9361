/**
 * Tells the chunk worker which `.vmg` files the viewer's layers show, whenever the layer list
 * changes, so its file cache keeps exactly those and may evict the rest (loader.ts); and releases
 * the page's records (decode statistics, failed chunks) of files and stores no layer shows.
 */
import type { Viewer } from "neuroglancer/unstable/viewer.js";
import { VMG_FILE_CACHE_RPC_ID } from "./base.js";
import { shownSources } from "./shown-records.js";
import { decodeStats, decodeStatsChanged } from "./stats.js";
import { storeChunkFailures, storeChunkFailuresChanged } from "./store-failures.js";
import { zarrStoreUrl } from "./tab/zarr-url.js";
import { parseVmgUrl, VMG_SCHEME } from "./url.js";

export function shownVmgUrls(viewer: Viewer): string[] {
  const prefix = `${VMG_SCHEME}://`;
  const urls = new Set<string>();
  for (const m of viewer.layerManager.managedLayers) {
    for (const d of m.layer?.dataSources ?? []) {
      if (!d.spec.url.startsWith(prefix)) continue;
      try {
        urls.add(parseVmgUrl(d.spec.url.slice(prefix.length), globalThis.location.href).url);
      } catch {
        // a bad source shows its own error on the layer and holds nothing
      }
    }
  }
  return [...urls];
}

/** The zarr stores the viewer's layers show (their http(s) URLs). */
function shownStoreUrls(viewer: Viewer): string[] {
  const urls: string[] = [];
  for (const m of viewer.layerManager.managedLayers) {
    for (const d of m.layer?.dataSources ?? []) {
      const u = zarrStoreUrl(d.spec.url);
      if (u !== undefined) urls.push(u);
    }
  }
  return urls;
}

export function installFileHolds(viewer: Viewer): void {
  const send = () => {
    const files = shownVmgUrls(viewer);
    shownSources.set([...files, ...shownStoreUrls(viewer)]);
    if (shownSources.release(decodeStats)) decodeStatsChanged.dispatch();
    if (shownSources.release(storeChunkFailures)) storeChunkFailuresChanged.dispatch();
    void viewer.chunkManager.rpc!.promiseInvoke(VMG_FILE_CACHE_RPC_ID, { shown: files }).catch(() => undefined);
  };
  viewer.layerManager.layersChanged.add(send);
  send();
}
