/**
 * Tells the chunk worker which `.vmg` files the viewer's layers show, whenever the layer list
 * changes, so its file cache keeps exactly those and may evict the rest (loader.ts).
 */
import type { Viewer } from "neuroglancer/unstable/viewer.js";
import { VMG_FILE_CACHE_RPC_ID } from "./base.js";
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

export function installFileHolds(viewer: Viewer): void {
  const send = () => void viewer.chunkManager.rpc!.promiseInvoke(VMG_FILE_CACHE_RPC_ID, { shown: shownVmgUrls(viewer) }).catch(() => undefined);
  viewer.layerManager.layersChanged.add(send);
  send();
}
