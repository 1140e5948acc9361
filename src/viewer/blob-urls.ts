/**
 * blob: URLs the page makes for `.vmg` bytes shown as layers (a compression result). Each is
 * revoked once a layer has named it and no layer names it any more, so a removed layer does not
 * keep its file's bytes alive for the rest of the page's life.
 */
import type { Viewer } from "neuroglancer/unstable/viewer.js";

export function layerBlobUrl(viewer: Viewer, bytes: Uint8Array, onRevoke: () => void = () => undefined): string {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: "application/octet-stream" }));
  const manager = viewer.layerManager;
  const named = () => manager.managedLayers.some((m) => m.layer?.dataSources.some((d) => d.spec.url.includes(url)));
  let used = false;
  const stop = manager.layersChanged.add(() => {
    if (named()) {
      used = true;
    } else if (used) {
      stop();
      URL.revokeObjectURL(url);
      onRevoke();
    }
  });
  return url;
}
